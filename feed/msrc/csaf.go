package msrc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// CSAF is the feed.Format of MSRC CSAF 2.0 documents (one per CVE,
// category csaf_vex, publisher namespace https://msrc.microsoft.com).
//
// MSRC's product tree puts, under each product_name branch, a
// product_version_range "<10.0.22631.3155" (the affected builds, with a
// document-local product_id such as "1") and a product_version
// "10.0.22631.3155" (the fixed build, whose product_id is the classic MSRC
// ProductID "12243"). Remediations name the affected IDs; the parser maps
// them to the classic ProductID and takes FixedBuild from the range bound,
// so msrc-csaf fixes look like msrc-cvrf fixes. CSAF 2.0 has no
// Supercedence field, so msrc-csaf patches carry no Supersedes; the
// catalog unites them with the msrc-cvrf patch of the same KB.
type CSAF struct{}

var _ feed.Format = CSAF{}

// Name returns "msrc-csaf".
func (CSAF) Name() string { return SourceCSAF }

// Detect reports a CSAF JSON document published by MSRC.
func (CSAF) Detect(head []byte) bool {
	return bytes.Contains(head, []byte(`"csaf_version"`)) && bytes.Contains(head, []byte("msrc.microsoft.com"))
}

// Parse reads an MSRC CSAF document and emits one patch per KB.
func (CSAF) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	_, err := ParseCSAF(ctx, r, emit)
	return err
}

type csafDocument struct {
	Category    string `json:"category"`
	CSAFVersion string `json:"csaf_version"`
	Title       string `json:"title"`
	Tracking    struct {
		ID                 string `json:"id"`
		InitialReleaseDate string `json:"initial_release_date"`
		CurrentReleaseDate string `json:"current_release_date"`
	} `json:"tracking"`
}

type csafProduct struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
}

type csafBranch struct {
	Category string       `json:"category"`
	Name     string       `json:"name"`
	Product  *csafProduct `json:"product"`
	Branches []csafBranch `json:"branches"`
}

type csafProductTree struct {
	Branches         []csafBranch  `json:"branches"`
	FullProductNames []csafProduct `json:"full_product_names"`
}

type csafVulnerability struct {
	CVE    string `json:"cve"`
	Title  string `json:"title"`
	Scores []struct {
		CVSSv3 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v3"`
		Products []string `json:"products"`
	} `json:"scores"`
	Threats []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids"`
	} `json:"threats"`
	Remediations []struct {
		Category        string   `json:"category"`
		Details         string   `json:"details"`
		ProductIDs      []string `json:"product_ids"`
		URL             string   `json:"url"`
		RestartRequired *struct {
			Category string `json:"category"`
		} `json:"restart_required"`
	} `json:"remediations"`
}

// csafMapping is what the product tree says about one product_id.
type csafMapping struct {
	canonical  string // classic MSRC ProductID
	fixedBuild string
}

// ParseCSAF reads an MSRC CSAF 2.0 document from r and emits one patch per
// KB. The document is read with a streaming JSON decoder, one vulnerability
// at a time. It returns the document's identity and product tree (keyed by
// the classic ProductIDs and by the document-local affected IDs).
func ParseCSAF(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) (*Document, error) {
	doc := &Document{Products: map[string]Product{}}
	dec := json.NewDecoder(r)
	var vulns []csafVulnerability
	mapping := map[string]csafMapping{}
	sawDocument := false
	err := stream.Object(dec, "", func(key string) error {
		switch key {
		case "document":
			var d csafDocument
			if err := dec.Decode(&d); err != nil {
				return stream.JSONError(dec, "document", err)
			}
			if d.CSAFVersion == "" {
				return stream.JSONError(dec, "document.csaf_version", fmt.Errorf("missing"))
			}
			sawDocument = true
			doc.ID = d.Tracking.ID
			doc.Title = d.Title
			doc.Released = parseTime(d.Tracking.InitialReleaseDate)
			doc.Revised = parseTime(d.Tracking.CurrentReleaseDate)
		case "product_tree":
			var t csafProductTree
			if err := dec.Decode(&t); err != nil {
				return stream.JSONError(dec, "product_tree", err)
			}
			for _, p := range t.FullProductNames {
				addCSAFProduct(doc, p, "", "")
			}
			walkCSAF(doc, mapping, t.Branches, "", "")
		case "vulnerabilities":
			return stream.Array(dec, "vulnerabilities", func(i int) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				var v csafVulnerability
				if err := dec.Decode(&v); err != nil {
					return stream.JSONError(dec, fmt.Sprintf("vulnerabilities[%d]", i), err)
				}
				vulns = append(vulns, v)
				return nil
			})
		default:
			return stream.Skip(dec, key)
		}
		return nil
	})
	if err != nil {
		return doc, err
	}
	if !sawDocument {
		return doc, &feed.ParseError{Offset: dec.InputOffset(), Field: "document", Err: fmt.Errorf("missing: %w", patchcore.ErrMalformedFeed)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return doc, stream.JSONError(dec, "", fmt.Errorf("data after the document"))
	}
	b := newBuilder(SourceCSAF, doc)
	file := stream.FileName(r, "")
	for i := range vulns {
		if addCSAFVulnerability(b, &vulns[i], mapping) == 0 {
			n := feed.Notice{Kind: feed.NoticeNotCovered, File: file, Field: fmt.Sprintf("vulnerabilities[%d]", i), ID: vulns[i].CVE,
				Message: "no KB remediation: the CSAF reader turns only KB vendor fixes into patches"}
			feed.Notify(ctx, n)
		}
	}
	for _, p := range b.finish() {
		if err := emit(p); err != nil {
			return doc, err
		}
	}
	return doc, nil
}

