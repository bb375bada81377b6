package detect

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// platIndex holds the fixes that concern one platform (distro and release),
// by the package name they are keyed on, and what detection learns about
// that platform's packages: the verdict of each (package, version, ...)
// seen on a device, shared by every device that has it.
type platIndex struct {
	label string
	// slots maps a package name to its binary-keyed and source-keyed fixes.
	slots map[string]*slot
	// patches lists every patch with a fix in this index, sorted by ID; a
	// patch's position is its patch number (pfix.pn).
	patches []*cpatch
	pn      map[*cpatch]int32

	// ids numbers verdicts and chunks, so that a device's list of chunks
	// can be hashed and shared (aggregate.go).
	ids  atomic.Uint64
	seed maphash.Seed

	chunkMu sync.RWMutex
	chunks  map[uint64][]*chunk // by fingerprint
	next    map[*chunk][]*chunk // the chunks seen after a chunk (nil: first)
	nchunks int
	// hasBin and hasSrc say whether any fix is keyed on binary, or on
	// source, package names (a Debian tracker has only source fixes, RHEL
	// errata only binary ones), so a package needs one name lookup.
	hasBin, hasSrc bool

	scratch sync.Pool // *scratch sized for patches
	aggMu   sync.Mutex
	aggs    map[uint64][]*aggregate
	naggs   int
}

// pfix is one fix as one platform sees it.
type pfix struct {
	cf *cfix
	pn int32 // patch number in platIndex.patches
	// shadow is the minor-release (EUS) patch that replaces this mainline
	// fix on the platform, if any.
	shadow *cpatch
	// simple marks a fix decided by comparing the installed version with
	// its fixed version alone: fixed (not unfixed, won't-fix or not
	// affected), with a version that parses, for every architecture and
	// module stream (its architecture is checked apart), no introduced or
	// excluded versions, not shadowed.
	simple bool
	// anyArch says the fix is for every architecture; arch is its
	// normalised architecture otherwise.
	anyArch bool
	arch    string
}

func (pf *pfix) setSimple() {
	cf := pf.cf
	f := cf.fix
	switch f.Arch {
	case "", "noarch", "all", "src": // matches every package
		pf.anyArch = true
	default:
		pf.arch = normArch(f.Arch)
	}
	switch f.Status {
	case patchcore.FixNotAffected, patchcore.FixUnfixed, patchcore.FixWontFix:
		return
	}
	pf.simple = cf.err == nil && cf.fixed != nil && cf.introduced == nil && len(f.ExcludedVersions) == 0 &&
		f.ModuleStream == "" && pf.shadow == nil
}

// archOK reports whether the fix applies to a package of the given
// architecture: a fix for "", "noarch", "all" or "src" applies to every
// package, as does every fix to a package whose arch is unknown or
// architecture-independent (pkgAny); otherwise the normalised names
// (amd64 = x86_64, arm64 = aarch64, i386 = i686) must agree.
func (pf *pfix) archOK(pkgAny bool, pkgArch string) bool {
	return pf.anyArch || pkgAny || pf.arch == pkgArch
}

// slot is one package name of a platform: the fixes keyed on it and the
// memo of verdicts of installed packages evaluated against them.
type slot struct {
	bin, src fixList
	mu       sync.Mutex
	memo     atomic.Pointer[memoTab]
}

// rawRelease is the release as the device reports it: "bookworm/12",
// "12", "9.4".
func rawRelease(p patchcore.Platform) string {
	switch {
	case p.Codename != "" && p.Version != "" && p.Codename != p.Version:
		return p.Codename + "/" + p.Version
	case p.Codename != "":
		return p.Codename
	}
	return p.Version
}

// releaseCache holds patchcore.CanonicalRelease's answers for one
// compilation: a catalog has millions of fixes but few (distro, release)
// spellings.
type releaseCache map[[2]string][2]string

func (rc releaseCache) canonical(distro, release string) (string, string) {
	k := [2]string{distro, release}
	if v, ok := rc[k]; ok {
		return v[0], v[1]
	}
	d, r := patchcore.CanonicalRelease(distro, release)
	rc[k] = [2]string{d, r}
	return d, r
}

