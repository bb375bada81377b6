package updateinfo

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Reader reads updateinfo.xml documents, plain or compressed (see the
// package documentation for the mapping). Its zero value, Reader{}, is ready
// to use.
type Reader struct {
	// File names the document in errors; by default the reader's Name().
	File string
	// Distro and Release, when set, override what the parser derives from
	// advisory IDs, <release> and dist tags (for repositories of other
	// distributions).
	Distro, Release string
}

// Name returns "updateinfo".
func (Reader) Name() string { return "updateinfo" }

// Detect reports whether head is the start of an updateinfo document.
func (Reader) Detect(head []byte) bool {
	h := skipProlog(head)
	return bytes.HasPrefix(h, []byte("<updates")) && (len(h) == 8 || h[8] == '>' || h[8] == ' ' || h[8] == '\n' || h[8] == '\r' || h[8] == '\t' || h[8] == '/')
}

// skipProlog skips a BOM, the XML declaration, comments and white space.
func skipProlog(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	for {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return nil
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b, []byte("-->"))
			if i < 0 {
				return nil
			}
			b = b[i+3:]
		default:
			return b
		}
	}
}

// Update is one <update> element.
type Update struct {
	From    string `xml:"from,attr"`
	Status  string `xml:"status,attr"`
	Type    string `xml:"type,attr"`
	Version string `xml:"version,attr"`
	ID      string `xml:"id"`
	Title   string `xml:"title"`
	Issued  struct {
		Date string `xml:"date,attr"`
	} `xml:"issued"`
	Updated struct {
		Date string `xml:"date,attr"`
	} `xml:"updated"`
	Release     string      `xml:"release"`
	Severity    string      `xml:"severity"`
	Summary     string      `xml:"summary"`
	Description string      `xml:"description"`
	References  []Reference `xml:"references>reference"`
	Collections []struct {
		Short  string `xml:"short,attr"`
		Name   string `xml:"name"`
		Module *struct {
			Name    string `xml:"name,attr"`
			Stream  string `xml:"stream,attr"`
			Version string `xml:"version,attr"`
			Context string `xml:"context,attr"`
			Arch    string `xml:"arch,attr"`
		} `xml:"module"`
		Packages []Package `xml:"package"`
	} `xml:"pkglist>collection"`
	RebootSuggested string `xml:"reboot_suggested"`
}

// Reference is a <reference> of an update.
type Reference struct {
	Href  string `xml:"href,attr"`
	ID    string `xml:"id,attr"`
	Type  string `xml:"type,attr"`
	Title string `xml:"title,attr"`
}

// Package is a <package> of a collection.
type Package struct {
	Name            string `xml:"name,attr"`
	Version         string `xml:"version,attr"`
	Release         string `xml:"release,attr"`
	Epoch           string `xml:"epoch,attr"`
	Arch            string `xml:"arch,attr"`
	Src             string `xml:"src,attr"`
	Filename        string `xml:"filename"`
	RebootSuggested string `xml:"reboot_suggested"`
}

// Parse reads an updateinfo document and emits a patch per <update>.
func (u Reader) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	return u.ReadUpdates(ctx, r, func(up *Update) error {
		p, err := u.Patch(up)
		if err != nil {
			return err
		}
		return emit(p)
	})
}

// ReadUpdates reads an updateinfo document, plain or compressed, and calls
// fn with each <update> as published. An error from fn stops reading and is
// returned as is.
func (u Reader) ReadUpdates(ctx context.Context, r io.Reader, fn func(*Update) error) error {
	file := stream.FileName(r, u.File)
	body, closeFn, err := decompress(r)
	defer closeFn()
	dec := xml.NewDecoder(body)
	if err != nil {
		return xmlError(file, dec, "", err)
	}
	depth, root, n := 0, false, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !root {
				return xmlError(file, dec, "updates", stream.Malformedf("no <updates> element"))
			}
			if depth != 0 {
				return xmlError(file, dec, "updates", io.ErrUnexpectedEOF)
			}
			return nil
		}
		if err != nil {
			return xmlError(file, dec, "", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if t.Name.Local != "updates" || root {
					return xmlError(file, dec, t.Name.Local, stream.Malformedf("root element <%s>, want <updates>", t.Name.Local))
				}
				root = true
			}
			if depth == 1 && t.Name.Local == "update" {
				n++
				if n%256 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				var up Update
				if err := dec.DecodeElement(&up, &t); err != nil {
					return xmlError(file, dec, "update["+strconv.Itoa(n)+"]", err)
				}
				if up.ID == "" {
					return xmlError(file, dec, "update["+strconv.Itoa(n)+"]/id", stream.Malformedf("update without id"))
				}
				if err := fn(&up); err != nil {
					if pe := asFieldError(err); pe != nil {
						return xmlError(file, dec, "update["+strconv.Itoa(n)+"] "+up.ID+"/"+pe.field, pe.err)
					}
					return err
				}
				continue
			}
			depth++
			if depth > maxDepth {
				return xmlError(file, dec, t.Name.Local, stream.Malformedf("elements nested deeper than %d", maxDepth))
			}
		case xml.EndElement:
			depth--
		}
	}
}

