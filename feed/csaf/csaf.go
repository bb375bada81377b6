// Package csaf reads CSAF 2.0 documents as Red Hat publishes them into
// patchcore patches: security advisories (category
// csaf_security_advisory, RHSA) and VEX documents (csaf_vex, one per CVE).
//
// The document is streamed section by section ("document", "product_tree",
// "vulnerabilities"), each decoded once; product IDs are resolved through
// the product tree's branches and relationships to a platform (the product
// a component belongs to, with its CPE) and a component (a package, with
// its purl).
//
// An advisory becomes one patch: ID the tracking ID ("RHSA-2024:6163"),
// Source "csaf", Severity the aggregate severity, Released and Revised the
// initial and current release dates, CVEs with their CVSS v3 (else v2)
// score, and a FixFixed Fix per binary package of the "fixed" product
// status. A VEX document becomes one patch whose ID is the CVE (Source
// "csaf-vex") with a Fix per product status entry: "fixed" (and
// "first_fixed", "recommended") is FixFixed with the advisory of the
// vendor_fix remediation in Attributes["advisory"]; "known_affected" is
// FixWontFix when a no_fix_planned remediation covers it and FixUnfixed
// otherwise; "known_not_affected" is FixNotAffected; "under_investigation"
// is FixUnfixed with Attributes["vex_status"] "under_investigation".
//
// Each Fix: Distro "rhel" for Red Hat CPEs, Release the major version of
// the platform CPE (cpe:/a:redhat:enterprise_linux:9::appstream -> "9";
// a layered product's "el9" -> "9"), or the minor release of an
// extended-support stream (cpe:/o:redhat:rhel_eus:9.2::baseos -> "9.2";
// also rhel_aus, rhel_e4s, rhel_tus), which detection prefers to the
// mainline fix on a device of that minor release, Product the platform name, ProductID
// its CPE (or its product ID without one), Package the rpm name, Arch, Scheme
// "rpm", FixedVersion "epoch:version-release" with the epoch when the
// document gives one, ModuleStream "name:stream" from the purl's rpmmod
// qualifier. Source rpms (arch "src") are kept, as PackageKind source
// without Arch, only when the platform has no binary entry for the same
// status. Components that are not rpms (containers) are skipped.
//
// Fix attributes: "advisory" (the RHSA fixing it), "remediation" (the
// remediation category: vendor_fix, no_fix_planned, none_available, ...),
// "vex_status" (the CSAF product status name), "cpe".
package csaf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
	"github.com/patchcore/sdk/patchcore"
)

// Reader reads one CSAF 2.0 JSON document (an advisory or a VEX document)
// per Parse call. Its zero value, Reader{}, is ready to use.
type Reader struct {
	// File names the document in errors; by default the reader's Name().
	File string
}

// Name returns "csaf".
func (Reader) Name() string { return "csaf" }

// Detect reports whether head starts a CSAF JSON document.
func (Reader) Detect(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\ufeff")
	return len(h) > 0 && h[0] == '{' && (bytes.Contains(h, []byte(`"csaf_version"`)) ||
		bytes.Contains(h, []byte(`"category": "csaf_`)) || bytes.Contains(h, []byte(`"category":"csaf_`)))
}

// Document is the "document" section.
type Document struct {
	Category          string `json:"category"`
	CSAFVersion       string `json:"csaf_version"`
	Title             string `json:"title"`
	AggregateSeverity struct {
		Text string `json:"text"`
	} `json:"aggregate_severity"`
	Notes      []Note      `json:"notes"`
	References []Reference `json:"references"`
	Publisher  struct {
		Name string `json:"name"`
	} `json:"publisher"`
	Tracking struct {
		ID                 string `json:"id"`
		Status             string `json:"status"`
		InitialReleaseDate string `json:"initial_release_date"`
		CurrentReleaseDate string `json:"current_release_date"`
	} `json:"tracking"`
}

// Note is a CSAF note.
type Note struct {
	Category string `json:"category"`
	Text     string `json:"text"`
	Title    string `json:"title"`
}

// Reference is a CSAF reference.
type Reference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

// Branch is a node of the product tree.
type Branch struct {
	Category string   `json:"category"`
	Name     string   `json:"name"`
	Product  *Product `json:"product"`
	Branches []Branch `json:"branches"`
}

// Product is a full product name.
type Product struct {
	Name   string `json:"name"`
	ID     string `json:"product_id"`
	Helper struct {
		CPE  string `json:"cpe"`
		PURL string `json:"purl"`
	} `json:"product_identification_helper"`
}

