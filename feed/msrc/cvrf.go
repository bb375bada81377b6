package msrc

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// MaxDepth bounds element nesting in a CVRF document; the real documents
// nest six deep.
const MaxDepth = 64

// CVRF is the feed.Format of MSRC CVRF 1.1 monthly documents.
type CVRF struct{}

var _ feed.Format = CVRF{}

// Name returns "msrc-cvrf".
func (CVRF) Name() string { return SourceCVRF }

// Detect reports a CVRF document published by Microsoft.
func (CVRF) Detect(head []byte) bool {
	return bytes.Contains(head, []byte("cvrfdoc")) &&
		(bytes.Contains(head, []byte("microsoft.com")) || bytes.Contains(head, []byte("Microsoft")))
}

// Parse reads a CVRF document and emits one patch per KB.
func (CVRF) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	_, err := ParseCVRF(ctx, r, emit)
	return err
}

type cvrfTracking struct {
	ID          string `xml:"Identification>ID"`
	InitialDate string `xml:"InitialReleaseDate"`
	CurrentDate string `xml:"CurrentReleaseDate"`
}

type cvrfProductName struct {
	ID   string `xml:"ProductID,attr"`
	Name string `xml:",chardata"`
}

type cvrfBranch struct {
	Type     string            `xml:"Type,attr"`
	Name     string            `xml:"Name,attr"`
	Products []cvrfProductName `xml:"FullProductName"`
	Branches []cvrfBranch      `xml:"Branch"`
}

type cvrfProductTree struct {
	Branches []cvrfBranch      `xml:"Branch"`
	Products []cvrfProductName `xml:"FullProductName"`
}

type cvrfVulnerability struct {
	Title   string `xml:"Title"`
	CVE     string `xml:"CVE"`
	Threats []struct {
		Type        string   `xml:"Type,attr"`
		Description string   `xml:"Description"`
		ProductIDs  []string `xml:"ProductID"`
	} `xml:"Threats>Threat"`
	ScoreSets []struct {
		BaseScore  string   `xml:"BaseScore"`
		Vector     string   `xml:"Vector"`
		ProductIDs []string `xml:"ProductID"`
	} `xml:"CVSSScoreSets>ScoreSet"`
	Remediations []struct {
		Type            string   `xml:"Type,attr"`
		Description     string   `xml:"Description"`
		URL             string   `xml:"URL"`
		Supercedence    string   `xml:"Supercedence"`
		ProductIDs      []string `xml:"ProductID"`
		RestartRequired string   `xml:"RestartRequired"`
		SubType         string   `xml:"SubType"`
		FixedBuild      string   `xml:"FixedBuild"`
	} `xml:"Remediations>Remediation"`
}

// ParseCVRF reads an MSRC CVRF 1.1 document from r, streaming it one
// vulnerability at a time, then emits one patch per KB in order of first
// appearance. It returns the document's identity and product tree, also
// when emit fails. A malformed document gives a *feed.ParseError with the
// line and column.
func ParseCVRF(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) (*Document, error) {
	doc := &Document{Products: map[string]Product{}}
	file := stream.FileName(r, "")
	x := stream.NewXML(r, MaxDepth)
	d := x.Decoder
	b := newBuilder(SourceCVRF, doc)
	depth := 0
	sawRoot := false
	nVuln := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return doc, x.Error("", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				if t.Name.Local != "cvrfdoc" {
					return doc, x.Error(t.Name.Local, fmt.Errorf("root element is <%s>, want <cvrfdoc>", t.Name.Local))
				}
				sawRoot = true
				continue
			}
			if depth != 2 {
				continue
			}
			switch t.Name.Local {
			case "DocumentTitle":
				if err := d.DecodeElement(&doc.Title, &t); err != nil {
					return doc, x.Error("DocumentTitle", err)
				}
				doc.Title = strings.TrimSpace(doc.Title)
			case "DocumentTracking":
				var tr cvrfTracking
				if err := d.DecodeElement(&tr, &t); err != nil {
					return doc, x.Error("DocumentTracking", err)
				}
				doc.ID = strings.TrimSpace(tr.ID)
				doc.Released = parseTime(tr.InitialDate)
				doc.Revised = parseTime(tr.CurrentDate)
			case "ProductTree":
				var pt cvrfProductTree
				if err := d.DecodeElement(&pt, &t); err != nil {
					return doc, x.Error("ProductTree", err)
				}
				addBranches(doc, pt.Branches, "")
				addProducts(doc, pt.Products, "")
			case "Vulnerability":
				nVuln++
				if err := ctx.Err(); err != nil {
					return doc, err
				}
				var v cvrfVulnerability
				field := fmt.Sprintf("Vulnerability[%d]", nVuln)
				line, col := x.InputPos()
				if err := d.DecodeElement(&v, &t); err != nil {
					return doc, x.Error(field, err)
				}
				if err := addCVRFVulnerability(b, &v); err != nil {
					return doc, x.Error(field+"/"+v.CVE, err)
				}
				if n := b.notCovered; n != nil {
					b.notCovered = nil
					n.File, n.Line, n.Column, n.Field = file, line, col, field
					feed.Notify(ctx, *n)
				}
			default:
				if err := x.Skip(t.Name.Local); err != nil {
					return doc, err
				}
			}
			depth--
		case xml.EndElement:
			depth--
		}
	}
	if !sawRoot {
		return doc, &feed.ParseError{Err: fmt.Errorf("no <cvrfdoc> element: %w", patchcore.ErrMalformedFeed)}
	}
	for _, p := range b.finish() {
		if err := emit(p); err != nil {
			return doc, err
		}
	}
	return doc, nil
}

