package detect

import (
	"slices"
	"strings"
	"sync"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// compiled is what an Engine derives from one generation of a catalog:
// every patch with its fixes' versions parsed once, indexed by distro, by
// Windows product and by application id. Per-platform indexes are built on
// first use.
type compiled struct {
	gen     uint64
	opts    *options
	patches []*cpatch // sorted by ID
	byID    map[string]*cpatch

	byDistro map[string][]*cfix // OS package fixes by canonical Fix.Distro

	win        *winIndex
	apps       map[string][]*cfix // ecosystem + "\x00" + package id, newest first
	appsByCode map[string][]*cfix // lower-case ProductCode, newest first
	ecoFixes   map[string][]*cfix // other ecosystems (OSV): ecosystem + "\x00" + name

	mu        sync.Mutex
	platforms map[string]*platIndex
}

// cpatch is one catalog patch as detection sees it: a copy taken under the
// catalog's lock, overlays applied.
type cpatch struct {
	p    patchcore.Patch
	cves []string
	// distros lists the Fix.Distro values the patch has fixes for.
	distros []string
	// windows is set for patches with Windows KB fixes.
	windows bool
	// supersededBy are the patches that declare they replace this one.
	supersededBy []*cpatch
}

// cfix is one fix with its versions parsed.
type cfix struct {
	cp  *cpatch
	fix *patchcore.Fix
	// scheme parses the installed versions compared with this fix.
	scheme version.Scheme
	// fixed and introduced are nil when the fix has none or they did not parse.
	fixed, introduced version.Version
	// err explains why the fix cannot be evaluated (a version that does not
	// parse, an unknown scheme); nil when it can.
	err error
	// release is the fix's release in canonical form
	// (patchcore.CanonicalRelease), which platforms are matched on.
	release string
}

// compile builds the detection view of cat.
func compile(cat *feed.Catalog, gen uint64, opts *options) *compiled {
	c := &compiled{
		gen:        gen,
		opts:       opts,
		byID:       map[string]*cpatch{},
		byDistro:   map[string][]*cfix{},
		apps:       map[string][]*cfix{},
		appsByCode: map[string][]*cfix{},
		ecoFixes:   map[string][]*cfix{},
		platforms:  map[string]*platIndex{},
	}
	schemes := schemeCache{opts: opts, m: map[string]version.Scheme{}}
	releases := releaseCache{}
	var winFixes []*cfix
	for _, p := range cat.AllShared() { // read-only: compile never changes a patch
		cp := &cpatch{p: p, cves: p.CVEIDs()}
		c.patches = append(c.patches, cp)
		c.byID[p.ID] = cp
		for _, a := range p.Aliases {
			if _, taken := c.byID[a]; !taken {
				c.byID[a] = cp
			}
		}
		for i := range cp.p.Fixes {
			f := &cp.p.Fixes[i]
			cf := &cfix{cp: cp, fix: f}
			switch kind := fixKind(f); kind {
			case kindWindows:
				cp.windows = true
				cf.scheme = version.DottedScheme()
				winFixes = append(winFixes, cf)
				continue
			case kindApp:
				cf.scheme = schemes.get(f, version.Dotted)
				cf.parse()
				key := string(f.Ecosystem) + "\x00" + strings.ToLower(f.Package)
				c.apps[key] = append(c.apps[key], cf)
				if f.Installer != nil && f.Installer.ProductCode != "" {
					code := strings.ToLower(f.Installer.ProductCode)
					c.appsByCode[code] = append(c.appsByCode[code], cf)
				}
				continue
			case kindEcosystem:
				cf.scheme = schemes.get(f, version.Semver)
				cf.parse()
				key := string(f.Ecosystem) + "\x00" + f.Package
				c.ecoFixes[key] = append(c.ecoFixes[key], cf)
				continue
			}
			if f.Package == "" || f.Distro == "" {
				continue
			}
			cf.scheme = schemes.get(f, "")
			cf.parse()
			var distro string
			distro, cf.release = releases.canonical(f.Distro, f.Release)
			if !slices.Contains(cp.distros, distro) {
				cp.distros = append(cp.distros, distro)
			}
			c.byDistro[distro] = append(c.byDistro[distro], cf)
		}
	}
	// Supersedence: Patch.Supersedes and per-fix Supersedes (MSRC), by ID,
	// alias or bare KB number.
	for _, cp := range c.patches {
		var sup []string
		sup = append(sup, cp.p.Supersedes...)
		for i := range cp.p.Fixes {
			sup = append(sup, cp.p.Fixes[i].Supersedes...)
		}
		for _, id := range sup {
			old := c.lookup(id)
			if old == nil || old == cp || slices.Contains(old.supersededBy, cp) {
				continue
			}
			old.supersededBy = append(old.supersededBy, cp)
		}
	}
	for _, m := range []map[string][]*cfix{c.apps, c.appsByCode} {
		for _, l := range m {
			sortNewestFirst(l)
		}
	}
	c.win = buildWinIndex(winFixes)
	return c
}

// lookup finds a patch by ID or alias; a bare KB number ("5034123") also
// finds "KB5034123" and the other way round.
func (c *compiled) lookup(id string) *cpatch {
	if cp := c.byID[id]; cp != nil {
		return cp
	}
	kb, ok := patchcore.NormalizeKB(id)
	if !ok {
		return nil
	}
	if cp := c.byID[kb]; cp != nil {
		return cp
	}
	return c.byID[strings.TrimPrefix(kb, "KB")]
}

// parse parses the fix's versions with its scheme, recording the first error.
func (cf *cfix) parse() {
	if cf.err != nil {
		return
	}
	f := cf.fix
	if f.FixedVersion != "" {
		v, err := cf.scheme.Parse(f.FixedVersion)
		if err != nil {
			cf.err = err
			return
		}
		cf.fixed = v
	}
	if f.Introduced != "" && f.Introduced != "0" {
		v, err := cf.scheme.Parse(f.Introduced)
		if err != nil {
			cf.err = err
			return
		}
		cf.introduced = v
	}
}

type fixKindT int

const (
	kindOS fixKindT = iota
	kindWindows
	kindApp
	kindEcosystem
)

// fixKind sorts a fix into the detection path that evaluates it.
func fixKind(f *patchcore.Fix) fixKindT {
	// The application ecosystem decides before the distro: winget and
	// Chocolatey fixes carry Distro "windows" because they install on
	// Windows, but they are compared by package and version, not by OS build.
	switch {
	case f.Ecosystem == patchcore.EcosystemChocolatey || f.Ecosystem == patchcore.EcosystemWinget || f.Ecosystem == patchcore.EcosystemMicrosoft:
		return kindApp
	case f.FixedBuild != "" || f.KB != "" || f.Distro == "windows" || f.Ecosystem == patchcore.EcosystemWindows:
		return kindWindows
	case f.Distro == "" && f.Ecosystem != "" && f.Ecosystem != patchcore.EcosystemDeb && f.Ecosystem != patchcore.EcosystemRPM:
		return kindEcosystem
	}
	return kindOS
}

// schemeCache hands out one Scheme per (name, distro) so that installed
// versions parsed for one fix compare with every other fix of the same
// distro.
type schemeCache struct {
	opts *options
	m    map[string]version.Scheme
}

// errScheme is a Scheme that parses nothing: the fix names a scheme this
// build does not know, and every comparison with it is Unknown.
type errScheme struct{ name string }

func (s errScheme) Name() string { return s.name }
func (s errScheme) Parse(v string) (version.Version, error) {
	return nil, &version.ParseError{Scheme: s.name, Input: v, Reason: "unknown version scheme", Offset: -1}
}
func (s errScheme) Compare(a, b string) (int, error) {
	_, err := s.Parse(a)
	return 0, err
}

func (s *schemeCache) get(f *patchcore.Fix, fallback string) version.Scheme {
	name := f.Scheme
	if name == "" {
		switch {
		case f.Ecosystem == patchcore.EcosystemDeb:
			name = version.Deb
		case f.Ecosystem == patchcore.EcosystemRPM:
			name = version.RPM
		case f.Ecosystem == patchcore.EcosystemHomebrew:
			name = version.Homebrew
		case fallback != "":
			name = fallback
		default:
			name = distroScheme(f.Distro)
		}
	}
	key := name
	source := f.PackageKind == patchcore.PackageSource
	if name == version.RPM {
		key += "\x00" + f.Distro
		if source {
			key += "\x00src"
		}
	}
	if sc, ok := s.m[key]; ok {
		return sc
	}
	var sc version.Scheme
	if name == version.RPM {
		p, ok := s.opts.missingEpoch[f.Distro]
		if !ok {
			// Source RPM versions as rpm reports them (%{SOURCERPM}) carry
			// no epoch, so a source-keyed comparison ignores a missing one.
			p = version.EpochZero
			if source {
				p = version.EpochIgnore
			}
		}
		sc = version.RPMScheme(version.WithMissingEpoch(p))
	} else if l, err := version.Lookup(name); err == nil {
		sc = l
	} else {
		sc = errScheme{name: name}
	}
	s.m[key] = sc
	return sc
}

// distroScheme is the package version scheme of a Linux distribution.
func distroScheme(distro string) string {
	switch distro {
	case "debian", "ubuntu", "raspbian", "linuxmint", "kali", "pop":
		return version.Deb
	}
	return version.RPM
}

// rpmFamily reports distros whose minor releases can have their own
// (EUS-like) fixes.
func rpmFamily(distro string) bool { return distroScheme(distro) == version.RPM }

// sortNewestFirst orders application fixes by fixed version, newest first;
// fixes whose version did not parse go last, in catalog order.
func sortNewestFirst(l []*cfix) {
	slices.SortStableFunc(l, func(a, b *cfix) int {
		switch {
		case a.fixed == nil && b.fixed == nil:
			return 0
		case a.fixed == nil:
			return 1
		case b.fixed == nil:
			return -1
		case a.fixed.Scheme() != b.fixed.Scheme():
			return strings.Compare(a.fixed.Scheme(), b.fixed.Scheme())
		}
		return b.fixed.Compare(a.fixed)
	})
}
