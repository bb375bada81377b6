// Package suse reads SUSE CVRF 1.1 advisories (SUSE-SU-2019:1608-1,
// openSUSE-SU-...) into patchcore patches. SUSE's OVAL is read by
// feed/oval.
//
// A document becomes one patch: ID the tracking ID, Source "suse-cvrf",
// Vendor "SUSE", Title the document title, Description the "General"
// note, Released and Revised the initial and current release dates,
// Severity the aggregate severity or else the highest "Impact" threat of
// its vulnerabilities, CVEs with their CVSS v3 (else v2) base score. Each
// product ID of a "Fixed" status becomes a Fix: the relationship names the
// package ("libopenssl0_9_8-0.9.8j-106.12.1", optionally with an arch
// suffix) and the product ("SUSE Linux Enterprise Server 12 SP4"); Distro
// and Release come from the product ("sles"/"12.4", "sled", "sles_sap",
// "opensuse-leap"/"15.5"), Package the binary rpm name, Scheme "rpm",
// FixedVersion "version-release". Statuses "Known Affected" map to
// FixUnfixed and "Known Not Affected" to FixNotAffected.
//
// The document is read with an encoding/xml token loop, one top-level
// element at a time. Bytes that are not UTF-8 (SUSE's older notes carry
// Latin-1 names) are replaced by U+FFFD and each run reported with a
// feed.NoticeRecovered (file, line, offset) through feed.Notify, as long as
// they are in free text; in an ID, a CVE, a product, a package or a version
// they fail the document.
package suse

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// CVRF reads one SUSE CVRF advisory per Parse call. Its zero value, CVRF{},
// is ready to use.
type CVRF struct {
	// File names the document in errors; by default the reader's Name().
	File string
}

// Name returns "suse-cvrf".
func (CVRF) Name() string { return "suse-cvrf" }

// Detect reports whether head starts a SUSE CVRF document (and not an MSRC one).
func (CVRF) Detect(head []byte) bool {
	return bytes.Contains(head, []byte("<cvrfdoc")) && (bytes.Contains(head, []byte("SUSE")) || bytes.Contains(head, []byte("suse.")))
}

type note struct {
	Type  string `xml:"Type,attr"`
	Title string `xml:"Title,attr"`
	Text  string `xml:",chardata"`
}

type tracking struct {
	ID                 string `xml:"Identification>ID"`
	Status             string `xml:"Status"`
	InitialReleaseDate string `xml:"InitialReleaseDate"`
	CurrentReleaseDate string `xml:"CurrentReleaseDate"`
}

type fullProductName struct {
	ProductID string `xml:"ProductID,attr"`
	CPE       string `xml:"CPE,attr"`
	Name      string `xml:",chardata"`
}

type relationship struct {
	ProductReference string          `xml:"ProductReference,attr"`
	RelationType     string          `xml:"RelationType,attr"`
	RelatesTo        string          `xml:"RelatesToProductReference,attr"`
	FullProductName  fullProductName `xml:"FullProductName"`
}

type productTree struct {
	Relationships []relationship `xml:"Relationship"`
}

type vulnerability struct {
	CVE      string `xml:"CVE"`
	Statuses []struct {
		Type       string   `xml:"Type,attr"`
		ProductIDs []string `xml:"ProductID"`
	} `xml:"ProductStatuses>Status"`
	Threats []struct {
		Type        string `xml:"Type,attr"`
		Description string `xml:"Description"`
	} `xml:"Threats>Threat"`
	ScoreSets []struct {
		BaseScore string `xml:"BaseScore"`
		Vector    string `xml:"Vector"`
	} `xml:"CVSSScoreSets>ScoreSet"`
	ScoreSetsV3 []struct {
		BaseScore string `xml:"BaseScoreV3"`
		Vector    string `xml:"VectorV3"`
	} `xml:"CVSSScoreSets>ScoreSetV3"`
	References []struct {
		URL string `xml:"URL"`
	} `xml:"References>Reference"`
}

