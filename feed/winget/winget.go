// Package winget reads Windows Package Manager manifests
// (https://github.com/microsoft/winget-pkgs): the version, installer and
// locale YAML files of one package version, or a singleton manifest.
//
// Each (PackageIdentifier, PackageVersion) is one patchcore.Patch: ID
// "winget:7zip.7zip@24.09", Source "winget", Vendor the Publisher, Products
// and Title from PackageName, Released the ReleaseDate, Classification
// other. Every installer is a Fix: Distro "windows", Ecosystem winget,
// Package the identifier (winget compares identifiers case-insensitively;
// they are kept as published), FixedVersion the version, Scheme "dotted"
// (or "semver" for a version that is not purely numeric), Arch the
// installer architecture, and Installer with the URL, lower-case SHA-256,
// ProductCode, InstallerType, silent switches and scope; root-level
// defaults apply where an installer leaves a field out.
//
// Parse takes one YAML stream: a single manifest, or several separated by
// "---" (the three files of a version concatenated). ParseDir reads the
// files of a version directory.
package winget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// Source is the Patch.Source of winget patches.
const Source = "winget"

// MaxBytes bounds one YAML stream; real manifests are a few kilobytes.
const MaxBytes = 1 << 20

// Format is the feed.Format of winget manifests.
type Format struct{}

var _ feed.Format = Format{}

// Name returns "winget".
func (Format) Name() string { return Source }

// Detect reports a winget manifest.
func (Format) Detect(head []byte) bool {
	return bytes.Contains(head, []byte("PackageIdentifier:")) &&
		(bytes.Contains(head, []byte("ManifestType:")) || bytes.Contains(head, []byte("winget-manifest")))
}

type switches struct {
	Silent             string `yaml:"Silent"`
	SilentWithProgress string `yaml:"SilentWithProgress"`
}

type installer struct {
	Architecture      string    `yaml:"Architecture"`
	InstallerType     string    `yaml:"InstallerType"`
	InstallerURL      string    `yaml:"InstallerUrl"`
	InstallerSha256   string    `yaml:"InstallerSha256"`
	Scope             string    `yaml:"Scope"`
	ProductCode       string    `yaml:"ProductCode"`
	ReleaseDate       string    `yaml:"ReleaseDate"`
	InstallerSwitches *switches `yaml:"InstallerSwitches"`
	AppsAndFeatures   []struct {
		ProductCode string `yaml:"ProductCode"`
	} `yaml:"AppsAndFeaturesEntries"`
}

// manifest is the union of the fields patchcore reads from every manifest type.
type manifest struct {
	PackageIdentifier string `yaml:"PackageIdentifier"`
	PackageVersion    string `yaml:"PackageVersion"`
	ManifestType      string `yaml:"ManifestType"`
	// installer manifest (root-level defaults and installers)
	installer  `yaml:",inline"`
	Installers []installer `yaml:"Installers"`
	// locale manifests
	PackageLocale    string `yaml:"PackageLocale"`
	Publisher        string `yaml:"Publisher"`
	PackageName      string `yaml:"PackageName"`
	ShortDescription string `yaml:"ShortDescription"`
	PackageURL       string `yaml:"PackageUrl"`
	ReleaseNotesURL  string `yaml:"ReleaseNotesUrl"`
	// version manifest
	DefaultLocale string `yaml:"DefaultLocale"`
}

// Parse reads a YAML stream of manifests and emits one patch per package
// version, in order of first appearance, once the stream is read.
func (Format) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	dec := yaml.NewDecoder(lr)
	var order []string
	groups := map[string][]manifest{}
	lines := map[string]int{}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var n yaml.Node
		err := dec.Decode(&n)
		if lr.N <= 0 {
			return &feed.ParseError{Offset: MaxBytes, Err: fmt.Errorf("YAML stream exceeds %d bytes: %w", MaxBytes, patchcore.ErrTooLarge)}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return yamlError(i, MaxBytes+1-lr.N, err)
		}
		var m manifest
		if err := n.Decode(&m); err != nil {
			return yamlError(i, MaxBytes+1-lr.N, err)
		}
		if len(n.Content) == 0 || n.Content[0].ShortTag() == "!!null" || (n.Content[0].Kind == yaml.MappingNode && len(n.Content[0].Content) == 0) {
			continue // an empty document between separators
		}
		if m.PackageIdentifier == "" || m.PackageVersion == "" {
			return &feed.ParseError{Line: n.Line, Column: n.Column, Field: fmt.Sprintf("document[%d]", i),
				Err: fmt.Errorf("PackageIdentifier or PackageVersion missing: %w", patchcore.ErrMalformedFeed)}
		}
		key := m.PackageIdentifier + "@" + m.PackageVersion
		if _, ok := groups[key]; !ok {
			order = append(order, key)
			lines[key] = n.Line
		}
		groups[key] = append(groups[key], m)
	}
	if len(order) == 0 {
		return &feed.ParseError{Offset: MaxBytes + 1 - lr.N, Err: fmt.Errorf("no manifest: %w", patchcore.ErrMalformedFeed)}
	}
	for _, key := range order {
		p, err := build(groups[key])
		if err != nil {
			return &feed.ParseError{Line: lines[key], Field: key, Err: err}
		}
		if err := emit(p); err != nil {
			return err
		}
	}
	return nil
}

