// Package msrc reads Microsoft Security Response Center feeds: the monthly
// CVRF 1.1 security update documents (https://api.msrc.microsoft.com/cvrf/v3.0/cvrf/2024-Jan)
// and the CSAF 2.0 JSON documents that replaced them
// (https://msrc.microsoft.com/csaf/advisories/2024/msrc_cve-2024-21413.json).
//
// Both give one patchcore.Patch per KB article: ID "KB5034441", Source
// "msrc-cvrf" or "msrc-csaf", Vendor "Microsoft", Classification security,
// Severity the highest any of its CVEs has on a product the KB fixes, and
// the CVEs with their CVSS base score. The patch has one Fix per (KB,
// MSRC ProductID): Distro "windows", Product the full MSRC product name,
// ProductID, KB, FixedBuild when published, Supersedes (the Supercedence
// KBs, normalised to "KBnnnnnnn"), Reboot (RestartRequired) and Scheme
// "dotted".
//
// A hotpatch KB (SubType "SecurityHotpatchUpdate" and its other spellings)
// has Fix.Hotpatch set: it applies only to devices enrolled in hotpatching.
// Where a vulnerability lists a hotpatch and a cumulative update for the
// same product on the same build line, each fix names the other in
// Fix.Equivalents: a device with either installed has what both fix.
//
// Remediations that are not KB articles (Edge "Release Notes", CBL-Mariner
// package names, Office "Click to Run") carry no KB and are not emitted as
// patches; their products still appear in the Document's product tree.
//
// A CVRF document lists a KB under every vulnerability it fixes, so patches
// are complete only at the end of the document: the parser streams the XML
// (one vulnerability decoded at a time) and emits the KB patches, in order
// of first appearance, once the document is read.
package msrc

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// Source names, as Patch.Source carries them.
const (
	SourceCVRF = "msrc-cvrf"
	SourceCSAF = "msrc-csaf"
)

// Product is one entry of an MSRC product tree.
type Product struct {
	// ID is MSRC's ProductID ("12243"; "12079-12243" for a product on a platform).
	ID string `json:"id"`
	// Name is the full product name ("Windows 11 Version 23H2 for x64-based Systems").
	Name string `json:"name"`
	// Family is the product family branch ("Windows", "ESU", "Browser"), when given.
	Family string `json:"family,omitempty"`
}

// Document is what a parsed MSRC document says about itself: its identity,
// dates and product tree. Detection maps devices to MSRC products with
// Products.
type Document struct {
	// ID is the document's identifier ("2024-Jan", "msrc_CVE-2024-21413").
	ID    string `json:"id"`
	Title string `json:"title,omitempty"`
	// Released and Revised are the initial and current release dates.
	Released time.Time `json:"released,omitzero"`
	Revised  time.Time `json:"revised,omitzero"`
	// Products maps ProductID to product.
	Products map[string]Product `json:"products"`
}

// ProductIDs returns the document's product IDs in a stable order.
func (d *Document) ProductIDs() []string {
	ids := make([]string, 0, len(d.Products))
	for id := range d.Products {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// splitKBs splits a Supercedence value ("5033371", "5033371; 5033372",
// "KB4497936,KB4499162") into normalised KBs, dropping what is not a KB.
func splitKBs(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' }) {
		if kb, ok := patchcore.NormalizeKB(f); ok && !slices.Contains(out, kb) {
			out = append(out, kb)
		}
	}
	return out
}

// reboot maps RestartRequired ("Yes", "No", "Maybe") and CSAF
// restart_required categories to a RebootBehavior.
func reboot(s string) patchcore.RebootBehavior {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "machine", "system", "required":
		return patchcore.RebootRequired
	case "no", "none":
		return patchcore.RebootNever
	case "maybe", "service", "parent", "child", "zone", "dependencies", "vulnerable_component":
		return patchcore.RebootMay
	}
	return patchcore.RebootUnknown
}