const maxDepth = 64

// Parse reads a SUSE CVRF document and emits its patch.
func (c CVRF) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	file := stream.FileName(r, c.File)
	fix := stream.NewUTF8Repair(r)
	dec := xml.NewDecoder(fix)
	fail := func(field string, err error) error { return xmlError(file, dec, field, err) }
	var (
		title, aggregate string
		tr               tracking
		notes            []note
		refs             []string
		tree             productTree
		vulns            []vulnerability
	)
	depth, root := 0, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !root {
				return fail("cvrfdoc", stream.Malformedf("no <cvrfdoc> element"))
			}
			if depth != 0 {
				return fail("cvrfdoc", io.ErrUnexpectedEOF)
			}
			break
		}
		if err != nil {
			return fail("", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if depth == 0 {
				if name != "cvrfdoc" || root {
					return fail(name, stream.Malformedf("root element <%s>, want <cvrfdoc>", name))
				}
				root = true
				depth++
				continue
			}
			if depth > 1 {
				depth++
				if depth > maxDepth {
					return fail(name, stream.Malformedf("elements nested deeper than %d", maxDepth))
				}
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			var derr error
			switch name {
			case "DocumentTitle":
				derr = dec.DecodeElement(&title, &t)
			case "AggregateSeverity":
				derr = dec.DecodeElement(&aggregate, &t)
			case "DocumentTracking":
				derr = dec.DecodeElement(&tr, &t)
			case "DocumentNotes":
				var ns struct {
					Notes []note `xml:"Note"`
				}
				derr = dec.DecodeElement(&ns, &t)
				notes = ns.Notes
			case "DocumentReferences":
				var rs struct {
					URLs []string `xml:"Reference>URL"`
				}
				derr = dec.DecodeElement(&rs, &t)
				refs = rs.URLs
			case "ProductTree":
				derr = dec.DecodeElement(&tree, &t)
			case "Vulnerability":
				var v vulnerability
				derr = dec.DecodeElement(&v, &t)
				vulns = append(vulns, v)
				name += "[" + strconv.Itoa(len(vulns)) + "]"
			default:
				derr = dec.Skip()
			}
			if derr != nil {
				return fail(name, derr)
			}
		case xml.EndElement:
			depth--
		}
	}
	if tr.ID == "" {
		return fail("DocumentTracking/Identification/ID", stream.Malformedf("document without tracking ID"))
	}
	p := patchcore.Patch{
		ID:             strings.TrimSpace(tr.ID),
		Source:         "suse-cvrf",
		Vendor:         "SUSE",
		Title:          strings.TrimSpace(title),
		Classification: patchcore.ClassSecurity,
		References:     refs,
	}
	for _, n := range notes {
		if n.Type == "General" && p.Description == "" {
			p.Description = strings.TrimSpace(n.Text)
		}
	}
	var err error
	if p.Released, err = parseTime(tr.InitialReleaseDate); err != nil {
		return &feed.ParseError{File: file, Field: "DocumentTracking/InitialReleaseDate", Err: err}
	}
	if p.Revised, err = parseTime(tr.CurrentReleaseDate); err != nil {
		return &feed.ParseError{File: file, Field: "DocumentTracking/CurrentReleaseDate", Err: err}
	}
	if aggregate != "" {
		p.Severity = patchcore.ParseSeverity(aggregate)
	}
	rels := map[string]relationship{}
	for _, r := range tree.Relationships {
		rels[r.FullProductName.ProductID] = r
	}
	seen := map[string]bool{}
	worst := patchcore.Severity{}
	for _, v := range vulns {
		if id := strings.TrimSpace(v.CVE); id != "" {
			c := patchcore.CVE{ID: id}
			for _, s := range v.ScoreSetsV3 {
				if f, err := strconv.ParseFloat(strings.TrimSpace(s.BaseScore), 64); err == nil && c.CVSSScore == 0 {
					c.CVSSScore, c.CVSSVector = f, strings.TrimSpace(s.Vector)
				}
			}
			for _, s := range v.ScoreSets {
				if f, err := strconv.ParseFloat(strings.TrimSpace(s.BaseScore), 64); err == nil && c.CVSSScore == 0 {
					c.CVSSScore, c.CVSSVector = f, strings.TrimSpace(s.Vector)
				}
			}
			if !slices.ContainsFunc(p.CVEs, func(x patchcore.CVE) bool { return x.ID == id }) {
				p.CVEs = append(p.CVEs, c)
			}
		}
		for _, th := range v.Threats {
			if th.Type == "Impact" {
				if s := patchcore.ParseSeverity(th.Description); s.Compare(worst) > 0 {
					worst = s
				}
			}
		}
		for _, st := range v.Statuses {
			status, ok := map[string]patchcore.FixStatus{
				"Fixed": patchcore.FixFixed, "First Fixed": patchcore.FixFixed, "Recommended": patchcore.FixFixed,
				"Known Affected": patchcore.FixUnfixed, "Known Not Affected": patchcore.FixNotAffected,
			}[st.Type]
			if !ok {
				continue
			}
			for _, id := range st.ProductIDs {
				f, ok := fixFor(rels, strings.TrimSpace(id))
				if !ok {
					continue
				}
				f.Status = status
				if status != patchcore.FixFixed {
					f.FixedVersion = ""
				}
				k := f.Product + "\x00" + f.Package + "\x00" + f.Arch + "\x00" + f.FixedVersion + "\x00" + string(f.Status)
				if !seen[k] {
					seen[k] = true
					p.Fixes = append(p.Fixes, f)
				}
			}
		}
	}
	if p.Severity.Level == patchcore.SeverityUnknown {
		p.Severity = worst
	}
	if err := utf8Repaired(ctx, file, fix, &p); err != nil {
		return err
	}
	return emit(p)
}