// ProductTree is the "product_tree" section.
type ProductTree struct {
	Branches         []Branch       `json:"branches"`
	FullProductNames []Product      `json:"full_product_names"`
	Relationships    []Relationship `json:"relationships"`
}

// Relationship ties a component to the product it belongs to.
type Relationship struct {
	Category        string  `json:"category"`
	FullProductName Product `json:"full_product_name"`
	ProductRef      string  `json:"product_reference"`
	RelatesTo       string  `json:"relates_to_product_reference"`
}

// Vulnerability is one element of "vulnerabilities".
type Vulnerability struct {
	CVE           string              `json:"cve"`
	Title         string              `json:"title"`
	Notes         []Note              `json:"notes"`
	ProductStatus map[string][]string `json:"product_status"`
	Remediations  []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		URL        string   `json:"url"`
		ProductIDs []string `json:"product_ids"`
	} `json:"remediations"`
	Scores []struct {
		CVSSv3 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v3"`
		CVSSv2 *struct {
			BaseScore    float64 `json:"baseScore"`
			VectorString string  `json:"vectorString"`
		} `json:"cvss_v2"`
		Products []string `json:"products"`
	} `json:"scores"`
	Threats []struct {
		Category   string   `json:"category"`
		Details    string   `json:"details"`
		ProductIDs []string `json:"product_ids"`
	} `json:"threats"`
	ReleaseDate string `json:"release_date"`
}

// Advisory is a whole decoded CSAF document.
type Advisory struct {
	Document        Document
	ProductTree     ProductTree
	Vulnerabilities []Vulnerability
}

// maxBranchDepth bounds product tree nesting (Red Hat uses four levels).
const maxBranchDepth = 32

// Read decodes a CSAF document section by section. file names it in errors.
func Read(ctx context.Context, r io.Reader, file string) (*Advisory, error) {
	return read(ctx, r, file, nil)
}

// read decodes a CSAF document. When perVuln is not nil and the document
// and product tree come before the vulnerabilities (as Red Hat writes
// them), each vulnerability is passed to the function perVuln returns
// instead of being kept in the Advisory, so memory holds one at a time.
func read(ctx context.Context, r io.Reader, file string, perVuln func(*Advisory) func(*Vulnerability)) (*Advisory, error) {
	file = stream.FileName(r, file)
	dec := json.NewDecoder(r)
	fail := func(field string, err error) error { return jsonError(file, dec, field, err) }
	tok, err := dec.Token()
	if err != nil {
		return nil, fail("", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail("", stream.Malformedf("got %v, want a CSAF object", tok))
	}
	var a Advisory
	seenDoc, seenTree := false, false
	var sink func(*Vulnerability) // set once vulnerabilities are streamed
	for dec.More() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("", err)
		}
		key, _ := tok.(string)
		switch key {
		case "document", "product_tree":
			if sink != nil {
				// Vulnerabilities already mapped with the first one.
				return nil, fail(key, stream.Malformedf("second %q section after the vulnerabilities", key))
			}
			if key == "document" {
				err = dec.Decode(&a.Document)
				seenDoc = true
			} else {
				err = dec.Decode(&a.ProductTree)
				seenTree = true
			}
		case "vulnerabilities":
			if sink == nil && perVuln != nil && seenDoc && seenTree && len(a.Vulnerabilities) == 0 {
				sink = perVuln(&a)
			}
			err = decodeVulnerabilities(ctx, dec, &a.Vulnerabilities, sink)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return nil, fail(key, err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail("", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("", stream.Malformedf("data after the document"))
	}
	if !seenDoc || a.Document.Tracking.ID == "" {
		return nil, fail("document/tracking/id", stream.Malformedf("document without tracking ID"))
	}
	if depth := branchDepth(a.ProductTree.Branches, 0); depth > maxBranchDepth {
		return nil, fail("product_tree/branches", fmt.Errorf("branches nested %d deep, limit %d: %w", depth, maxBranchDepth, patchcore.ErrTooLarge))
	}
	return &a, nil
}

func branchDepth(bs []Branch, d int) int {
	m := d
	for i := range bs {
		if d > maxBranchDepth {
			return d
		}
		m = max(m, branchDepth(bs[i].Branches, d+1))
	}
	return m
}

// decodeVulnerabilities decodes the vulnerabilities array, passing each to
// sink or, when sink is nil, appending it to out.
func decodeVulnerabilities(ctx context.Context, dec *json.Decoder, out *[]Vulnerability, sink func(*Vulnerability)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return stream.Malformedf("vulnerabilities: got %v, want an array", tok)
	}
	for i := 0; dec.More(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var v Vulnerability
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("vulnerabilities[%d]: %w", i, err)
		}
		if sink != nil {
			sink(&v)
			continue
		}
		*out = append(*out, v)
	}
	_, err = dec.Token()
	return err
}

