package debian

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Tracker reads the Debian security tracker JSON
// (https://security-tracker.debian.org/tracker/data/json); its zero value,
// Tracker{}, is ready to use. The document is an object keyed by source
// package, then by CVE (or TEMP-) identifier, whose "releases" object is
// keyed by release codename.
//
// Each (source package, CVE) pair becomes one patchcore.Patch whose ID is the
// CVE identifier, with one Fix per release codename: Distro "debian",
// Release the codename, Package the SOURCE package name (PackageKind
// source), Scheme "deb". A CVE that touches several source packages is
// emitted once per package with the same ID; feed.Catalog merges them into
// one patch. Statuses: "fixed_version" "0" is FixNotAffected, "resolved"
// with a version is FixFixed, "open" or "undetermined" without a version is
// FixUnfixed, and the urgency "end-of-life" is FixWontFix. The urgency of
// each release ("low**" loses its stars) is the Fix's Severity; the patch's
// Severity is the highest of them.
type Tracker struct {
	// File names the document in errors; by default the reader's Name().
	File string
}

// Name returns "debian-tracker".
func (Tracker) Name() string { return "debian-tracker" }

// Detect reports whether head looks like tracker JSON: an object whose
// values carry "releases" with "status" entries and no CSAF "document".
func (Tracker) Detect(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	return bytes.Contains(h, []byte(`"releases"`)) && bytes.Contains(h, []byte(`"status"`)) &&
		!bytes.Contains(h, []byte(`"document"`)) && !bytes.Contains(h, []byte(`"schema_version"`))
}

// trackerCVE is one CVE entry of a source package.
type trackerCVE struct {
	Scope       string      `json:"scope"`
	DebianBug   json.Number `json:"debianbug"`
	Description string      `json:"description"`
	// Releases is keyed by codename. The tracker writes an empty array
	// instead of an empty object for entries without releases; see Parse.
	Releases map[string]trackerRelease `json:"releases"`
}

type trackerRelease struct {
	Status       string `json:"status"`
	FixedVersion string `json:"fixed_version"`
	Urgency      string `json:"urgency"`
	NoDSA        string `json:"nodsa"`
	NoDSAReason  string `json:"nodsa_reason"`
}

// Parse reads a tracker document and emits a patch per (source package, CVE).
func (t Tracker) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	file := stream.FileName(r, t.File)
	dec := json.NewDecoder(r)
	dec.UseNumber()
	fail := func(field string, err error) error {
		return jsonError(file, dec, field, err)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return fail("", err)
	}
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return err
		}
		pkg, err := stringToken(dec)
		if err != nil {
			return fail("", err)
		}
		if err := expectDelim(dec, '{'); err != nil {
			return fail(pkg, err)
		}
		for dec.More() {
			id, err := stringToken(dec)
			if err != nil {
				return fail(pkg, err)
			}
			var c trackerCVE
			if err := dec.Decode(&c); err != nil && !releasesArray(err) {
				return fail(pkg+"/"+id, err)
			}
			p, err := trackerPatch(pkg, id, &c)
			if err != nil {
				return fail(pkg+"/"+id, err)
			}
			if err := emit(p); err != nil {
				return err
			}
		}
		if err := expectDelim(dec, '}'); err != nil {
			return fail(pkg, err)
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("", stream.Malformedf("data after the top-level object"))
	}
	return nil
}

// releasesArray reports whether err is only the type error of a "releases"
// array, which the tracker writes (always empty) for entries without
// releases; encoding/json has decoded everything else by then.
func releasesArray(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && te.Field == "releases" && te.Value == "array"
}

func trackerPatch(pkg, id string, c *trackerCVE) (patchcore.Patch, error) {
	if pkg == "" || id == "" {
		return patchcore.Patch{}, stream.Malformedf("empty package or vulnerability name")
	}
	p := patchcore.Patch{
		ID:             id,
		Source:         "debian-tracker",
		Vendor:         "Debian",
		Description:    c.Description,
		Classification: patchcore.ClassSecurity,
		References:     []string{"https://security-tracker.debian.org/tracker/" + id},
	}
	if strings.HasPrefix(id, "CVE-") {
		p.CVEs = []patchcore.CVE{{ID: id}}
	}
	if bug := c.DebianBug.String(); bug != "" && bug != "0" {
		p.References = append(p.References, "https://bugs.debian.org/"+bug)
	}
	releases := make([]string, 0, len(c.Releases))
	for k := range c.Releases {
		releases = append(releases, k)
	}
	slices.Sort(releases)
	p.Fixes = make([]patchcore.Fix, 0, len(releases))
	for _, rel := range releases {
		r := c.Releases[rel]
		f := patchcore.Fix{
			Distro:      "debian",
			Release:     rel,
			Ecosystem:   patchcore.EcosystemDeb,
			Package:     pkg,
			PackageKind: patchcore.PackageSource,
			Scheme:      "deb",
		}
		urgency := strings.TrimRight(r.Urgency, "*")
		if urgency != "" && urgency != "not yet assigned" {
			f.Severity = patchcore.ParseSeverity(urgency)
		}
		switch {
		case r.FixedVersion == "0":
			f.Status = patchcore.FixNotAffected
		case urgency == "end-of-life":
			f.Status = patchcore.FixWontFix
		case r.FixedVersion != "" && r.Status != "open":
			f.FixedVersion = r.FixedVersion
		case r.Status == "open" || r.Status == "undetermined" || r.FixedVersion == "":
			f.Status = patchcore.FixUnfixed
			f.FixedVersion = r.FixedVersion
		}
		attrs := map[string]string{}
		if c.Scope != "" {
			attrs["scope"] = c.Scope
		}
		if r.NoDSA != "" {
			attrs["nodsa"] = r.NoDSA
		}
		if r.NoDSAReason != "" {
			attrs["nodsa_reason"] = r.NoDSAReason
		}
		if len(attrs) > 0 {
			f.Attributes = attrs
		}
		if f.Severity.Compare(p.Severity) > 0 {
			p.Severity = f.Severity
		}
		p.Fixes = append(p.Fixes, f)
	}
	return p, nil
}

// expectDelim reads one token and checks it is the delimiter d.
func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("unexpected end of document, want %q: %w", d, patchcore.ErrMalformedFeed)
		}
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return stream.Malformedf("got %v, want %q", tok, d)
	}
	return nil
}

// stringToken reads an object key.
func stringToken(dec *json.Decoder) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return "", fmt.Errorf("unexpected end of document: %w", patchcore.ErrMalformedFeed)
		}
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", stream.Malformedf("got %v, want an object key", tok)
	}
	return s, nil
}