// utf8Repaired reports the bytes that were not UTF-8 and were replaced by
// U+FFFD (SUSE's older notes carry Latin-1 names): a recovery when they
// were in free text only, an error when one reached an identifier, a
// product, a package or a version.
func utf8Repaired(ctx context.Context, file string, fix *stream.UTF8Repair, p *patchcore.Patch) error {
	if fix.Count == 0 {
		return nil
	}
	bad := func(s string) bool { return strings.ContainsRune(s, '\uFFFD') }
	field := ""
	switch {
	case bad(p.ID):
		field = "DocumentTracking/Identification/ID"
	case slices.ContainsFunc(p.CVEs, func(c patchcore.CVE) bool { return bad(c.ID) || bad(c.CVSSVector) }):
		field = "Vulnerability/CVE"
	case slices.ContainsFunc(p.Fixes, func(f patchcore.Fix) bool {
		return bad(f.Product) || bad(f.ProductID) || bad(f.Package) || bad(f.Arch) || bad(f.FixedVersion)
	}):
		field = "ProductTree/Relationship"
	}
	first := fix.Repairs[0]
	if field != "" {
		return &feed.ParseError{File: file, Line: first.Line, Offset: first.Offset, Field: field,
			Err: stream.Malformedf("bytes that are not UTF-8 (first %x at line %d) in data detection reads", first.Bytes, first.Line)}
	}
	for _, rp := range fix.Repairs {
		feed.Notify(ctx, feed.Notice{Kind: feed.NoticeRecovered, File: file, Line: rp.Line, Offset: rp.Offset, ID: p.ID,
			Message: fmt.Sprintf("bytes %x are not UTF-8; replaced by U+FFFD in free text (notes, descriptions)", rp.Bytes)})
	}
	if fix.Count > len(fix.Repairs) {
		feed.Notify(ctx, feed.Notice{Kind: feed.NoticeRecovered, File: file, ID: p.ID,
			Message: fmt.Sprintf("%d more runs of bytes that are not UTF-8 replaced by U+FFFD in free text", fix.Count-len(fix.Repairs))})
	}
	return nil
}