// Parse reads a CSAF document and emits its patch. Vulnerabilities are
// mapped as they are decoded when the document and product tree precede
// them, so a large advisory is never held whole.
func (rd Reader) Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error {
	var pb *patchBuilder
	a, err := read(ctx, r, rd.File, func(a *Advisory) func(*Vulnerability) {
		pb = newPatchBuilder(&a.Document, &a.ProductTree)
		return pb.add
	})
	if err != nil {
		return err
	}
	if pb == nil {
		pb = newPatchBuilder(&a.Document, &a.ProductTree)
		for i := range a.Vulnerabilities {
			pb.add(&a.Vulnerabilities[i])
		}
	}
	p, err := pb.result()
	if err != nil {
		return &feed.ParseError{File: stream.FileName(r, rd.File), Field: "document/tracking/initial_release_date", Err: err}
	}
	return emit(p)
}

// component is a resolved product ID.
type component struct {
	platform Product // the product the component belongs to
	comp     Product // the package
}

// index resolves product IDs to their platform and component.
type index struct {
	products map[string]Product
	rels     map[string]Relationship
}

func newIndex(t *ProductTree) *index {
	ix := &index{products: map[string]Product{}, rels: map[string]Relationship{}}
	var walk func([]Branch)
	walk = func(bs []Branch) {
		for i := range bs {
			if p := bs[i].Product; p != nil && p.ID != "" {
				ix.products[p.ID] = *p
			}
			walk(bs[i].Branches)
		}
	}
	walk(t.Branches)
	for _, p := range t.FullProductNames {
		ix.products[p.ID] = p
	}
	for _, r := range t.Relationships {
		ix.rels[r.FullProductName.ID] = r
	}
	return ix
}

func (ix *index) resolve(id string) (component, bool) {
	r, ok := ix.rels[id]
	if !ok {
		return component{}, false
	}
	comp, ok := ix.products[r.ProductRef]
	if !ok {
		comp = Product{Name: r.ProductRef, ID: r.ProductRef}
	}
	plat, ok := ix.products[r.RelatesTo]
	if !ok {
		// A module component relates to "Product:module:stream:..." which
		// itself is a relationship; its platform is the outer product.
		if inner, ok2 := ix.rels[r.RelatesTo]; ok2 {
			plat = ix.products[inner.RelatesTo]
			if comp.Helper.PURL == "" {
				if m := ix.products[inner.ProductRef]; m.Helper.PURL != "" {
					comp.Helper.PURL = m.Helper.PURL
				}
			}
		} else {
			plat = Product{Name: r.RelatesTo, ID: r.RelatesTo}
		}
	}
	return component{platform: plat, comp: comp}, true
}

// Patch maps the document to a patch (see the package documentation).
func (a *Advisory) Patch() (patchcore.Patch, error) {
	pb := newPatchBuilder(&a.Document, &a.ProductTree)
	for i := range a.Vulnerabilities {
		pb.add(&a.Vulnerabilities[i])
	}
	return pb.result()
}

// fix slots: the distinct (status, fixed version) forms one product ID can
// take, for caching its de-duplication key.
const (
	slotFixed = iota
	slotUnfixed
	slotWontFix
	slotNotAffected
	numSlots
)

// resolved is a product ID resolved once per document: its platform CPE
// and its Fix template (Status unset), and which slots were already
// checked against the fixBuilder.
type resolved struct {
	fix  patchcore.Fix
	cpe  string
	ok   bool
	done [numSlots]bool
}

// remedy is what the remediations of one vulnerability say of a product ID.
type remedy struct {
	category string
	advisory string
}

// patchBuilder maps a document and its vulnerabilities, one at a time, to
// a patch; product IDs are resolved once per document, not per vulnerability.
type patchBuilder struct {
	p        patchcore.Patch
	vex      bool
	err      error
	tree     *ProductTree
	ix       *index
	b        fixBuilder
	resolved map[string]*resolved
	statuses []string
}

