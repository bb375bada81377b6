// Package feed reads vendor and partner patch feeds into patchcore.Patch
// values and merges them into a Catalog indexed for detection. Each format
// lives in its own sub-package (feed/debian, feed/msrc, ...); feed/formats
// lists them all and feed/fetch downloads them.
package feed

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"sync"

	"github.com/patchcore/sdk/patchcore"
)

// FixRef is one Fix of one patch in a Catalog, as ForPackage and
// ForProduct return it: the ID of the patch (Catalog.Get returns it) and a
// copy of the fix, which the caller owns.
type FixRef struct {
	PatchID string
	Fix     patchcore.Fix
}

// Overlay is a customer's change to a patch that leaves the vendor's data
// intact: a custom severity and a rating.
type Overlay struct {
	CustomSeverity *patchcore.Severity
	Rating         int
}

// Catalog is every patch from every feed, merged and indexed by platform,
// package name, MSRC product and CVE, with the supersedence graph and
// customer overlays.
//
// De-duplication: a patch whose ID, or one of whose aliases, is already
// known (as an ID or an alias) is merged into the existing patch: fixes,
// CVEs, aliases, products, references and supersedes are united, empty
// fields filled, and the feeds it came from recorded (Sources). CVE IDs
// (and aliases containing one, such as "UBUNTU-CVE-2021-3782") never join
// patches: a CVE names a vulnerability that many distinct patches fix.
//
// A Catalog is safe for concurrent use; detection reads it while feeds are
// added. Every patch, fix and overlay its methods return is a copy the
// caller owns (no slice, map or pointer is shared with the catalog), with
// the patch's overlay applied: changing it never changes the catalog. The
// one exception is AllShared, a read-only view for consumers that index
// the whole catalog.
type Catalog struct {
	mu       sync.RWMutex
	patches  map[string]*patchcore.Patch // by ID
	alias    map[string]string           // alias or ID -> canonical ID
	sources  map[string][]string         // canonical ID -> feeds it came from
	overlays map[string]Overlay
	dirty    bool
	gen      uint64 // incremented by every Add, SetOverlay and RemoveOverlay

	// Indexes, rebuilt by index() after Add.
	byDistro  map[string][]*patchcore.Patch
	byPkg     map[pkgKey][]fixRef
	byProduct map[string][]fixRef
	byCVE     map[string][]*patchcore.Patch
	supBy     map[string][]string // ID -> IDs of patches that supersede it
	sup       map[string][]string // ID -> IDs it supersedes (canonical where known)
	supByOn   map[[2]string][]string
}

type pkgKey struct{ distro, release, pkg string }

// fixRef points at one fix of one stored patch. What it points to never
// changes: an Add that merges into the patch stores a new value.
type fixRef struct {
	patch *patchcore.Patch
	fix   *patchcore.Fix
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{
		patches:  map[string]*patchcore.Patch{},
		alias:    map[string]string{},
		sources:  map[string][]string{},
		overlays: map[string]Overlay{},
	}
}

var cveLike = regexp.MustCompile(`CVE-\d{4}-\d+`)

// joinsPatches reports whether an alias may identify a patch across feeds.
func joinsPatches(alias string) bool { return alias != "" && !cveLike.MatchString(alias) }

// Add merges patches into the catalog. A patch whose ID or any alias is
// already known is merged into the existing patch rather than added again.
// The catalog keeps its own copies: the caller may reuse the values.
func (c *Catalog) Add(patches ...patchcore.Patch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range patches {
		p := clonePatch(&patches[i])
		if id, ok := c.canonical(&p); ok {
			merged := clonePatch(c.patches[id])
			merge(&merged, &p)
			c.patches[id] = &merged
			c.alias[p.ID] = id
			for _, a := range p.Aliases {
				if joinsPatches(a) {
					if _, taken := c.alias[a]; !taken {
						c.alias[a] = id
					}
				}
			}
			c.sources[id] = appendOnce(c.sources[id], p.Source)
			continue
		}
		c.patches[p.ID] = &p
		c.alias[p.ID] = p.ID
		for _, a := range p.Aliases {
			if joinsPatches(a) {
				if _, taken := c.alias[a]; !taken {
					c.alias[a] = p.ID
				}
			}
		}
		c.sources[p.ID] = []string{p.Source}
	}
	c.dirty = true
	c.gen++
}