var knownArch = map[string]bool{"noarch": true, "x86_64": true, "i586": true, "i686": true, "aarch64": true,
	"ppc64le": true, "s390x": true, "armv7hl": true, "src": true, "nosrc": true}

// fixFor resolves "Product:package-version-release[.arch]".
func fixFor(rels map[string]relationship, id string) (patchcore.Fix, bool) {
	r, ok := rels[id]
	if !ok {
		return patchcore.Fix{}, false
	}
	nvr, arch := r.ProductReference, ""
	if i := strings.LastIndexByte(nvr, '.'); i > 0 && knownArch[nvr[i+1:]] {
		nvr, arch = nvr[:i], nvr[i+1:]
	}
	rel := strings.LastIndexByte(nvr, '-')
	if rel <= 0 {
		return patchcore.Fix{}, false
	}
	ver := strings.LastIndexByte(nvr[:rel], '-')
	if ver <= 0 {
		return patchcore.Fix{}, false
	}
	if arch == "src" || arch == "nosrc" {
		return patchcore.Fix{}, false
	}
	distro, release := platformOf(r.RelatesTo)
	return patchcore.Fix{
		Distro:       distro,
		Release:      release,
		Product:      r.RelatesTo,
		ProductID:    r.RelatesTo,
		Ecosystem:    patchcore.EcosystemRPM,
		Package:      nvr[:ver],
		PackageKind:  patchcore.PackageBinary,
		Arch:         arch,
		Scheme:       "rpm",
		FixedVersion: nvr[ver+1:],
	}, true
}

var reProduct = regexp.MustCompile(`^(SUSE Linux Enterprise [A-Za-z -]*?|SUSE Manager [A-Za-z ]*?|openSUSE Leap(?: Micro)?|SUSE Linux Enterprise Micro) ?(\d+)(?:[ .-]SP(\d+)|\.(\d+))?(?:[ -].*)?$`)

// reOpenSUSE matches the numbered openSUSE releases before Leap ("openSUSE
// 13.1", "openSUSE Evergreen 11.4") and Tumbleweed.
var reOpenSUSE = regexp.MustCompile(`^openSUSE (?:Evergreen )?(\d+\.\d+|Tumbleweed)(?: NonFree)?$`)

// platformOf derives distro and release from a SUSE product name, in
// canonical form (patchcore.CanonicalRelease): openSUSE 13.1 is
// "opensuse"/"13.1", Tumbleweed "opensuse-tumbleweed" with no release.
func platformOf(product string) (distro, release string) {
	if m := reOpenSUSE.FindStringSubmatch(product); m != nil {
		return patchcore.CanonicalRelease("opensuse", m[1])
	}
	m := reProduct.FindStringSubmatch(product)
	if m == nil {
		return "", ""
	}
	name := strings.TrimSpace(m[1])
	release = m[2]
	if m[3] != "" {
		release += "." + m[3]
	} else if m[4] != "" {
		release += "." + m[4]
	}
	switch {
	case strings.HasPrefix(name, "openSUSE Leap Micro"):
		return "opensuse-leap-micro", release
	case strings.HasPrefix(name, "openSUSE Leap"):
		return "opensuse-leap", release
	case strings.Contains(name, "Desktop"):
		return "sled", release
	case strings.Contains(name, "for SAP"):
		return "sles_sap", release
	case strings.Contains(name, "Micro"):
		return "sle-micro", release
	}
	return "sles", release
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, stream.Malformedf("date %q is not RFC 3339", s)
}

// xmlError locates err at the decoder's position in file.
func xmlError(file string, dec *xml.Decoder, field string, err error) error {
	return stream.InFile(file, stream.XMLError(dec, field, err))
}