// platform returns the index for p, building it on first use. The
// platform and the fixes meet in canonical form (patchcore.Platform.Canonical
// and patchcore.CanonicalRelease): a device that reports "debian" "12" gets
// the fixes a tracker published for "bookworm", one on RHEL 9.4 those for
// "9.4" (EUS) and "9" (mainline). Reasons name the platform as the device
// does (its label), so each spelling has its own index.
func (c *compiled) platform(p patchcore.Platform) *platIndex {
	distro, keys := p.Canonical()
	label := p.Distro + " " + rawRelease(p)
	id := distro + "\x00" + strings.Join(keys, "\x00") + "\x00" + label
	c.mu.Lock()
	defer c.mu.Unlock()
	if pi, ok := c.platforms[id]; ok {
		return pi
	}
	pi := &platIndex{
		label:  label,
		slots:  map[string]*slot{},
		pn:     map[*cpatch]int32{},
		aggs:   map[uint64][]*aggregate{},
		seed:   maphash.MakeSeed(),
		chunks: map[uint64][]*chunk{},
		next:   map[*chunk][]*chunk{},
	}
	if len(keys) == 0 {
		pi.label = p.Distro + " (no release: release-independent fixes only)"
	}
	var all []*pfix
	for _, cf := range c.byDistro[distro] {
		if cf.release != "" && !slices.Contains(keys, cf.release) {
			continue
		}
		s := pi.slots[cf.fix.Package]
		if s == nil {
			s = &slot{}
			pi.slots[cf.fix.Package] = s
		}
		pf := &pfix{cf: cf}
		all = append(all, pf)
		if cf.fix.PackageKind == patchcore.PackageSource {
			s.src.fixes = append(s.src.fixes, pf)
			pi.hasSrc = true
		} else {
			s.bin.fixes = append(s.bin.fixes, pf)
			pi.hasBin = true
		}
		if _, seen := pi.pn[cf.cp]; !seen {
			pi.pn[cf.cp] = 0
			pi.patches = append(pi.patches, cf.cp)
		}
	}
	slices.SortFunc(pi.patches, func(a, b *cpatch) int { return cmp.Compare(a.p.ID, b.p.ID) })
	for i, cp := range pi.patches {
		pi.pn[cp] = int32(i)
	}
	for _, pf := range all {
		pf.pn = pi.pn[pf.cf.cp]
	}
	if len(keys) > 0 && rpmFamily(distro) && strings.Contains(keys[0], ".") {
		for _, s := range pi.slots {
			markShadowed(s.bin.fixes, keys[0])
			markShadowed(s.src.fixes, keys[0])
		}
	}
	for _, pf := range all {
		pf.setSimple()
	}
	n := len(pi.patches)
	pi.scratch.New = func() any { return &scratch{slots: make([]aggSlot, n)} }
	c.platforms[id] = pi
	return pi
}

// markShadowed records, among the fixes for one package, the mainline fixes
// that a fix published for the device's minor release (EUS, "8.4")
// replaces: those sharing a CVE with it (aquasecurity/trivy#3576),
// including the mainline fix of the same advisory when it ships both
// (RHSA-2024:0811 has sudo for 9.0 EUS and for mainline 9).
func markShadowed(l []*pfix, minor string) {
	for _, eus := range l {
		if eus.cf.release != minor {
			continue
		}
		for _, main := range l {
			if main.cf.release == minor {
				continue
			}
			for _, cve := range main.cf.cp.cves {
				if slices.Contains(eus.cf.cp.cves, cve) {
					main.shadow = eus.cf.cp
					break
				}
			}
		}
	}
}

// evaluate makes the verdict entry of installed package p, with the fix
// lists it is evaluated against, and memoises it in home (the slot the
// package's fixes hang on).
func (d *device) evaluate(home *slot, p *patchcore.Package, s1, s2 *slot, src string) *ventry {
	e := newEntry(p)
	if s1 != nil && len(s1.bin.fixes) > 0 {
		e.bin = &s1.bin
	}
	if s2 != nil && len(s2.src.fixes) > 0 {
		e.src, e.srcKeyed = &s2.src, true
	} else if alias := kernelSourceAlias(src); alias != "" {
		// Debian's signed kernel images are built from
		// linux-signed-<arch>, whose version tracks the linux source's;
		// the tracker names linux. The binary version is the linux
		// version (the signed source's own version differs).
		if s3 := d.plat.slots[alias]; s3 != nil && len(s3.src.fixes) > 0 {
			e.src = &s3.src
		}
	}
	return home.store(e)
}

// kernelSourceAlias maps a signed-kernel source package to the source the
// security trackers name.
func kernelSourceAlias(src string) string {
	if strings.HasPrefix(src, "linux-signed") {
		return "linux"
	}
	return ""
}

