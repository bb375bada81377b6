// Package chocolatey reads Chocolatey package metadata: a package's .nuspec
// manifest and the NuGet OData v2 Atom feed a Chocolatey repository serves
// (https://community.chocolatey.org/api/v2/Packages()).
//
// Each package version is one patchcore.Patch: ID "chocolatey:firefox@123.0"
// (Chocolatey ids are case-insensitive; the id is lower-cased in ID and
// Package), Source "chocolatey", Vendor the authors, Products the package
// title, Classification other (a repository does not say whether a version
// fixes vulnerabilities), and one Fix with Ecosystem chocolatey, Package the
// id, FixedVersion the version and Scheme "dotted" ("semver" for a
// prerelease version such as "1.2.0-beta"). From the OData feed, the Fix's
// Installer is the .nupkg download (Type "nupkg", URL, Size, SHA256 when the
// feed publishes a SHA-256 hash; other hashes are kept in
// Attributes["package_hash_sha512"]) and Released is the publication date.
package chocolatey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Source is the Patch.Source of Chocolatey patches.
const Source = "chocolatey"

// MaxDepth bounds element nesting; nuspec and OData entries nest four deep.
const MaxDepth = 32

// Format reads both a .nuspec manifest and an OData v2 Atom feed,
// recognising which by the root element.
type Format struct{}

var _ feed.Format = Format{}

// Name returns "chocolatey".
func (Format) Name() string { return Source }

// Detect reports a nuspec manifest or a NuGet OData feed. A nuspec is
// recognised by its nuspec namespace or, since many Chocolatey packages
// declare none, by a <package> root element whose first child is
// <metadata>.
func (Format) Detect(head []byte) bool {
	return bytes.Contains(head, []byte("schemas.microsoft.com/packaging/")) && bytes.Contains(head, []byte("nuspec")) ||
		bytes.Contains(head, []byte("http://www.w3.org/2005/Atom")) && bytes.Contains(head, []byte("schemas.microsoft.com/ado/2007/08/dataservices")) ||
		bareNuspec(head)
}

// bareNuspec reports a head whose root element is <package> and whose
// first child element is <metadata>, without namespaces.
func bareNuspec(head []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(head))
	d.Strict = false
	var names []string
	for len(names) < 2 {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			names = append(names, t.Name.Local)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return false
			}
		case xml.EndElement:
			return false
		}
	}
	return names[0] == "package" && names[1] == "metadata"
}

type nuspec struct {
	Metadata struct {
		ID           string `xml:"id"`
		Version      string `xml:"version"`
		Title        string `xml:"title"`
		Authors      string `xml:"authors"`
		Summary      string `xml:"summary"`
		Description  string `xml:"description"`
		ProjectURL   string `xml:"projectUrl"`
		ReleaseNotes string `xml:"releaseNotes"`
	} `xml:"metadata"`
}

type odataEntry struct {
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Summary string `xml:"summary"`
	Updated string `xml:"updated"`
	Author  string `xml:"author>name"`
	Content struct {
		Src string `xml:"src,attr"`
	} `xml:"content"`
	Props struct {
		ID            string `xml:"Id"`
		Version       string `xml:"Version"`
		Title         string `xml:"Title"`
		Summary       string `xml:"Summary"`
		Description   string `xml:"Description"`
		Published     string `xml:"Published"`
		LastUpdated   string `xml:"LastUpdated"`
		IsPrerelease  string `xml:"IsPrerelease"`
		PackageHash   string `xml:"PackageHash"`
		HashAlgorithm string `xml:"PackageHashAlgorithm"`
		PackageSize   string `xml:"PackageSize"`
		ProjectURL    string `xml:"ProjectUrl"`
		ReleaseNotes  string `xml:"ReleaseNotes"`
	} `xml:"properties"`
}

// Parse reads a nuspec (one patch) or an OData feed (one patch per entry,
// streamed).
func (Format) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	x := stream.NewXML(r, MaxDepth)
	d := x.Decoder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return &feed.ParseError{Err: fmt.Errorf("no root element: %w", patchcore.ErrMalformedFeed)}
		}
		if err != nil {
			return x.Error("", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		var perr error
		switch start.Name.Local {
		case "package":
			perr = parseNuspec(x, start, emit)
		case "feed":
			perr = parseOData(ctx, x, emit)
		default:
			return x.Error(start.Name.Local, fmt.Errorf("root element is <%s>, want <package> or <feed>", start.Name.Local))
		}
		if perr != nil {
			return perr
		}
		return trailing(x)
	}
}

// trailing checks nothing but white space, comments and processing
// instructions follow the root element.
func trailing(x *stream.XML) error {
	d := x.Decoder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return x.Error("", err)
		}
		if _, ok := tok.(xml.StartElement); ok {
			return x.Error("", fmt.Errorf("second root element"))
		}
	}
}

func parseNuspec(x *stream.XML, start xml.StartElement, emit func(patchcore.Patch) error) error {
	d := x.Decoder
	var n nuspec
	if err := d.DecodeElement(&n, &start); err != nil {
		return x.Error("package", err)
	}
	m := n.Metadata
	p, err := build(m.ID, m.Version, m.Title, m.Authors, m.Summary, m.Description)
	if err != nil {
		return x.Error("package/metadata", err)
	}
	for _, u := range []string{m.ProjectURL, m.ReleaseNotes} {
		if strings.HasPrefix(u, "http") {
			p.References = append(p.References, strings.TrimSpace(u))
		}
	}
	return emit(p)
}

