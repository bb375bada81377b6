// Package feed reads vendor and partner patch feeds into patchcore.Patch
// values and merges them into a Catalog indexed for detection. Each format
// lives in its own sub-package (feed/debian, feed/msrc, ...).
package feed

import (
	"slices"
	"sort"
	"sync"

	"github.com/patchcore/sdk/patchcore"
)

// FixRef points at one Fix of one Patch in a Catalog. Both pointers stay
// valid for the life of the Catalog; callers must not modify what they point to.
type FixRef struct {
	Patch *patchcore.Patch
	Fix   *patchcore.Fix
}

// Overlay is a customer's change to a patch that leaves the vendor's data
// intact: a custom severity and a rating.
type Overlay struct {
	CustomSeverity *patchcore.Severity
	Rating         int
}

// Catalog is every patch from every feed, merged and indexed by platform and
// package name, with the supersedence graph. The same patch read from several
// feeds (by ID or alias) is stored once, its fixes, CVEs and aliases united.
//
// A Catalog is safe for concurrent use; detection reads it while feeds are
// added. Patches returned by its methods must be treated as read-only.
type Catalog struct {
	mu       sync.RWMutex
	patches  map[string]*patchcore.Patch // by ID
	alias    map[string]string           // alias or ID -> canonical ID
	byDistro map[string][]*patchcore.Patch
	byPkg    map[pkgKey][]FixRef
	supBy    map[string][]string // ID -> IDs of patches that supersede it
	overlays map[string]Overlay
	dirty    bool
	gen      uint64 // incremented by every Add and SetOverlay
}

type pkgKey struct{ distro, release, pkg string }

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{
		patches:  map[string]*patchcore.Patch{},
		alias:    map[string]string{},
		overlays: map[string]Overlay{},
	}
}

// Add merges patches into the catalog. A patch whose ID or any alias is
// already known is merged into the existing patch rather than added again.
func (c *Catalog) Add(patches ...patchcore.Patch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range patches {
		p := patches[i]
		if id, ok := c.canonical(&p); ok {
			merge(c.patches[id], &p)
			c.alias[p.ID] = id
			for _, a := range p.Aliases {
				c.alias[a] = id
			}
		} else {
			cp := p
			c.patches[p.ID] = &cp
			c.alias[p.ID] = p.ID
			for _, a := range p.Aliases {
				if _, taken := c.alias[a]; !taken {
					c.alias[a] = p.ID
				}
			}
		}
	}
	c.dirty = true
	c.gen++
}

// Generation returns a number that changes whenever the catalog's content
// changes (Add, SetOverlay). Consumers that derive data from the catalog,
// such as detection's pre-parsed versions, compare it to know when to
// rebuild.
func (c *Catalog) Generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *Catalog) canonical(p *patchcore.Patch) (string, bool) {
	if id, ok := c.alias[p.ID]; ok {
		return id, true
	}
	for _, a := range p.Aliases {
		if id, ok := c.alias[a]; ok {
			return id, true
		}
	}
	return "", false
}

// merge folds src into dst: fixes, CVEs, aliases, products, references and
// supersedes are united; empty scalar fields are filled.
func merge(dst, src *patchcore.Patch) {
	if src.ID != dst.ID && !slices.Contains(dst.Aliases, src.ID) {
		dst.Aliases = append(dst.Aliases, src.ID)
	}
	dst.Aliases = union(dst.Aliases, src.Aliases)
	dst.Products = union(dst.Products, src.Products)
	dst.References = union(dst.References, src.References)
	dst.Supersedes = union(dst.Supersedes, src.Supersedes)
	for _, cve := range src.CVEs {
		if !slices.ContainsFunc(dst.CVEs, func(c patchcore.CVE) bool { return c.ID == cve.ID }) {
			dst.CVEs = append(dst.CVEs, cve)
		}
	}
	for _, f := range src.Fixes {
		if !slices.ContainsFunc(dst.Fixes, func(g patchcore.Fix) bool { return sameFix(f, g) }) {
			dst.Fixes = append(dst.Fixes, f)
		}
	}
	if dst.Title == "" {
		dst.Title = src.Title
	}
	if dst.Description == "" {
		dst.Description = src.Description
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

func sameFix(a, b patchcore.Fix) bool {
	return a.Distro == b.Distro && a.Release == b.Release && a.ProductID == b.ProductID &&
		a.Product == b.Product && a.Package == b.Package && a.PackageKind == b.PackageKind &&
		a.Arch == b.Arch && a.ModuleStream == b.ModuleStream && a.Status == b.Status &&
		a.Introduced == b.Introduced && a.FixedVersion == b.FixedVersion &&
		a.KB == b.KB && a.FixedBuild == b.FixedBuild
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
	c.overlays[canon] = o
	c.gen++
	return true
}

// Len returns the number of distinct patches.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.patches)
}

// Get returns the patch with the given ID or alias, with any overlay applied
// to the returned copy.
func (c *Catalog) Get(id string) (patchcore.Patch, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	canon, ok := c.alias[id]
	if !ok {
		return patchcore.Patch{}, false
	}
	p := *c.patches[canon]
	if o, ok := c.overlays[canon]; ok {
		p.CustomSeverity = o.CustomSeverity
		p.Rating = o.Rating
	}
	return p, true
}

// All returns every patch, sorted by ID. Overlays are not applied; use Get.
func (c *Catalog) All() []*patchcore.Patch {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*patchcore.Patch, 0, len(c.patches))
	for _, p := range c.patches {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ForDistro returns the patches with at least one fix for distro (any
// release), sorted by ID.
func (c *Catalog) ForDistro(distro string) []*patchcore.Patch {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.byDistro[distro]
}

// ForPackage returns the fixes for a package name on a distro and release.
// Fixes whose Release is empty (every release of the distro) are included.
// The package name is matched as published: callers look up both the binary
// name and the source name, and check Fix.PackageKind.
func (c *Catalog) ForPackage(distro, release, pkg string) []FixRef {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	refs := c.byPkg[pkgKey{distro, release, pkg}]
	if release != "" {
		if any := c.byPkg[pkgKey{distro, "", pkg}]; len(any) > 0 {
			refs = append(slices.Clip(refs), any...)
		}
	}
	return refs
}

// SupersededBy returns the IDs of the patches that declare they supersede
// the patch with the given ID, directly.
func (c *Catalog) SupersededBy(id string) []string {
	c.index()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.supBy[id]
}

// index rebuilds the indexes after Add. Readers call it first.
func (c *Catalog) index() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty && c.byPkg != nil {
		return
	}
	c.byDistro = map[string][]*patchcore.Patch{}
	c.byPkg = map[pkgKey][]FixRef{}
	c.supBy = map[string][]string{}
	ids := make([]string, 0, len(c.patches))
	for id := range c.patches {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := c.patches[id]
		seen := map[string]bool{}
		for i := range p.Fixes {
			f := &p.Fixes[i]
			if !seen[f.Distro] {
				seen[f.Distro] = true
				c.byDistro[f.Distro] = append(c.byDistro[f.Distro], p)
			}
			if f.Package != "" {
				k := pkgKey{f.Distro, f.Release, f.Package}
				c.byPkg[k] = append(c.byPkg[k], FixRef{Patch: p, Fix: f})
			}
			for _, s := range f.Supersedes {
				c.supBy[s] = appendOnce(c.supBy[s], p.ID)
			}
		}
		for _, s := range p.Supersedes {
			c.supBy[s] = appendOnce(c.supBy[s], p.ID)
		}
	}
	c.dirty = false
}

func appendOnce(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}