func addBranches(doc *Document, branches []cvrfBranch, family string) {
	for _, br := range branches {
		f := family
		if br.Type == "Product Family" {
			f = br.Name
		}
		addProducts(doc, br.Products, f)
		addBranches(doc, br.Branches, f)
	}
}

func addProducts(doc *Document, names []cvrfProductName, family string) {
	for _, n := range names {
		id := strings.TrimSpace(n.ID)
		if id == "" {
			continue
		}
		old, ok := doc.Products[id]
		if ok && old.Family != "" {
			continue
		}
		doc.Products[id] = Product{ID: id, Name: strings.TrimSpace(n.Name), Family: family}
	}
}

func addCVRFVulnerability(b *builder, v *cvrfVulnerability) error {
	vi := newVulnInfo(strings.TrimSpace(v.CVE))
	for _, t := range v.Threats {
		if t.Type == "Severity" {
			vi.addSeverity(t.Description, t.ProductIDs)
		}
	}
	for _, s := range v.ScoreSets {
		vi.addScore(s.BaseScore, s.Vector, s.ProductIDs)
	}
	var rems []*remediation
	var skipped []skippedRemediation
	vendorFixes := 0
	for i, r := range v.Remediations {
		if r.Type != "Vendor Fix" {
			continue
		}
		vendorFixes++
		desc := strings.TrimSpace(r.Description)
		fb := strings.TrimSpace(r.FixedBuild)
		if len(fb) > 1024 {
			return fmt.Errorf("in Remediation[%d] (%s) FixedBuild is %d bytes long: %w", i+1, desc, len(fb), patchcore.ErrMalformedFeed)
		}
		base := remediation{
			url:        strings.TrimSpace(r.URL),
			supersedes: splitKBs(r.Supercedence),
			productIDs: trimAll(r.ProductIDs),
			restart:    reboot(r.RestartRequired),
			subType:    strings.TrimSpace(r.SubType),
		}
		kb, ok := patchcore.NormalizeKB(desc)
		if !ok {
			got, why := b.versioned(&base, desc, fb)
			rems = append(rems, got...)
			if why != "" {
				skipped = append(skipped, skippedRemediation{desc: desc, subType: base.subType, products: base.productIDs, why: why})
			}
			continue
		}
		rawBuild := ""
		if fb != "" && !validBuild(fb) {
			// Some products publish prose ("Application Build 21.16.63199,
			// Platform Build 21.0"): kept as an attribute, never compared.
			rawBuild, fb = fb, ""
		}
		rem := base
		rem.id, rem.kb, rem.rawBuild, rem.fixedBuild = kb, kb, rawBuild, fb
		rem.hotpatch = isHotpatch(rem.subType)
		rems = append(rems, &rem)
	}
	b.linkHotpatches(rems)
	for _, rem := range rems {
		b.add(vi, rem)
	}
	if len(rems) == 0 {
		var affected []string
		for _, t := range v.Threats {
			for _, id := range t.ProductIDs {
				if id = strings.TrimSpace(id); !slices.Contains(affected, id) {
					affected = append(affected, id)
				}
			}
		}
		b.notCovered = b.notCoveredNotice(vi.cve, vendorFixes, skipped, affected)
	}
	return nil
}

func trimAll(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// validBuild accepts dotted numeric builds ("10.0.22631.3007", "120.0.2210.121").
func validBuild(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
		if c == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}