func parseOData(ctx context.Context, x *stream.XML, emit func(patchcore.Patch) error) error {
	d := x.Decoder
	n := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return x.Error("feed", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil // </feed>
		case xml.StartElement:
			if t.Name.Local != "entry" {
				if err := x.Skip(t.Name.Local); err != nil {
					return err
				}
				continue
			}
			n++
			if err := ctx.Err(); err != nil {
				return err
			}
			field := fmt.Sprintf("feed/entry[%d]", n)
			var e odataEntry
			if err := d.DecodeElement(&e, &t); err != nil {
				return x.Error(field, err)
			}
			p, err := fromEntry(&e)
			if err != nil {
				return x.Error(field, err)
			}
			if err := emit(p); err != nil {
				return err
			}
		}
	}
}

func fromEntry(e *odataEntry) (patchcore.Patch, error) {
	id := e.Props.ID
	if id == "" {
		id = e.Title
	}
	if id == "" {
		// Packages(Id='firefox',Version='123.0')
		if i := strings.Index(e.ID, "Id='"); i >= 0 {
			rest := e.ID[i+4:]
			if j := strings.IndexByte(rest, '\''); j >= 0 {
				id = rest[:j]
			}
		}
	}
	title := e.Props.Title
	summary := e.Props.Summary
	if summary == "" {
		summary = e.Summary
	}
	p, err := build(id, e.Props.Version, title, e.Author, summary, e.Props.Description)
	if err != nil {
		return p, err
	}
	p.Released = parseTime(e.Props.Published)
	p.Revised = parseTime(e.Props.LastUpdated)
	if p.Revised.IsZero() {
		p.Revised = parseTime(e.Updated)
	}
	for _, u := range []string{e.Props.ProjectURL, e.Props.ReleaseNotes} {
		if u = strings.TrimSpace(u); strings.HasPrefix(u, "http") {
			p.References = append(p.References, u)
		}
	}
	if src := strings.TrimSpace(e.Content.Src); src != "" {
		inst := &patchcore.Installer{URL: src, Type: "nupkg"}
		if s := strings.TrimSpace(e.Props.PackageSize); s != "" {
			size, err := strconv.ParseInt(s, 10, 64)
			if err != nil || size < 0 {
				return p, fmt.Errorf("PackageSize %q is not a size: %w", s, patchcore.ErrMalformedFeed)
			}
			inst.Size = size
		}
		if h := strings.TrimSpace(e.Props.PackageHash); h != "" {
			raw, err := base64.StdEncoding.DecodeString(h)
			if err != nil {
				return p, fmt.Errorf("PackageHash is not base64: %w: %w", patchcore.ErrMalformedFeed, err)
			}
			switch strings.ToUpper(e.Props.HashAlgorithm) {
			case "SHA256":
				if len(raw) != 32 {
					return p, fmt.Errorf("SHA256 PackageHash has %d bytes: %w", len(raw), patchcore.ErrMalformedFeed)
				}
				inst.SHA256 = hex.EncodeToString(raw)
			default:
				p.Fixes[0].Attributes = map[string]string{"package_hash_" + strings.ToLower(e.Props.HashAlgorithm): hex.EncodeToString(raw)}
			}
		}
		p.Fixes[0].Installer = inst
	}
	return p, nil
}

// build makes the patch of one package version.
func build(id, ver, title, authors, summary, description string) (patchcore.Patch, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	ver = strings.TrimSpace(ver)
	if id == "" {
		return patchcore.Patch{}, fmt.Errorf("package id missing: %w", patchcore.ErrMalformedFeed)
	}
	if ver == "" || len(ver) > 128 || strings.ContainsAny(ver, " \t\n/@") {
		return patchcore.Patch{}, fmt.Errorf("package %s: version %q is not a version: %w", id, ver, patchcore.ErrMalformedFeed)
	}
	if len(id) > 256 || strings.ContainsAny(id, " \t\n/@") {
		return patchcore.Patch{}, fmt.Errorf("package id %q is not an id: %w", id, patchcore.ErrMalformedFeed)
	}
	title = strings.TrimSpace(title)
	p := patchcore.Patch{
		ID:             Source + ":" + id + "@" + ver,
		Source:         Source,
		Vendor:         strings.TrimSpace(authors),
		Title:          strings.TrimSpace(title + " " + ver),
		Description:    strings.TrimSpace(summary),
		Classification: patchcore.ClassOther,
	}
	if title != "" {
		p.Products = []string{title}
	} else {
		p.Title = id + " " + ver
	}
	if p.Description == "" {
		p.Description = strings.TrimSpace(description)
	}
	scheme := "dotted"
	if strings.Contains(ver, "-") {
		scheme = "semver"
	}
	p.Fixes = []patchcore.Fix{{
		Distro:       "windows",
		Ecosystem:    patchcore.EcosystemChocolatey,
		Package:      id,
		FixedVersion: ver,
		Scheme:       scheme,
	}}
	return p, nil
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() <= 1900 { // OData's "no date" is 1900-01-01
				return time.Time{}
			}
			return t.UTC()
		}
	}
	return time.Time{}
}