// evaluator evaluates one installed package against fixes.
type evaluator struct {
	e       *ventry
	v       *verdict
	running bool // false: evaluate as a kernel package that is not running
	// anyArch says the package is for every architecture (or its
	// architecture is unknown); arch is its normalised architecture.
	anyArch bool
	arch    string
	// parsed installed versions: the scheme they were parsed with.
	parsed [2]parsedVersion
}

type parsedVersion struct {
	scheme version.Scheme
	input  string
	v      version.Version
	err    error
}

// version parses the installed version s with sc, once per scheme.
func (ev *evaluator) version(sc version.Scheme, s string, source bool) (version.Version, error) {
	pv := &ev.parsed[0]
	if source {
		pv = &ev.parsed[1]
	}
	if pv.scheme != nil && pv.scheme == sc && pv.input == s {
		return pv.v, pv.err
	}
	v, err := sc.Parse(s)
	*pv = parsedVersion{scheme: sc, input: s, v: v, err: err}
	return v, err
}

func (ev *evaluator) add(c cev) { ev.v.evs = append(ev.v.evs, c) }

// evalList records the evidence of the installed package against a fix
// list, placing its version among the list's ranked fixed versions once.
func (ev *evaluator) evalList(l *fixList, useSource bool) {
	l.ranks()
	k := -1
	p := ev.e
	installed, ok := p.version, true
	if useSource {
		switch {
		case p.srcVersion != "":
			installed = p.srcVersion
		case p.srcName != "" && p.srcName != p.name:
			ok = false // no source version: evalOS says so per fix
		}
	}
	if l.sorted != nil {
		if ok {
			if v, err := ev.version(l.scheme, installed, useSource); err == nil {
				k = l.atMost(v)
			}
		}
	}
	for i, pf := range l.fixes {
		ge := int8(-1)
		if k >= 0 && l.rank[i] >= 0 {
			ge = 0
			if int(l.rank[i]) < k {
				ge = 1
			}
			if pf.simple && ev.running && pf.archOK(ev.anyArch, ev.arch) {
				c := cev{pf: pf, installed: installed, st: stMissing, why: whyLess}
				if ge == 1 {
					c.st, c.why = stInstalled, whyAtLeast
				}
				ev.add(c)
				continue
			}
		}
		ev.evalOS(pf, useSource, ge)
	}
}

// evalOS records the evidence of the installed package against one fix.
// useSource says the fix is keyed on the package's source name and must
// be compared with the source version; ge, when 0 or 1, whether the
// installed version is at least the fix's fixed version.
func (ev *evaluator) evalOS(pf *pfix, useSource bool, ge int8) {
	p := ev.e
	cf := pf.cf
	f := cf.fix
	installed := p.version
	if useSource {
		switch {
		case p.srcVersion != "":
			installed = p.srcVersion
		case p.srcName == "" || p.srcName == p.name:
			// The package is its own source.
		default:
			// A binary's own version is not its source's
			// (canonical/sec-cvescan#35, anchore/grype#376).
			ev.add(cev{pf: pf, installed: p.version, st: stUnknown, why: whyNoSourceVersion})
			return
		}
	}
	c := cev{pf: pf, installed: installed}
	if !pf.archOK(ev.anyArch, ev.arch) {
		c.st, c.why = stNotApplicable, whyArch
		ev.add(c)
		return
	}
	if f.ModuleStream != "" || p.stream != "" {
		switch {
		case f.ModuleStream != "" && p.stream != "" && !sameStream(f.ModuleStream, p.stream):
			c.st, c.why = stNotApplicable, whyStream
			ev.add(c)
			return
		case f.ModuleStream != "" && p.stream == "":
			if isModularBuild(p.version) {
				c.st, c.why = stUnknown, whyStreamUnknown
			} else {
				c.st, c.why = stNotApplicable, whyNonModular
			}
			ev.add(c)
			return
		}
	}
	if over := pf.shadow; over != nil {
		c.st, c.why, c.note = stNotApplicable, whyShadowed, over.p.ID
		ev.add(c)
		return
	}
	v, err := ev.version(cf.scheme, installed, useSource)
	if err != nil && needsVersion(cf) {
		c.st, c.why, c.note = stUnknown, whyBadInstalled, err.Error()
		ev.add(c)
		return
	}
	// v is nil when the installed version does not parse and the fix
	// decides without it.
	st, w := compareGE(v, installed, cf, ge)
	if !ev.running {
		c.fixedNotRunning = st == stInstalled
		c.st, c.why, c.note = stNotApplicable, whyKernelNotRunning, p.kernelRel
		if p.meta {
			c.why = whyKernelMeta
		}
		ev.add(c)
		return
	}
	c.st, c.why = st, w
	ev.add(c)
}