var allStatuses = []string{"fixed", "first_fixed", "recommended", "known_affected", "known_not_affected", "under_investigation"}

func newPatchBuilder(d *Document, tree *ProductTree) *patchBuilder {
	vex := d.Category == "csaf_vex"
	pb := &patchBuilder{vex: vex, tree: tree, b: fixBuilder{seen: map[string]int{}}, resolved: map[string]*resolved{}, statuses: allStatuses}
	if !vex {
		pb.statuses = allStatuses[:3]
	}
	p := patchcore.Patch{
		ID:             d.Tracking.ID,
		Source:         "csaf",
		Vendor:         d.Publisher.Name,
		Title:          d.Title,
		Classification: patchcore.ClassSecurity,
	}
	if strings.HasPrefix(d.Publisher.Name, "Red Hat") {
		p.Vendor = "Red Hat"
	}
	if vex {
		p.Source = "csaf-vex"
	}
	if d.AggregateSeverity.Text != "" {
		p.Severity = patchcore.ParseSeverity(d.AggregateSeverity.Text)
	}
	var err error
	if p.Released, err = parseTime(d.Tracking.InitialReleaseDate); err != nil {
		pb.p, pb.err = p, err
		return pb
	}
	if p.Revised, err = parseTime(d.Tracking.CurrentReleaseDate); err != nil {
		pb.p, pb.err = p, err
		return pb
	}
	for _, n := range d.Notes {
		if n.Category == "general" || (p.Description == "" && n.Category == "summary") {
			p.Description = n.Text
		}
	}
	for _, r := range d.References {
		if r.URL != "" {
			p.References = append(p.References, r.URL)
		}
	}
	pb.p = p
	return pb
}

// result returns the patch, or the error that stopped the builder.
func (pb *patchBuilder) result() (patchcore.Patch, error) {
	if pb.err != nil {
		return pb.p, pb.err
	}
	pb.p.Fixes = pb.b.result()
	return pb.p, nil
}

// lookup resolves a product ID to its Fix template, once per document.
func (pb *patchBuilder) lookup(id string) *resolved {
	if r, ok := pb.resolved[id]; ok {
		return r
	}
	if pb.ix == nil {
		pb.ix = newIndex(pb.tree)
	}
	r := &resolved{}
	if c, ok := pb.ix.resolve(id); ok {
		r.fix, r.ok = componentFix(c)
		r.cpe = c.platform.Helper.CPE
	}
	pb.resolved[id] = r
	return r
}

// remedies maps the product IDs of v's remediations to their category and advisory.
func remedies(v *Vulnerability) map[string]remedy {
	n := 0
	for _, r := range v.Remediations {
		n += len(r.ProductIDs)
	}
	m := make(map[string]remedy, n)
	for _, r := range v.Remediations {
		switch r.Category {
		case "vendor_fix", "no_fix_planned", "none_available":
		default:
			continue
		}
		adv := ""
		if r.Category == "vendor_fix" {
			adv = advisoryFromURL(r.URL)
		}
		for _, id := range r.ProductIDs {
			e, ok := m[id]
			if !ok || r.Category == "no_fix_planned" {
				e.category = r.Category
			}
			if adv != "" {
				e.advisory = adv
			}
			m[id] = e
		}
	}
	return m
}