// Generation returns a number that changes whenever the catalog's content
// changes (Add, SetOverlay, RemoveOverlay). Consumers that derive data from
// the catalog, such as detection's pre-parsed versions, compare it to know
// when to rebuild.
func (c *Catalog) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// AddFrom parses a feed document with format and adds its patches, in
// batches. It returns the document's ingest status: the patches it held,
// the CVEs they name and the parser's notices (also delivered to a function
// ctx carries, see WithNotices). On a parse error the patches read before
// it are kept and counted.
func (c *Catalog) AddFrom(ctx context.Context, format Format, r io.Reader) (Ingest, error) {
	const batch = 256
	buf := make([]patchcore.Patch, 0, batch)
	st := Ingest{Format: format.Name()}
	err := format.Parse(st.Watch(ctx), r, func(p patchcore.Patch) error {
		buf = append(buf, p)
		st.AddPatch(&p)
		if len(buf) == batch {
			c.Add(buf...)
			buf = buf[:0]
		}
		return nil
	})
	c.Add(buf...)
	if err != nil {
		return st, fmt.Errorf("adding %s feed: %w", format.Name(), err)
	}
	return st, nil
}

func (c *Catalog) canonical(p *patchcore.Patch) (string, bool) {
	if id, ok := c.alias[p.ID]; ok {
		return id, true
	}
	for _, a := range p.Aliases {
		if !joinsPatches(a) {
			continue
		}
		if id, ok := c.alias[a]; ok {
			return id, true
		}
	}
	return "", false
}

// clonePatch copies p deeply enough that no slice or map is shared.
func clonePatch(p *patchcore.Patch) patchcore.Patch {
	q := *p
	q.Aliases = slices.Clone(p.Aliases)
	q.Products = slices.Clone(p.Products)
	q.CVEs = slices.Clone(p.CVEs)
	q.Supersedes = slices.Clone(p.Supersedes)
	q.References = slices.Clone(p.References)
	q.CustomSeverity = cloneSeverity(p.CustomSeverity)
	q.Fixes = make([]patchcore.Fix, len(p.Fixes))
	for i := range p.Fixes {
		q.Fixes[i] = cloneFix(&p.Fixes[i])
	}
	if p.Fixes == nil {
		q.Fixes = nil
	}
	return q
}

