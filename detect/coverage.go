package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/patchcore/sdk/patchcore"
)

// Coverage says how much of the catalog concerns a device, and whether the
// catalog covers the device at all. "Nothing applies" and "not covered" are
// different answers: a covered device with no Missing finding is a clean
// answer; a device the catalog does not cover has no answer, and its
// Result is Unknown whatever its Counts say (approve never counts it
// compliant: see approve.DeviceResult.NotCovered).
type Coverage struct {
	// Covered reports that the catalog has patches for the device's
	// platform: its distro and release (release-independent fixes of the
	// distro count), or the MSRC product its Windows build maps to. A
	// device with neither a Linux distro nor Windows (macOS, a bare list
	// of application packages) is covered when the catalog has patches for
	// one of its packages' ecosystems.
	Covered bool `json:"covered"`
	// Patches is the number of catalog patches for the device, whatever
	// their finding: those with a fix for its distro and release (Linux;
	// NotApplicable ones included) or for its Windows product (patches for
	// other products, which Counts.NotApplicable also counts, are not),
	// plus those of its application packages' ecosystems (winget,
	// Chocolatey, npm, ...).
	Patches int `json:"patches"`
	// Reason says why the device is not covered ("the catalog has no
	// patches for debian bookworm"); empty when it is.
	Reason string `json:"reason,omitempty"`
	// Catalog lists what the catalog does cover, sorted; set only when the
	// device is not covered, so that the caller can say what would be. It
	// is shared between Results: treat it as read-only.
	Catalog []Scope `json:"catalog,omitempty"`
}

// Scope is one platform, Windows product or package ecosystem the catalog
// has patches for.
type Scope struct {
	// Distro and Release name a Linux distribution release ("debian",
	// "bookworm"); Release is empty for release-independent fixes.
	Distro  string `json:"distro,omitempty"`
	Release string `json:"release,omitempty"`
	// Product is an MSRC product name ("Windows 11 Version 23H2 for
	// x64-based Systems").
	Product string `json:"product,omitempty"`
	// Ecosystem is an application or language ecosystem ("winget", "npm").
	Ecosystem patchcore.Ecosystem `json:"ecosystem,omitempty"`
	// Patches is the number of catalog patches with a fix for the scope.
	Patches int `json:"patches"`
}

// String names the scope as the CLI prints it: "debian bookworm", "debian
// (any release)", "Windows 11 Version 23H2 for x64-based Systems", "npm".
func (s Scope) String() string {
	switch {
	case s.Product != "":
		return s.Product
	case s.Ecosystem != "":
		return string(s.Ecosystem)
	case s.Release == "":
		return s.Distro + " (any release)"
	}
	return s.Distro + " " + s.Release
}

// scopeCache is what one compiled generation of the catalog covers.
type scopeCache struct {
	c *compiled
	// ecoPatches counts patches per application or language ecosystem.
	ecoPatches map[patchcore.Ecosystem]int
	// scopes lists every scope; built on first need (a device that is not
	// covered), since most fleets never need it.
	once   sync.Once
	scopes []Scope
}

// scopesOf returns the scope cache of c, made once per generation.
func (e *Engine) scopesOf(c *compiled) *scopeCache {
	if sc := e.scopes.Load(); sc != nil && sc.c == c {
		return sc
	}
	sc := &scopeCache{c: c, ecoPatches: map[patchcore.Ecosystem]int{}}
	for eco, ps := range ecosystemPatches(c) {
		sc.ecoPatches[eco] = len(ps)
	}
	e.scopes.Store(sc)
	return sc
}

// list returns every scope of the catalog, sorted.
func (sc *scopeCache) list() []Scope {
	sc.once.Do(func() { sc.scopes = buildScopes(sc.c) })
	return sc.scopes
}

// ecosystemPatches collects the patches of each application or language
// ecosystem.
func ecosystemPatches(c *compiled) map[patchcore.Ecosystem]map[*cpatch]bool {
	eco := map[patchcore.Ecosystem]map[*cpatch]bool{}
	for _, m := range []map[string][]*cfix{c.apps, c.ecoFixes} {
		for k, fixes := range m {
			name, _, _ := strings.Cut(k, "\x00")
			e := patchcore.Ecosystem(name)
			if eco[e] == nil {
				eco[e] = map[*cpatch]bool{}
			}
			for _, cf := range fixes {
				eco[e][cf.cp] = true
			}
		}
	}
	return eco
}