func strongerReboot(a, b patchcore.RebootBehavior) patchcore.RebootBehavior {
	rank := func(r patchcore.RebootBehavior) int {
		switch r {
		case patchcore.RebootRequired:
			return 3
		case patchcore.RebootMay:
			return 2
		case patchcore.RebootNever:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// parseTime reads MSRC dates, with or without zone and fraction.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// remKind says what a remediation becomes.
type remKind int

const (
	remKB      remKind = iota // a KB article: one patch per KB
	remProduct                // a product version (Edge, Visual Studio): one patch per (ProductID, FixedBuild)
	remPackage                // an Azure Linux / CBL-Mariner package: one patch per (distro, package, version)
)

// remediation is one remediation of one vulnerability that becomes a
// patch, common to CVRF and CSAF.
type remediation struct {
	kind remKind
	// id is the patch ID: the KB, "msrc:<ProductID>@<FixedBuild>" or
	// "<distro>:<package>@<version>".
	id string
	// version, pkg, distro, release and arch describe remProduct and
	// remPackage remediations (one product each).
	version, pkg, distro, release, arch string
	kb                                  string
	url                                 string
	supersedes                          []string
	productIDs                          []string
	restart                             patchcore.RebootBehavior
	subType                             string
	hotpatch                            bool              // subType names a hotpatch
	fixedBuild                          string            // for every product, CVRF
	rawBuild                            string            // a FixedBuild that is not a dotted build
	fixedBuilds                         map[string]string // per product, CSAF
}

// vulnInfo is what a vulnerability says about severity and scores, per product.
type vulnInfo struct {
	cve      string
	severity map[string]patchcore.Severity // by ProductID
	scores   map[string]patchcore.CVE      // by ProductID
	anySev   patchcore.Severity
	anyScore patchcore.CVE
}

func newVulnInfo(cve string) *vulnInfo {
	return &vulnInfo{cve: cve, severity: map[string]patchcore.Severity{}, scores: map[string]patchcore.CVE{}, anyScore: patchcore.CVE{ID: cve}}
}

func (v *vulnInfo) addSeverity(word string, products []string) {
	s := patchcore.ParseSeverity(word)
	if s.Compare(v.anySev) > 0 {
		v.anySev = s
	}
	for _, p := range products {
		if s.Compare(v.severity[p]) > 0 {
			v.severity[p] = s
		}
	}
}

func (v *vulnInfo) addScore(base string, vector string, products []string) {
	score, err := strconv.ParseFloat(strings.TrimSpace(base), 64)
	if err != nil || score < 0 || score > 10 {
		return
	}
	c := patchcore.CVE{ID: v.cve, CVSSScore: score, CVSSVector: strings.TrimSpace(vector)}
	if c.CVSSScore > v.anyScore.CVSSScore {
		v.anyScore = c
	}
	for _, p := range products {
		if c.CVSSScore > v.scores[p].CVSSScore {
			v.scores[p] = c
		}
	}
}

// builder accumulates KB patches across a document.
type builder struct {
	source  string
	doc     *Document
	order   []string
	patches map[string]*kbPatch
	// equiv maps KB -> ProductID -> the KBs equivalent to it there (a
	// hotpatch and the cumulative update of the same month).
	equiv map[string]map[string][]string
	// notCovered is the notice of the last vulnerability read, when it
	// gave no patch; the parser locates and delivers it.
	notCovered *feed.Notice
}

// skippedRemediation is a Vendor Fix that gave no patch, and why.
type skippedRemediation struct {
	desc, subType string
	products      []string
	why           string
}

// linuxProduct parses an MSRC Linux product name ("CBL Mariner 2.0 x64",
// "Azure Linux 3.0 ARM") into the os-release ID, release and rpm
// architecture.
func linuxProduct(name string) (distro, release, arch string, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(name, "CBL Mariner "):
		distro, rest = "mariner", strings.TrimPrefix(name, "CBL Mariner ")
	case strings.HasPrefix(name, "Azure Linux "):
		distro, rest = "azurelinux", strings.TrimPrefix(name, "Azure Linux ")
	default:
		return "", "", "", false
	}
	f := strings.Fields(rest)
	if len(f) == 0 || !validBuild(f[0]) {
		return "", "", "", false
	}
	release = f[0]
	if len(f) > 1 {
		switch strings.ToLower(f[1]) {
		case "x64":
			arch = "x86_64"
		case "arm", "arm64":
			arch = "aarch64"
		}
	}
	return distro, release, arch, true
}

// versioned turns a Vendor Fix that is not a KB into patches: for an Azure
// Linux / CBL-Mariner product the package (Description) at FixedBuild, for
// any other product the product at a dotted FixedBuild (Edge, Visual
// Studio, PowerShell "Release Notes"). why says what was left out.
func (b *builder) versioned(base *remediation, desc, fb string) ([]*remediation, string) {
	var out []*remediation
	var why []string
	reason := func(s string) {
		if !slices.Contains(why, s) {
			why = append(why, s)
		}
	}
	for _, id := range base.productIDs {
		name := b.doc.Products[id].Name
		pkgName := desc
		platform := name
		// Since 2025 MSRC names one product per package and release:
		// "cbl2 php 8.1.33-1 on CBL Mariner 2.0", "azl3 kernel 6.6.117.1-1
		// on Azure Linux 3.0"; the Description is "CBL-Mariner Releases".
		if i := strings.LastIndex(name, " on "); i >= 0 {
			if _, _, _, ok := linuxProduct(name[i+len(" on "):]); ok {
				platform = name[i+len(" on "):]
				f := strings.Fields(name[:i])
				if len(f) >= 2 && (strings.HasPrefix(f[0], "cbl") || strings.HasPrefix(f[0], "azl")) {
					f = f[1:]
				}
				if len(f) > 0 {
					pkgName = f[0]
				}
			}
		}
		if distro, release, arch, ok := linuxProduct(platform); ok {
			desc := pkgName
			if desc == "" || strings.ContainsAny(desc, " \t") || fb == "" || len(fb) > 128 {
				reason(fmt.Sprintf("%q at %q is not a package and version", desc, fb))
				continue
			}
			r := *base
			r.kind, r.id, r.pkg, r.version, r.distro, r.release, r.arch = remPackage, distro+":"+desc+"@"+fb, desc, fb, distro, release, arch
			r.productIDs = []string{id}
			out = append(out, &r)
			continue
		}
		if !validBuild(fb) {
			if fb == "" {
				reason("no FixedBuild")
			} else {
				reason(fmt.Sprintf("FixedBuild %q is not a version", fb))
			}
			continue
		}
		r := *base
		r.kind, r.id, r.version = remProduct, "msrc:"+id+"@"+fb, fb
		r.productIDs = []string{id}
		out = append(out, &r)
	}
	return out, strings.Join(why, "; ")
}

// notCoveredNotice says why a vulnerability gave no patch.
func (b *builder) notCoveredNotice(cve string, vendorFixes int, skipped []skippedRemediation, affected []string) *feed.Notice {
	var msg string
	if vendorFixes == 0 {
		msg = "no Vendor Fix remediation (no fix published; known issues, mitigations or workarounds at most)"
		if len(affected) > 0 {
			msg += " for " + b.productNames(affected)
		}
	} else {
		parts := make([]string, 0, len(skipped))
		for _, r := range skipped {
			parts = append(parts, fmt.Sprintf("%q (%s) for %s: %s", r.desc, r.subType, b.productNames(r.products), r.why))
		}
		msg = "no remediation patchcore turns into a patch: " + strings.Join(parts, "; ")
	}
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return &feed.Notice{Kind: feed.NoticeNotCovered, ID: cve, Message: msg}
}

// productNames names up to four products, then counts the rest.
func (b *builder) productNames(ids []string) string {
	var names []string
	for _, id := range ids {
		n := b.doc.Products[id].Name
		if n == "" {
			n = "product " + id
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "no product"
	}
	if len(names) > 4 {
		return strings.Join(names[:4], ", ") + fmt.Sprintf(" and %d more", len(names)-4)
	}
	return strings.Join(names, ", ")
}

// isHotpatch reports an MSRC remediation SubType that names a hotpatch
// ("SecurityHotpatchUpdate", "Security Hotpatch Update", "AzureHotpatch",
// "Azure Hotpatch": MSRC has spelt it all four ways).
func isHotpatch(subType string) bool {
	return strings.Contains(strings.ToLower(strings.ReplaceAll(subType, " ", "")), "hotpatch")
}

// linkHotpatches records, for the KB remediations of one vulnerability,
// that a hotpatch and a cumulative update fixing it on the same product and
// build line are equivalent there.
func (b *builder) linkHotpatches(rems []*remediation) {
	for _, h := range rems {
		if !h.hotpatch {
			continue
		}
		for _, c := range rems {
			if c.hotpatch || c.kb == h.kb || !sameBuildLine(h.fixedBuild, c.fixedBuild) {
				continue
			}
			for _, id := range h.productIDs {
				if slices.Contains(c.productIDs, id) {
					b.link(h.kb, id, c.kb)
					b.link(c.kb, id, h.kb)
				}
			}
		}
	}
}

func (b *builder) link(kb, productID, other string) {
	if b.equiv == nil {
		b.equiv = map[string]map[string][]string{}
	}
	m := b.equiv[kb]
	if m == nil {
		m = map[string][]string{}
		b.equiv[kb] = m
	}
	if !slices.Contains(m[productID], other) {
		m[productID] = append(m[productID], other)
	}
}

// sameBuildLine reports two FixedBuilds with the same major.minor.build
// ("10.0.20348.2333" and "10.0.20348.2340"); builds that are unknown do
// not match.
func sameBuildLine(a, b string) bool {
	line := func(s string) string {
		parts := strings.SplitN(s, ".", 4)
		if len(parts) < 4 {
			return ""
		}
		return strings.Join(parts[:3], ".")
	}
	la := line(a)
	return la != "" && la == line(b)
}

type kbPatch struct {
	patch  patchcore.Patch
	fixIdx map[string]int // ProductID -> index in Fixes
	cveIdx map[string]int
}

func newBuilder(source string, doc *Document) *builder {
	return &builder{source: source, doc: doc, patches: map[string]*kbPatch{}}
}

// add records that rem fixes vuln.
func (b *builder) add(v *vulnInfo, rem *remediation) {
	if rem.id == "" {
		rem.id = rem.kb
	}
	kp := b.patches[rem.id]
	if kp == nil {
		kp = &kbPatch{
			patch: patchcore.Patch{
				ID:             rem.id,
				Source:         b.source,
				Vendor:         "Microsoft",
				Classification: patchcore.ClassSecurity,
			},
			fixIdx: map[string]int{},
			cveIdx: map[string]int{},
		}
		b.patches[rem.id] = kp
		b.order = append(b.order, rem.id)
	}
	p := &kp.patch
	if rem.url != "" && !slices.Contains(p.References, rem.url) {
		p.References = append(p.References, rem.url)
	}
	if p.Title == "" && rem.subType != "" && rem.kind == remKB {
		p.Title = rem.subType + " " + rem.kb
	}
	for _, s := range rem.supersedes {
		if s != rem.kb && !slices.Contains(p.Supersedes, s) {
			p.Supersedes = append(p.Supersedes, s)
		}
	}
	p.Reboot = strongerReboot(p.Reboot, rem.restart)
	sev := patchcore.Severity{}
	score := patchcore.CVE{ID: v.cve}
	for _, id := range rem.productIDs {
		if s, ok := v.severity[id]; ok && s.Compare(sev) > 0 {
			sev = s
		}
		if c, ok := v.scores[id]; ok && c.CVSSScore > score.CVSSScore {
			score = c
		}
		b.addFix(kp, id, rem, v.severity[id])
	}
	if sev.Level == patchcore.SeverityUnknown {
		sev = v.anySev
	}
	if score.CVSSScore == 0 {
		score = v.anyScore
	}
	if sev.Compare(p.Severity) > 0 {
		p.Severity = sev
	}
	if v.cve != "" {
		if i, ok := kp.cveIdx[v.cve]; !ok {
			kp.cveIdx[v.cve] = len(p.CVEs)
			p.CVEs = append(p.CVEs, score)
		} else if score.CVSSScore > p.CVEs[i].CVSSScore {
			p.CVEs[i] = score
		}
	}
}

func (b *builder) addFix(kp *kbPatch, id string, rem *remediation, sev patchcore.Severity) {
	p := &kp.patch
	build := rem.fixedBuild
	if fb, ok := rem.fixedBuilds[id]; ok {
		build = fb
	}
	if i, ok := kp.fixIdx[id]; ok {
		f := &p.Fixes[i]
		for _, s := range rem.supersedes {
			if s != rem.kb && !slices.Contains(f.Supersedes, s) {
				f.Supersedes = append(f.Supersedes, s)
			}
		}
		if f.FixedBuild == "" {
			f.FixedBuild = build
		}
		f.Reboot = strongerReboot(f.Reboot, rem.restart)
		f.Hotpatch = f.Hotpatch || rem.hotpatch
		if sev.Compare(f.Severity) > 0 {
			f.Severity = sev
		}
		return
	}
	var sup []string
	for _, s := range rem.supersedes {
		if s != rem.kb {
			sup = append(sup, s)
		}
	}
	kp.fixIdx[id] = len(p.Fixes)
	switch rem.kind {
	case remProduct:
		p.Fixes = append(p.Fixes, patchcore.Fix{
			ProductID:    id,
			Ecosystem:    patchcore.EcosystemMicrosoft,
			Scheme:       "dotted",
			FixedVersion: rem.version,
			Reboot:       rem.restart,
			Severity:     sev,
		})
		return
	case remPackage:
		p.Fixes = append(p.Fixes, patchcore.Fix{
			Distro:       rem.distro,
			Release:      rem.release,
			ProductID:    id,
			Ecosystem:    patchcore.EcosystemRPM,
			Package:      rem.pkg,
			Arch:         rem.arch,
			Scheme:       "rpm",
			FixedVersion: rem.version,
			Reboot:       rem.restart,
			Severity:     sev,
		})
		return
	}
	p.Fixes = append(p.Fixes, patchcore.Fix{
		Hotpatch:   rem.hotpatch,
		Distro:     "windows",
		ProductID:  id,
		Ecosystem:  patchcore.EcosystemWindows,
		Scheme:     "dotted",
		KB:         rem.kb,
		FixedBuild: build,
		Supersedes: sup,
		Reboot:     rem.restart,
		Severity:   sev,
	})
	if rem.rawBuild != "" {
		p.Fixes[len(p.Fixes)-1].Attributes = map[string]string{"fixed_build_text": rem.rawBuild}
	}
}

// finish fills document-level fields and returns the patches in order of first appearance.
func (b *builder) finish() []patchcore.Patch {
	out := make([]patchcore.Patch, 0, len(b.order))
	for _, kb := range b.order {
		p := b.patches[kb].patch
		kind := remKB
		if !strings.HasPrefix(kb, "KB") {
			kind = remPackage
			if strings.HasPrefix(kb, "msrc:") {
				kind = remProduct
			}
		}
		// Names are resolved last: a CSAF document may list its
		// vulnerabilities before its product tree.
		for i := range p.Fixes {
			f := &p.Fixes[i]
			if eq := b.equiv[kb][f.ProductID]; len(eq) > 0 {
				f.Equivalents = slices.Clone(eq)
				slices.Sort(f.Equivalents)
			}
			if pr, ok := b.doc.Products[f.ProductID]; ok && pr.Name != "" {
				f.Product = pr.Name
				if !slices.Contains(p.Products, pr.Name) {
					p.Products = append(p.Products, pr.Name)
				}
			}
			if kind == remProduct {
				f.Package = f.Product
				if f.Package == "" {
					f.Package = "product " + f.ProductID
				}
			}
		}
		if p.Title == "" && len(p.Fixes) > 0 {
			f := p.Fixes[0]
			switch kind {
			case remProduct:
				p.Title = f.Package + " " + f.FixedVersion
			case remPackage:
				p.Title = f.Package + " " + f.FixedVersion + " for " + strings.Join(p.Products, ", ")
			}
		}
		p.Released = b.doc.Released
		p.Revised = b.doc.Revised
		if p.Title == "" {
			p.Title = kb
		}
		if b.doc.Title != "" {
			p.Title += " (" + b.doc.Title + ")"
		}
		slices.SortStableFunc(p.CVEs, func(a, c patchcore.CVE) int { return cmp.Compare(a.ID, c.ID) })
		out = append(out, p)
	}
	return out
}