func cloneSeverity(s *patchcore.Severity) *patchcore.Severity {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

func cloneFix(f *patchcore.Fix) patchcore.Fix {
	g := *f
	g.Supersedes = slices.Clone(f.Supersedes)
	g.Binaries = slices.Clone(f.Binaries)
	g.ExcludedVersions = slices.Clone(f.ExcludedVersions)
	if f.Attributes != nil {
		g.Attributes = make(map[string]string, len(f.Attributes))
		for k, v := range f.Attributes {
			g.Attributes[k] = v
		}
	}
	if f.Installer != nil {
		in := *f.Installer
		g.Installer = &in
	}
	return g
}

// merge folds src into dst: fixes, CVEs, aliases, products, references and
// supersedes are united; empty scalar fields are filled.
func merge(dst, src *patchcore.Patch) {
	if src.ID != dst.ID && !slices.Contains(dst.Aliases, src.ID) {
		dst.Aliases = append(dst.Aliases, src.ID)
	}
	for _, a := range src.Aliases {
		if a != dst.ID && !slices.Contains(dst.Aliases, a) {
			dst.Aliases = append(dst.Aliases, a)
		}
	}
	dst.Products = union(dst.Products, src.Products)
	dst.References = union(dst.References, src.References)
	dst.Supersedes = union(dst.Supersedes, src.Supersedes)
	for _, cve := range src.CVEs {
		i := slices.IndexFunc(dst.CVEs, func(c patchcore.CVE) bool { return c.ID == cve.ID })
		switch {
		case i < 0:
			dst.CVEs = append(dst.CVEs, cve)
		case dst.CVEs[i].CVSSScore == 0 && cve.CVSSScore > 0:
			dst.CVEs[i] = cve
		}
	}
	for _, f := range src.Fixes {
		i := slices.IndexFunc(dst.Fixes, func(g patchcore.Fix) bool { return sameFix(f, g) })
		if i < 0 {
			dst.Fixes = append(dst.Fixes, f)
			continue
		}
		mergeFix(&dst.Fixes[i], &f)
	}
	if dst.Title == "" {
		dst.Title = src.Title
	}
	if dst.Description == "" {
		dst.Description = src.Description
	}
	if dst.Vendor == "" {
		dst.Vendor = src.Vendor
	}
	if dst.Severity.Level == patchcore.SeverityUnknown {
		dst.Severity = src.Severity
	}
	if dst.Classification == "" || dst.Classification == patchcore.ClassOther {
		dst.Classification = src.Classification
	}
	if dst.Released.IsZero() || (!src.Released.IsZero() && src.Released.Before(dst.Released)) {
		dst.Released = src.Released
	}
	if src.Revised.After(dst.Revised) {
		dst.Revised = src.Revised
	}
	if dst.Reboot == patchcore.RebootUnknown {
		dst.Reboot = src.Reboot
	}
}

// sameFix reports two fixes that say the same thing about the same target;
// mergeFix then unites what only one of them adds.
func sameFix(a, b patchcore.Fix) bool {
	return a.Distro == b.Distro && a.Release == b.Release && a.ProductID == b.ProductID &&
		a.Package == b.Package && a.PackageKind == b.PackageKind &&
		a.Arch == b.Arch && a.ModuleStream == b.ModuleStream && a.Status == b.Status &&
		a.Introduced == b.Introduced && a.FixedVersion == b.FixedVersion &&
		a.KB == b.KB && a.FixedBuild == b.FixedBuild &&
		(a.Installer == nil || b.Installer == nil || a.Installer.URL == b.Installer.URL)
}

func mergeFix(dst, src *patchcore.Fix) {
	dst.Supersedes = union(dst.Supersedes, src.Supersedes)
	if dst.Product == "" {
		dst.Product = src.Product
	}
	if dst.Ecosystem == "" {
		dst.Ecosystem = src.Ecosystem
	}
	if dst.Scheme == "" {
		dst.Scheme = src.Scheme
	}
	if dst.Reboot == patchcore.RebootUnknown {
		dst.Reboot = src.Reboot
	}
	if dst.Severity.Level == patchcore.SeverityUnknown {
		dst.Severity = src.Severity
	}
	if dst.Binaries == nil {
		dst.Binaries = src.Binaries
	}
	if dst.Installer == nil {
		dst.Installer = src.Installer
	}
	for k, v := range src.Attributes {
		if _, ok := dst.Attributes[k]; !ok {
			if dst.Attributes == nil {
				dst.Attributes = map[string]string{}
			}
			dst.Attributes[k] = v
		}
	}
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

// SetOverlay records a customer overlay for the patch with the given ID or
// alias. It reports false when no such patch is in the catalog.
func (c *Catalog) SetOverlay(id string, o Overlay) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	canon, ok := c.alias[id]
	if !ok {
		return false
	}
	o.CustomSeverity = cloneSeverity(o.CustomSeverity)
	c.overlays[canon] = o
	c.gen++
	return true
}

// Overlay returns the overlay of the patch with the given ID or alias.
func (c *Catalog) Overlay(id string) (Overlay, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.overlays[c.alias[id]]
	o.CustomSeverity = cloneSeverity(o.CustomSeverity)
	return o, ok
}

// RemoveOverlay drops the overlay of the patch with the given ID or alias,
// reporting whether there was one.
func (c *Catalog) RemoveOverlay(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	canon := c.alias[id]
	_, ok := c.overlays[canon]
	if ok {
		delete(c.overlays, canon)
		c.gen++
	}
	return ok
}

// copyOut returns the caller's copy of a stored patch: a deep copy with
// its overlay (if any) applied. The vendor's Severity is unchanged;
// CustomSeverity and Rating are the customer's.
func (c *Catalog) copyOut(p *patchcore.Patch) patchcore.Patch {
	q := clonePatch(p)
	if o, ok := c.overlays[p.ID]; ok {
		q.CustomSeverity = cloneSeverity(o.CustomSeverity)
		q.Rating = o.Rating
	}
	return q
}

// copyAll is copyOut for a list of stored patches.
func (c *Catalog) copyAll(ps []*patchcore.Patch) []patchcore.Patch {
	if len(ps) == 0 {
		return nil
	}
	out := make([]patchcore.Patch, len(ps))
	for i, p := range ps {
		out[i] = c.copyOut(p)
	}
	return out
}

// copyRefs returns the caller's copies of stored fix references.
func copyRefs(refs ...[]fixRef) []FixRef {
	n := 0
	for _, r := range refs {
		n += len(r)
	}
	if n == 0 {
		return nil
	}
	out := make([]FixRef, 0, n)
	for _, rs := range refs {
		for _, r := range rs {
			out = append(out, FixRef{PatchID: r.patch.ID, Fix: cloneFix(r.fix)})
		}
	}
	return out
}

// Len returns the number of distinct patches.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.patches)
}