func buildScopes(c *compiled) []Scope {
	var scopes []Scope
	type key struct{ distro, release string }
	linux := map[key]map[*cpatch]bool{}
	for distro, fixes := range c.byDistro {
		for _, cf := range fixes {
			k := key{distro, cf.fix.Release}
			if linux[k] == nil {
				linux[k] = map[*cpatch]bool{}
			}
			linux[k][cf.cp] = true
		}
	}
	for k, ps := range linux {
		scopes = append(scopes, Scope{Distro: k.distro, Release: k.release, Patches: len(ps)})
	}
	products := map[string]map[*cpatch]bool{}
	names := map[string]string{}
	for name, fixes := range c.win.byProduct {
		for _, cf := range fixes {
			if products[name] == nil {
				products[name] = map[*cpatch]bool{}
				names[name] = cf.fix.Product
			}
			products[name][cf.cp] = true
		}
	}
	for name, ps := range products {
		scopes = append(scopes, Scope{Product: names[name], Patches: len(ps)})
	}
	for e, ps := range ecosystemPatches(c) {
		scopes = append(scopes, Scope{Ecosystem: e, Patches: len(ps)})
	}
	slices.SortFunc(scopes, func(a, b Scope) int {
		return cmp.Or(cmp.Compare(a.Distro, b.Distro), cmp.Compare(a.Release, b.Release),
			cmp.Compare(a.Product, b.Product), cmp.Compare(a.Ecosystem, b.Ecosystem))
	})
	return scopes
}

// coverage decides whether the catalog covers the evaluated device.
func (d *device) coverage(sc *scopeCache) Coverage {
	pl := &d.inv.Platform
	var cov Coverage
	var ecos []patchcore.Ecosystem
	for i := range d.inv.Packages {
		switch e := d.inv.Packages[i].Ecosystem; e {
		case patchcore.EcosystemDeb, patchcore.EcosystemRPM, "":
		default:
			if !slices.Contains(ecos, e) {
				ecos = append(ecos, e)
			}
		}
	}
	appPatches := 0
	for _, e := range ecos {
		appPatches += sc.ecoPatches[e]
	}
	windows := pl.Family == patchcore.FamilyWindows || pl.Distro == "windows"
	switch {
	case windows:
		n, reason := d.windowsCoverage()
		cov.Patches, cov.Covered, cov.Reason = n+appPatches, reason == "", reason
	case d.plat != nil && pl.Family != patchcore.FamilyDarwin:
		n := len(d.plat.patches)
		cov.Patches, cov.Covered = n+appPatches, n > 0
		if n == 0 {
			cov.Reason = "the catalog has no patches for " + describeLinux(pl)
		}
	default:
		// No distro (or macOS, which no feed covers as an OS): the device
		// is judged by its packages.
		if d.plat != nil {
			appPatches += len(d.plat.patches)
		}
		cov.Patches, cov.Covered = appPatches, appPatches > 0
		if !cov.Covered {
			what := "the device's platform"
			if pl.Family != "" || pl.Distro != "" {
				what = strings.Trim(pl.Family+" "+pl.Distro, " ")
			}
			if len(ecos) == 0 {
				cov.Reason = "the catalog has no patches for " + what + " and the device has no application packages"
			} else {
				words := make([]string, len(ecos))
				for i, e := range ecos {
					words[i] = string(e)
				}
				cov.Reason = "the catalog has no patches for " + what + " or for the ecosystems of its packages (" + strings.Join(words, ", ") + ")"
			}
		}
	}
	if !cov.Covered {
		cov.Catalog = sc.list()
		if len(cov.Catalog) == 0 {
			cov.Reason += " (the catalog is empty)"
		}
	}
	return cov
}

// describeLinux names a Linux platform as a coverage reason does: "debian
// bookworm", "rhel 9.4", "debian with no release".
func describeLinux(pl *patchcore.Platform) string {
	rel := rawRelease(*pl)
	if rel == "" {
		return pl.Distro + " with no release (only release-independent fixes could apply)"
	}
	return pl.Distro + " " + rel
}

// windowsCoverage counts the Windows patches with a fix for the device's
// product, and says why the device is not covered when it is not.
func (d *device) windowsCoverage() (int, string) {
	w := d.c.win
	if len(w.patches) == 0 {
		return 0, "the catalog has no Windows patches"
	}
	pl := d.inv.Platform
	product, err := MapWindowsProduct(pl)
	if err != nil {
		return 0, "cannot map the device to an MSRC product: " + err.Error()
	}
	if _, ok := w.byProduct[strings.ToLower(product)]; !ok {
		return 0, fmt.Sprintf("the catalog has no patches for %s (build %s maps to it)", product, pl.FullBuild())
	}
	na := d.winNA
	for i := range d.winFindings {
		if d.winFindings[i].State == patchcore.FindingNotApplicable {
			na++
		}
	}
	return len(w.patches) - na, ""
}