// add maps one vulnerability: its CVE and the fixes of its product statuses.
func (pb *patchBuilder) add(v *Vulnerability) {
	if pb.err != nil {
		return
	}
	p := &pb.p
	if v.CVE != "" {
		c := patchcore.CVE{ID: v.CVE}
		for _, s := range v.Scores {
			switch {
			case s.CVSSv3 != nil && c.CVSSScore == 0:
				c.CVSSScore, c.CVSSVector = s.CVSSv3.BaseScore, s.CVSSv3.VectorString
			case s.CVSSv2 != nil && c.CVSSScore == 0:
				c.CVSSScore, c.CVSSVector = s.CVSSv2.BaseScore, s.CVSSv2.VectorString
			}
		}
		if !slices.ContainsFunc(p.CVEs, func(x patchcore.CVE) bool { return x.ID == c.ID }) {
			p.CVEs = append(p.CVEs, c)
		}
	}
	if pb.vex {
		if p.Description == "" {
			for _, n := range v.Notes {
				if n.Category == "description" {
					p.Description = n.Text
				}
			}
		}
		if p.Severity.Level == patchcore.SeverityUnknown {
			for _, t := range v.Threats {
				if t.Category == "impact" {
					p.Severity = patchcore.ParseSeverity(t.Details)
				}
			}
		}
	}
	var rem map[string]remedy // built when first needed
	b := &pb.b
	for _, st := range pb.statuses {
		for _, id := range v.ProductStatus[st] {
			r := pb.lookup(id)
			if !r.ok {
				continue
			}
			f := r.fix
			var slot int
			switch st {
			case "fixed", "first_fixed", "recommended":
				f.Status, slot = patchcore.FixFixed, slotFixed
			case "known_affected":
				if rem == nil {
					rem = remedies(v)
				}
				f.Status, slot = patchcore.FixUnfixed, slotUnfixed
				if rem[id].category == "no_fix_planned" {
					f.Status, slot = patchcore.FixWontFix, slotWontFix
				}
				f.FixedVersion = ""
			case "known_not_affected":
				f.Status, slot = patchcore.FixNotAffected, slotNotAffected
				f.FixedVersion = ""
			case "under_investigation":
				f.Status, slot = patchcore.FixUnfixed, slotUnfixed
				f.FixedVersion = ""
			}
			// Once a slot's key is in b.seen, every later fix of the
			// same product ID in that slot is a duplicate.
			if r.done[slot] {
				continue
			}
			r.done[slot] = true
			k := b.key(&f)
			if _, dup := b.seen[k]; dup {
				continue
			}
			if rem == nil {
				rem = remedies(v)
			}
			attrs := map[string]string{}
			if pb.vex {
				attrs["vex_status"] = st
			}
			if rd := rem[id]; rd.category != "" {
				attrs["remediation"] = rd.category
			}
			if adv := rem[id].advisory; adv != "" && adv != p.ID {
				attrs["advisory"] = adv
			}
			if r.cpe != "" {
				attrs["cpe"] = r.cpe
			}
			if len(attrs) > 0 {
				f.Attributes = attrs
			}
			b.seen[k] = len(b.fixes)
			b.fixes = append(b.fixes, f)
		}
	}
}

// fixBuilder collects fixes once each and drops source-rpm fixes of a
// platform and status that has binary ones.
type fixBuilder struct {
	fixes []patchcore.Fix
	seen  map[string]int
}

func (b *fixBuilder) key(f *patchcore.Fix) string {
	return strings.Join([]string{f.ProductID, f.Package, string(f.PackageKind), f.Arch, f.ModuleStream, f.FixedVersion, string(f.Status)}, "\x00")
}

func (b *fixBuilder) result() []patchcore.Fix {
	binary := map[string]bool{}
	for _, f := range b.fixes {
		if f.PackageKind == patchcore.PackageBinary {
			binary[f.ProductID+"\x00"+string(f.Status)] = true
		}
	}
	out := b.fixes[:0]
	for _, f := range b.fixes {
		if f.PackageKind == patchcore.PackageSource && binary[f.ProductID+"\x00"+string(f.Status)] {
			continue
		}
		out = append(out, f)
	}
	return out
}

var reRHAdvisory = regexp.MustCompile(`(RH[SBE]A-\d{4}:\d+)`)

func advisoryFromURL(u string) string {
	return reRHAdvisory.FindString(u)
}

// componentFix maps a resolved component to a Fix; ok is false for
// components that are not rpms.
func componentFix(c component) (patchcore.Fix, bool) {
	name, ver, arch, stream, ok := rpmIdentity(c.comp)
	if !ok {
		return patchcore.Fix{}, false
	}
	distro, release := platformOf(c.platform.Helper.CPE)
	f := patchcore.Fix{
		Distro:       distro,
		Release:      release,
		Product:      c.platform.Name,
		ProductID:    c.platform.Helper.CPE,
		Ecosystem:    patchcore.EcosystemRPM,
		Package:      name,
		PackageKind:  patchcore.PackageBinary,
		Arch:         arch,
		ModuleStream: stream,
		Scheme:       "rpm",
		FixedVersion: ver,
	}
	if f.ProductID == "" {
		f.ProductID = c.platform.ID
	}
	if arch == "src" || arch == "nosrc" {
		f.PackageKind, f.Arch = patchcore.PackageSource, ""
	}
	return f, true
}