// fieldError is a mapping problem in one field of a decoded element.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func asFieldError(err error) *fieldError {
	fe, _ := err.(*fieldError)
	return fe
}

// Patch maps one update to a patch (see the package documentation).
func (u Reader) Patch(up *Update) (patchcore.Patch, error) {
	p := patchcore.Patch{
		ID:             strings.TrimSpace(up.ID),
		Source:         "updateinfo",
		Vendor:         vendorFor(up.ID, up.From),
		Title:          strings.TrimSpace(up.Title),
		Description:    strings.TrimSpace(up.Description),
		Classification: classify(up.Type),
	}
	if up.Severity != "" {
		p.Severity = patchcore.ParseSeverity(up.Severity)
	}
	var err error
	if p.Released, err = parseDate(up.Issued.Date); err != nil {
		return p, &fieldError{"issued/@date", err}
	}
	if p.Revised, err = parseDate(up.Updated.Date); err != nil {
		return p, &fieldError{"updated/@date", err}
	}
	for _, ref := range up.References {
		if strings.EqualFold(ref.Type, "cve") && ref.ID != "" {
			addCVE(&p, ref.ID)
		}
		if ref.Href != "" {
			p.References = appendOnce(p.References, ref.Href)
		}
	}
	distro, release := u.Distro, u.Release
	if distro == "" || release == "" {
		d, r := platformFromID(p.ID)
		if distro == "" {
			distro = d
		}
		if release == "" {
			release = r
		}
	}
	if release == "" {
		if m := majorFrom(up.Release); m != "0" {
			release = m
		}
	}
	rebootAll := truthy(up.RebootSuggested)
	seen := map[fixKey]bool{}
	for _, c := range up.Collections {
		stream := ""
		if c.Module != nil && c.Module.Name != "" {
			stream = c.Module.Name + ":" + c.Module.Stream
		}
		for _, pkg := range c.Packages {
			f, ok := packageFix(pkg, distro, release, stream)
			if !ok {
				continue
			}
			if rebootAll || truthy(pkg.RebootSuggested) {
				f.Reboot = patchcore.RebootRequired
			}
			k := fixKey{f.Release, f.Package, f.Arch, f.ModuleStream, f.FixedVersion}
			if seen[k] {
				continue
			}
			seen[k] = true
			p.Fixes = append(p.Fixes, f)
		}
	}
	if rebootAll {
		p.Reboot = patchcore.RebootRequired
	}
	return p, nil
}

type fixKey struct{ release, pkg, arch, stream, version string }

// packageFix maps one binary package; ok is false for source rpms and
// nameless entries.
func packageFix(pkg Package, distro, release, stream string) (patchcore.Fix, bool) {
	if pkg.Name == "" || pkg.Arch == "src" || pkg.Arch == "nosrc" {
		return patchcore.Fix{}, false
	}
	if release == "" {
		release = releaseFromDist(pkg.Release)
	}
	if distro == "" {
		distro = distroFromDist(pkg.Release)
	}
	v := pkg.Version
	if pkg.Release != "" {
		v += "-" + pkg.Release
	}
	if pkg.Epoch != "" {
		v = pkg.Epoch + ":" + v
	}
	return patchcore.Fix{
		Distro:       distro,
		Release:      release,
		Ecosystem:    patchcore.EcosystemRPM,
		Package:      pkg.Name,
		PackageKind:  patchcore.PackageBinary,
		Arch:         pkg.Arch,
		ModuleStream: stream,
		Scheme:       "rpm",
		FixedVersion: v,
	}, true
}