// Get returns a copy of the patch with the given ID or alias, its overlay
// applied.
func (c *Catalog) Get(id string) (patchcore.Patch, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	canon, ok := c.alias[id]
	if !ok {
		return patchcore.Patch{}, false
	}
	return c.copyOut(c.patches[canon]), true
}

// Sources returns the feeds (Patch.Source values) the patch with the given
// ID or alias was read from, in the order they were added.
func (c *Catalog) Sources(id string) []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.sources[c.alias[id]])
}

// All returns a copy of every patch, overlays applied, sorted by ID: what
// approve.Evaluate takes.
func (c *Catalog) All() []patchcore.Patch {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.copyAll(c.sorted())
}

// sorted returns the stored patches sorted by ID; c.mu must be held.
func (c *Catalog) sorted() []*patchcore.Patch {
	ps := make([]*patchcore.Patch, 0, len(c.patches))
	for _, p := range c.patches {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	return ps
}

// AllShared is All without the deep copies, for consumers that index and
// keep the whole catalog (detection does, once per Generation), where
// copying every fix would double the memory. Each patch is the caller's
// shallow copy (its scalar fields and CustomSeverity are its own, its
// overlay applied), but the slices, maps and pointers in it (Fixes, CVEs,
// Aliases, Fix.Attributes, Fix.Installer, ...) are the catalog's: a
// read-only view. Appending to them is safe (each is clipped to its
// length); changing their elements changes the catalog, so must not be
// done. A later Add never changes them: a merge stores a new value.
func (c *Catalog) AllShared() []patchcore.Patch {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]patchcore.Patch, 0, len(c.patches))
	for _, p := range c.sorted() {
		q := *p
		q.Aliases, q.Products, q.CVEs = slices.Clip(q.Aliases), slices.Clip(q.Products), slices.Clip(q.CVEs)
		q.Supersedes, q.References, q.Fixes = slices.Clip(q.Supersedes), slices.Clip(q.References), slices.Clip(q.Fixes)
		q.CustomSeverity = cloneSeverity(q.CustomSeverity)
		if o, ok := c.overlays[p.ID]; ok {
			q.CustomSeverity = cloneSeverity(o.CustomSeverity)
			q.Rating = o.Rating
		}
		out = append(out, q)
	}
	return out
}

// ForDistro returns copies of the patches with at least one fix for distro
// (any release), overlays applied, sorted by ID. Distributions are compared
// in canonical form (patchcore.CanonicalRelease): "RedHat" finds the "rhel"
// fixes.
func (c *Catalog) ForDistro(distro string) []patchcore.Patch {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	d, _ := patchcore.CanonicalRelease(distro, "")
	return c.copyAll(c.byDistro[d])
}

// ForPackage returns the fixes for a package name on a distro and release.
// Fixes whose Release is empty (every release of the distro) are included.
// Distro and release are compared in canonical form on both sides
// (patchcore.CanonicalRelease): "debian"/"12" finds the fixes a tracker
// published for "bookworm", "ubuntu"/"bionic" those an OSV feed published
// for "18.04". The package name is matched as published: callers look up
// both the binary name and the source name, and check Fix.PackageKind.
// Application catalogs use Distro "windows" and an empty release;
// Chocolatey ids are lower case.
func (c *Catalog) ForPackage(distro, release, pkg string) []FixRef {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	distro, release = patchcore.CanonicalRelease(distro, release)
	refs := c.byPkg[pkgKey{distro, release, pkg}]
	if release == "" {
		return copyRefs(refs)
	}
	return copyRefs(refs, c.byPkg[pkgKey{distro, "", pkg}])
}

// ForProduct returns the fixes for a vendor ProductID (MSRC "12243"),
// ordered by patch ID.
func (c *Catalog) ForProduct(productID string) []FixRef {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return copyRefs(c.byProduct[productID])
}

// ForCVE returns copies of the patches that list the CVE, overlays
// applied, sorted by ID.
func (c *Catalog) ForCVE(cve string) []patchcore.Patch {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.copyAll(c.byCVE[cve])
}