// needsVersion reports whether deciding a fix takes the installed version:
// not for a vendor statement that every version is affected (unfixed or
// won't fix, with no fixed version elsewhere and no introduced version) or
// that none is (not affected). Excluded versions are matched as strings.
func needsVersion(cf *cfix) bool {
	f := cf.fix
	switch {
	case f.Status == patchcore.FixNotAffected:
		return false
	case cf.err != nil:
		return true
	case f.Status == patchcore.FixUnfixed || f.Status == patchcore.FixWontFix:
		return cf.fixed != nil || cf.introduced != nil
	}
	return true
}

func normArch(a string) string {
	switch a {
	case "amd64", "x64", "x86-64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "i386", "i486", "i586", "x86", "386":
		return "i686"
	}
	return a
}

// sameStream compares module streams ("postgresql:12"), ignoring a context
// or version suffix ("postgresql:12:8030020201125150302:229f0a1c").
func sameStream(a, b string) bool {
	return streamKey(a) == streamKey(b)
}

func streamKey(s string) string {
	name, rest, ok := strings.Cut(s, ":")
	if !ok {
		return s
	}
	stream, _, _ := strings.Cut(rest, ":")
	return name + ":" + stream
}

// isModularBuild reports an RPM release that marks a module build
// ("9.6.22-1.module_el8.5.0+826+29c1ad77", "12.5-1.module+el8.3.0+...").
func isModularBuild(v string) bool {
	return strings.Contains(v, ".module+") || strings.Contains(v, ".module_")
}

// debKernelPrefixes name the binary packages of one kernel release
// (linux-image-6.1.0-18-amd64, linux-modules-4.15.0-22-generic, ...).
var debKernelPrefixes = [...]string{
	"linux-image-unsigned-", "linux-image-", "linux-modules-extra-", "linux-modules-",
	"linux-headers-", "linux-buildinfo-", "linux-tools-", "linux-cloud-tools-",
}

// rpmKernelNames are RPM kernel packages installed once per kernel release.
var rpmKernelNames = [...]string{
	"kernel", "kernel-core", "kernel-modules", "kernel-modules-core", "kernel-modules-extra",
	"kernel-devel", "kernel-uek", "kernel-uek-core", "kernel-uek-modules", "kernel-rt",
	"kernel-rt-core", "kernel-rt-modules", "kernel-64k", "kernel-64k-core", "kernel-default",
	"kernel-default-devel", "kernel-debug", "kernel-debug-core",
}

// kernelRelease returns the kernel release a package belongs to, whether it
// is a kernel package at all and whether it is a meta package (the
// "latest kernel" pointer, not a kernel).
func kernelRelease(p *patchcore.Package) (rel string, kernel, meta bool) {
	if p.Ecosystem == patchcore.EcosystemRPM || p.Ecosystem == "" && strings.HasPrefix(p.Name, "kernel") {
		if !slices.Contains(rpmKernelNames[:], p.Name) {
			return "", false, false
		}
		v := p.Version
		if _, after, ok := strings.Cut(v, ":"); ok {
			v = after
		}
		return v, true, false
	}
	if !strings.HasPrefix(p.Name, "linux-") {
		return "", false, false
	}
	for _, pre := range debKernelPrefixes {
		rest, ok := strings.CutPrefix(p.Name, pre)
		if !ok {
			continue
		}
		if rest != "" && rest[0] >= '0' && rest[0] <= '9' && strings.Contains(rest, "-") {
			return rest, true, false
		}
		src := p.SourceName
		if strings.HasPrefix(src, "linux") && src != "linux-base" && src != "linux-firmware" {
			return "", true, true
		}
		return "", false, false
	}
	return "", false, false
}

// running reports whether a kernel package counts for the running kernel
// run (not empty): it belongs to the running kernel. A meta package never
// does.
func (e *ventry) running(run string) bool {
	if e.meta {
		return false
	}
	if e.eco == patchcore.EcosystemRPM {
		// uname -r "4.18.0-477.10.1.el8_8.x86_64" against version-release.
		return strings.HasPrefix(run, e.kernelRel)
	}
	r := strings.TrimSuffix(e.kernelRel, "-common")
	return run == r || strings.HasPrefix(run, r+"-")
}