// ParseDir reads every .yaml file of a manifest version directory
// (manifests/7/7zip/7zip/24.09) as one stream.
func ParseDir(ctx context.Context, dir string, emit func(patchcore.Patch) error) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: no .yaml manifests: %w", dir, patchcore.ErrNotFound)
	}
	slices.Sort(names)
	var readers []io.Reader
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return err
		}
		defer f.Close()
		readers = append(readers, f, strings.NewReader("\n---\n"))
	}
	err = Format{}.Parse(ctx, io.MultiReader(readers...), emit)
	var pe *feed.ParseError
	if errors.As(err, &pe) && pe.File == "" {
		pe.File = dir
	}
	return err
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// yamlError locates a yaml.v3 error: the line its message names, otherwise
// the number of bytes read so far (the error lies before that offset).
func yamlError(doc int, read int64, err error) error {
	pe := &feed.ParseError{Field: fmt.Sprintf("document[%d]", doc), Err: fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err)}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
	} else {
		pe.Offset = read
	}
	if strings.Contains(err.Error(), "excessive aliasing") || strings.Contains(err.Error(), "max depth") {
		pe.Err = fmt.Errorf("%w: %w", patchcore.ErrTooLarge, err)
	}
	return pe
}

func build(ms []manifest) (patchcore.Patch, error) {
	id, ver := ms[0].PackageIdentifier, ms[0].PackageVersion
	p := patchcore.Patch{
		ID:             Source + ":" + id + "@" + ver,
		Source:         Source,
		Classification: patchcore.ClassOther,
	}
	var root manifest
	var installers []installer
	var locale, defLocale manifest
	for _, m := range ms {
		switch strings.ToLower(m.ManifestType) {
		case "installer", "singleton", "merged":
			root = m
			installers = append(installers, m.Installers...)
			if m.ManifestType != "installer" {
				locale = m
			}
		case "defaultlocale":
			defLocale = m
		case "locale":
			if locale.PackageName == "" {
				locale = m
			}
		case "version":
		default:
			return p, fmt.Errorf("ManifestType %q unknown: %w", m.ManifestType, patchcore.ErrMalformedFeed)
		}
	}
	if defLocale.PackageName != "" || defLocale.Publisher != "" {
		locale = defLocale
	}
	p.Vendor = strings.TrimSpace(locale.Publisher)
	name := strings.TrimSpace(locale.PackageName)
	if name != "" {
		p.Products = []string{name}
		p.Title = name + " " + ver
	} else {
		p.Title = id + " " + ver
	}
	p.Description = strings.TrimSpace(locale.ShortDescription)
	for _, u := range []string{locale.ReleaseNotesURL, locale.PackageURL} {
		if u != "" {
			p.References = append(p.References, u)
		}
	}
	scheme := "dotted"
	if strings.Trim(ver, "0123456789.") != "" {
		scheme = "semver"
	}
	released := root.ReleaseDate
	for i, in := range installers {
		in = inherit(in, root.installer)
		if in.InstallerURL == "" {
			return p, fmt.Errorf("in Installers[%d]: InstallerUrl missing: %w", i, patchcore.ErrMalformedFeed)
		}
		sha := strings.ToLower(strings.TrimSpace(in.InstallerSha256))
		if sha != "" && (len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "") {
			return p, fmt.Errorf("in Installers[%d]: InstallerSha256 %q is not a SHA-256: %w", i, in.InstallerSha256, patchcore.ErrMalformedFeed)
		}
		if released == "" {
			released = in.ReleaseDate
		}
		inst := &patchcore.Installer{
			URL: in.InstallerURL, SHA256: sha, Type: in.InstallerType, ProductCode: in.ProductCode,
			Arch: in.Architecture, Scope: in.Scope,
		}
		if in.InstallerSwitches != nil {
			inst.Switches = in.InstallerSwitches.Silent
		}
		p.Fixes = append(p.Fixes, patchcore.Fix{
			Distro: "windows", Ecosystem: patchcore.EcosystemWinget, Package: id, FixedVersion: ver,
			Scheme: scheme, Arch: in.Architecture, Installer: inst,
		})
	}
	if len(p.Fixes) == 0 {
		// A version or locale manifest alone still names the version.
		p.Fixes = []patchcore.Fix{{Distro: "windows", Ecosystem: patchcore.EcosystemWinget, Package: id, FixedVersion: ver, Scheme: scheme}}
	}
	if released != "" {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(released))
		if err != nil {
			return p, fmt.Errorf("ReleaseDate %q: %w: %w", released, patchcore.ErrMalformedFeed, err)
		}
		p.Released = t
	}
	return p, nil
}

// inherit fills an installer's missing fields from the manifest's root-level defaults.
func inherit(in, root installer) installer {
	if in.InstallerType == "" {
		in.InstallerType = root.InstallerType
	}
	if in.Scope == "" {
		in.Scope = root.Scope
	}
	if in.ProductCode == "" {
		in.ProductCode = root.ProductCode
	}
	if in.ProductCode == "" {
		for _, a := range in.AppsAndFeatures {
			if a.ProductCode != "" {
				in.ProductCode = a.ProductCode
				break
			}
		}
	}
	if in.InstallerSwitches == nil || in.InstallerSwitches.Silent == "" {
		if root.InstallerSwitches != nil && root.InstallerSwitches.Silent != "" {
			in.InstallerSwitches = root.InstallerSwitches
		}
	}
	if in.ReleaseDate == "" {
		in.ReleaseDate = root.ReleaseDate
	}
	return in
}