// SupersededBy returns the IDs of the patches that declare they supersede
// the patch with the given ID, directly, sorted.
func (c *Catalog) SupersededBy(id string) []string {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.supBy[c.canon(id)])
}

// Supersedes returns the IDs the patch declares it supersedes, on the
// patch or on any of its fixes, canonicalised where the catalog knows them,
// sorted.
func (c *Catalog) Supersedes(id string) []string {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.sup[c.canon(id)])
}

// SupersededByTransitive returns every patch that supersedes id directly or
// through a chain (KB5034123 supersedes KB5033375, which superseded
// KB5032190, ...), sorted. Cycles in vendor data are tolerated.
func (c *Catalog) SupersededByTransitive(id string) []string {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	start := c.canon(id)
	seen := map[string]bool{start: true}
	queue := []string{start}
	var out []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, s := range c.supBy[cur] {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
				queue = append(queue, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// SupersededByOn returns the patches whose fix for productID names id in
// its per-product Supersedes (MSRC's Supercedence is per product), sorted.
func (c *Catalog) SupersededByOn(id, productID string) []string {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.supByOn[[2]string{c.canon(id), productID}])
}

// canon maps an ID or alias to the canonical ID; unknown IDs map to themselves.
func (c *Catalog) canon(id string) string {
	if canon, ok := c.alias[id]; ok {
		return canon
	}
	return id
}

// index rebuilds the indexes after Add. Readers call it first.
func (c *Catalog) index() {
	c.mu.RLock()
	fresh := !c.dirty && c.byPkg != nil
	c.mu.RUnlock()
	if fresh {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty && c.byPkg != nil {
		return
	}
	c.byDistro = map[string][]*patchcore.Patch{}
	c.byPkg = map[pkgKey][]fixRef{}
	c.byProduct = map[string][]fixRef{}
	c.byCVE = map[string][]*patchcore.Patch{}
	c.supBy = map[string][]string{}
	c.sup = map[string][]string{}
	c.supByOn = map[[2]string][]string{}
	ids := make([]string, 0, len(c.patches))
	for id := range c.patches {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	// Few (distro, release) spellings recur over many fixes.
	canon := map[[2]string][2]string{}
	for _, id := range ids {
		p := c.patches[id]
		seen := map[string]bool{}
		for i := range p.Fixes {
			f := &p.Fixes[i]
			k := [2]string{f.Distro, f.Release}
			dr, ok := canon[k]
			if !ok {
				dr[0], dr[1] = patchcore.CanonicalRelease(f.Distro, f.Release)
				canon[k] = dr
			}
			distro, release := dr[0], dr[1]
			if !seen[distro] {
				seen[distro] = true
				c.byDistro[distro] = append(c.byDistro[distro], p)
			}
			if f.Package != "" {
				k := pkgKey{distro, release, f.Package}
				c.byPkg[k] = append(c.byPkg[k], fixRef{patch: p, fix: f})
			}
			if f.ProductID != "" {
				c.byProduct[f.ProductID] = append(c.byProduct[f.ProductID], fixRef{patch: p, fix: f})
			}
			for _, s := range f.Supersedes {
				s = c.canon(s)
				if s == p.ID {
					continue
				}
				c.supBy[s] = appendOnce(c.supBy[s], p.ID)
				c.sup[p.ID] = appendOnce(c.sup[p.ID], s)
				if f.ProductID != "" {
					k := [2]string{s, f.ProductID}
					c.supByOn[k] = appendOnce(c.supByOn[k], p.ID)
				}
			}
		}
		for _, s := range p.Supersedes {
			s = c.canon(s)
			if s == p.ID {
				continue
			}
			c.supBy[s] = appendOnce(c.supBy[s], p.ID)
			c.sup[p.ID] = appendOnce(c.sup[p.ID], s)
		}
		for _, cve := range p.CVEs {
			if n := len(c.byCVE[cve.ID]); n == 0 || c.byCVE[cve.ID][n-1] != p {
				c.byCVE[cve.ID] = append(c.byCVE[cve.ID], p)
			}
		}
	}
	for _, m := range []map[string][]string{c.supBy, c.sup} {
		for _, v := range m {
			slices.Sort(v)
		}
	}
	for _, v := range c.supByOn {
		slices.Sort(v)
	}
	c.dirty = false
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