// rpmIdentity takes name, "epoch:version-release", arch and module stream
// from a component's purl or, without one, its NEVRA product name.
func rpmIdentity(p Product) (name, ver, arch, stream string, ok bool) {
	if purl := p.Helper.PURL; purl != "" {
		if !strings.HasPrefix(purl, "pkg:rpm/") {
			return "", "", "", "", false
		}
		rest := strings.TrimPrefix(purl, "pkg:rpm/")
		rest, qs, _ := strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, "#")
		path, version, _ := strings.Cut(rest, "@")
		if i := strings.LastIndexByte(path, '/'); i >= 0 {
			path = path[i+1:]
		}
		name, _ = url.PathUnescape(path)
		ver, _ = url.PathUnescape(version)
		q, _ := url.ParseQuery(qs)
		arch = q.Get("arch")
		if e := q.Get("epoch"); e != "" && ver != "" {
			ver = e + ":" + ver
		}
		if mod := q.Get("rpmmod"); mod != "" {
			parts := strings.SplitN(mod, ":", 3)
			if len(parts) >= 2 {
				stream = parts[0] + ":" + parts[1]
			}
		}
		// The product name carries the epoch even when the purl omits it
		// ("python3.9-0:3.9.18-3.el9_4.5.src").
		if n, v, a, ok := parseNEVRA(p.Name); ok && n == name && a == arch && strings.HasSuffix(v, ver) && strings.Contains(v, ":") {
			ver = v
		}
		if name == "" {
			return "", "", "", "", false
		}
		return name, ver, arch, stream, true
	}
	if n, v, a, ok := parseNEVRA(p.Name); ok {
		return n, v, a, "", true
	}
	// A bare component name ("golang") of a VEX known_affected entry.
	if p.Name != "" && !strings.ContainsAny(p.Name, " :/") {
		return p.Name, "", "", "", true
	}
	if m, pkg, ok := strings.Cut(p.Name, "/"); ok && strings.Count(m, ":") == 1 && pkg != "" {
		return pkg, "", "", m, true // "nodejs:20/nodejs"
	}
	return "", "", "", "", false
}

var knownArch = map[string]bool{"src": true, "nosrc": true, "noarch": true, "x86_64": true, "i686": true, "i386": true,
	"aarch64": true, "ppc64le": true, "ppc64": true, "s390x": true, "s390": true, "ppc": true, "ia64": true, "armv7hl": true}

// parseNEVRA splits "telnet-1:0.17-65.el7_6.x86_64" into name, "1:0.17-65.el7_6" and arch.
func parseNEVRA(s string) (name, ver, arch string, ok bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || !knownArch[s[i+1:]] {
		return "", "", "", false
	}
	arch, s = s[i+1:], s[:i]
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return "", "", "", false
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return "", "", "", false
	}
	return s[:v], s[v+1:], arch, true
}

var (
	reCPEEL    = regexp.MustCompile(`(?:^|[:_])el(\d+)`)
	reCPEMajor = regexp.MustCompile(`^(\d+)`)
	reCPEMinor = regexp.MustCompile(`^\d+\.\d+`)
)

// platformOf derives distro and major release from a Red Hat CPE.
func platformOf(cpe string) (distro, release string) {
	if !strings.HasPrefix(cpe, "cpe:/") {
		return "", ""
	}
	parts := strings.Split(strings.TrimPrefix(cpe, "cpe:/"), ":")
	if len(parts) < 3 || parts[1] != "redhat" {
		return "", ""
	}
	distro = "rhel"
	product := parts[2]
	ver := ""
	if len(parts) > 3 {
		ver = parts[3]
	}
	switch product {
	case "rhel_eus", "rhel_aus", "rhel_e4s", "rhel_tus":
		// A minor release's stream: its fixes are that release's.
		if m := reCPEMinor.FindString(ver); m != "" {
			_, rel := patchcore.CanonicalRelease(distro, m)
			return distro, rel
		}
	}
	if strings.HasPrefix(product, "enterprise_linux") || strings.HasPrefix(product, "rhel") {
		if m := reCPEMajor.FindString(ver); m != "" {
			return distro, m
		}
	}
	for _, part := range parts[3:] {
		if m := reCPEEL.FindStringSubmatch(part); m != nil {
			return distro, m[1]
		}
	}
	return distro, ""
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, stream.Malformedf("date %q is not RFC 3339", s)
	}
	return t.UTC(), nil
}

// jsonError locates err at the decoder's offset in file.
func jsonError(file string, dec *json.Decoder, field string, err error) error {
	return stream.InFile(file, stream.JSONError(dec, field, err))
}