// walkCSAF records products and maps affected-range IDs to the classic
// ProductID of their product_name branch.
func walkCSAF(doc *Document, mapping map[string]csafMapping, branches []csafBranch, family, productName string) {
	for _, br := range branches {
		fam, name := family, productName
		switch br.Category {
		case "product_family":
			fam = br.Name
		case "product_name":
			name = br.Name
		}
		if br.Category == "product_name" && len(br.Branches) > 0 {
			canonical, fixed := "", ""
			for _, c := range br.Branches {
				if c.Category == "product_version" && c.Product != nil {
					canonical, fixed = c.Product.ProductID, c.Name
				}
			}
			for _, c := range br.Branches {
				if c.Product == nil || c.Product.ProductID == "" {
					continue
				}
				m := csafMapping{canonical: canonical, fixedBuild: fixed}
				if m.canonical == "" {
					m.canonical = c.Product.ProductID
				}
				if c.Category == "product_version_range" {
					if fb, ok := strings.CutPrefix(strings.TrimSpace(c.Name), "<"); ok && validBuild(strings.TrimSpace(fb)) {
						m.fixedBuild = strings.TrimSpace(fb)
					}
				}
				mapping[c.Product.ProductID] = m
			}
		}
		if br.Product != nil {
			addCSAFProduct(doc, *br.Product, fam, name)
		}
		walkCSAF(doc, mapping, br.Branches, fam, name)
	}
}

func addCSAFProduct(doc *Document, p csafProduct, family, productName string) {
	if p.ProductID == "" {
		return
	}
	name := productName
	if name == "" {
		name = p.Name
	}
	if old, ok := doc.Products[p.ProductID]; ok && old.Family != "" {
		return
	}
	doc.Products[p.ProductID] = Product{ID: p.ProductID, Name: name, Family: family}
}

// addCSAFVulnerability adds the KB remediations of v and returns how many
// there were.
func addCSAFVulnerability(b *builder, v *csafVulnerability, mapping map[string]csafMapping) int {
	n := 0
	canon := func(ids []string) []string {
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			if m, ok := mapping[id]; ok && m.canonical != "" {
				id = m.canonical
			}
			out = append(out, id)
		}
		return out
	}
	vi := newVulnInfo(strings.TrimSpace(v.CVE))
	for _, t := range v.Threats {
		if t.Category == "severity" {
			vi.addSeverity(t.Details, canon(t.ProductIDs))
		}
	}
	for _, s := range v.Scores {
		if s.CVSSv3 != nil {
			vi.addScore(fmt.Sprint(s.CVSSv3.BaseScore), s.CVSSv3.VectorString, canon(s.Products))
		}
	}
	for _, r := range v.Remediations {
		if r.Category != "vendor_fix" {
			continue
		}
		kb, ok := patchcore.NormalizeKB(r.Details)
		if !ok {
			continue
		}
		rem := remediation{kb: kb, url: r.URL, fixedBuilds: map[string]string{}}
		if r.RestartRequired != nil {
			rem.restart = reboot(r.RestartRequired.Category)
		}
		for _, id := range r.ProductIDs {
			m, ok := mapping[id]
			if !ok {
				rem.productIDs = append(rem.productIDs, id)
				continue
			}
			rem.productIDs = append(rem.productIDs, m.canonical)
			if m.fixedBuild != "" {
				rem.fixedBuilds[m.canonical] = m.fixedBuild
			}
		}
		rem.subType = "Security Update"
		b.add(vi, &rem)
		n++
	}
	return n
}