func addCVE(p *patchcore.Patch, id string) {
	for _, c := range p.CVEs {
		if c.ID == id {
			return
		}
	}
	p.CVEs = append(p.CVEs, patchcore.CVE{ID: id})
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// classify maps an update type to a classification.
func classify(t string) patchcore.Classification {
	switch strings.ToLower(t) {
	case "security":
		return patchcore.ClassSecurity
	case "bugfix", "recommended":
		return patchcore.ClassBugfix
	case "enhancement", "feature", "newpackage":
		return patchcore.ClassEnhancement
	}
	return patchcore.ClassOther
}

var dateLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", time.RFC3339,
	"2006-01-02T15:04:05", "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05.999999",
}

// parseDate reads the date forms repositories write; "" is the zero time.
// Times without a zone are UTC.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Unix(n, 0).UTC(), nil // SUSE and some Fedora tools write seconds
	}
	return time.Time{}, stream.Malformedf("unrecognised date %q", truncate(s))
}

var (
	reAmazon   = regexp.MustCompile(`^ALAS(2023|2022|2)?(?:[A-Z0-9]*)?-`)
	reMajor    = regexp.MustCompile(`(\d+)(?:\.\d+)*\s*$`)
	reDistEL   = regexp.MustCompile(`\.(?:module[+_])?el(\d+)`)
	reDistFC   = regexp.MustCompile(`\.fc(\d+)`)
	reDistAmzn = regexp.MustCompile(`\.amzn(\d+)`)
)

// platformFromID derives the distribution (and for Amazon Linux the
// release) from an advisory ID's prefix.
func platformFromID(id string) (distro, release string) {
	switch {
	case strings.HasPrefix(id, "ALAS"):
		m := reAmazon.FindStringSubmatch(id)
		if m == nil {
			return "amzn", ""
		}
		if m[1] == "" {
			return "amzn", "1"
		}
		return "amzn", m[1]
	case strings.HasPrefix(id, "RLSA-"), strings.HasPrefix(id, "RLBA-"), strings.HasPrefix(id, "RLEA-"):
		return "rocky", ""
	case strings.HasPrefix(id, "ALSA-"), strings.HasPrefix(id, "ALBA-"), strings.HasPrefix(id, "ALEA-"):
		return "almalinux", ""
	case strings.HasPrefix(id, "RHSA-"), strings.HasPrefix(id, "RHBA-"), strings.HasPrefix(id, "RHEA-"):
		return "rhel", ""
	case strings.HasPrefix(id, "ELSA-"), strings.HasPrefix(id, "ELBA-"), strings.HasPrefix(id, "ELEA-"):
		return "ol", ""
	case strings.HasPrefix(id, "CESA-"), strings.HasPrefix(id, "CEBA-"), strings.HasPrefix(id, "CEEA-"):
		return "centos", ""
	case strings.HasPrefix(id, "FEDORA-EPEL"):
		return "epel", ""
	case strings.HasPrefix(id, "FEDORA-"):
		return "fedora", ""
	}
	return "", ""
}

// majorFrom takes the major version from a release name ("Rocky Linux 8" -> "8").
func majorFrom(s string) string {
	m := reMajor.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ""
	}
	return m[1]
}

// releaseFromDist takes the release from a package's dist tag ("7.el8_4" -> "8").
func releaseFromDist(rel string) string {
	for _, re := range []*regexp.Regexp{reDistEL, reDistFC, reDistAmzn} {
		if m := re.FindStringSubmatch(rel); m != nil {
			return m[1]
		}
	}
	return ""
}

func distroFromDist(rel string) string {
	switch {
	case reDistFC.MatchString(rel):
		return "fedora"
	case reDistAmzn.MatchString(rel):
		return "amzn"
	}
	return ""
}

func vendorFor(id, from string) string {
	d, _ := platformFromID(id)
	switch d {
	case "amzn":
		return "Amazon"
	case "rocky":
		return "Rocky Enterprise Software Foundation"
	case "almalinux":
		return "AlmaLinux OS Foundation"
	case "rhel":
		return "Red Hat"
	case "ol":
		return "Oracle"
	case "centos":
		return "CentOS"
	case "fedora", "epel":
		return "Fedora Project"
	}
	return from
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
