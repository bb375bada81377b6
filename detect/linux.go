package detect

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// platIndex holds the fixes that concern one platform (distro and release),
// by the package name they are keyed on.
type platIndex struct {
	label string
	bin   map[string][]*cfix // binary-keyed fixes by binary name
	src   map[string][]*cfix // source-keyed fixes by source name
	// shadow maps a mainline fix to the minor-release (EUS) patch that
	// replaces it on this platform.
	shadow map[*cfix]*cpatch
	// patches lists every patch with a fix in this index.
	patches []*cpatch
}

// releaseKeys are the Fix.Release values that select a platform: the
// codename (Debian's tracker), the version (Ubuntu's "22.04", an EUS
// "8.4") and the major version (RHEL's "9").
func releaseKeys(p patchcore.Platform) []string {
	var keys []string
	add := func(s string) {
		if s != "" && !slices.Contains(keys, s) {
			keys = append(keys, s)
		}
	}
	add(p.Codename)
	add(p.Version)
	if major, _, ok := strings.Cut(p.Version, "."); ok {
		add(major)
	}
	return keys
}

// platform returns the index for p, building it on first use.
func (c *compiled) platform(p patchcore.Platform) *platIndex {
	keys := releaseKeys(p)
	id := p.Distro + "\x00" + strings.Join(keys, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if pi, ok := c.platforms[id]; ok {
		return pi
	}
	pi := &platIndex{
		label:  p.Distro + " " + strings.Join(keys, "/"),
		bin:    map[string][]*cfix{},
		src:    map[string][]*cfix{},
		shadow: map[*cfix]*cpatch{},
	}
	if len(keys) == 0 {
		pi.label = p.Distro + " (no release: release-independent fixes only)"
	}
	seen := map[*cpatch]bool{}
	for _, cf := range c.byDistro[p.Distro] {
		if cf.fix.Release != "" && !slices.Contains(keys, cf.fix.Release) {
			continue
		}
		if cf.fix.PackageKind == patchcore.PackageSource {
			pi.src[cf.fix.Package] = append(pi.src[cf.fix.Package], cf)
		} else {
			pi.bin[cf.fix.Package] = append(pi.bin[cf.fix.Package], cf)
		}
		if !seen[cf.cp] {
			seen[cf.cp] = true
			pi.patches = append(pi.patches, cf.cp)
		}
	}
	slices.SortFunc(pi.patches, func(a, b *cpatch) int { return cmp.Compare(a.p.ID, b.p.ID) })
	if rpmFamily(p.Distro) && strings.Contains(p.Version, ".") {
		for _, m := range []map[string][]*cfix{pi.bin, pi.src} {
			for _, l := range m {
				markShadowed(pi, l, p.Version)
			}
		}
	}
	c.platforms[id] = pi
	return pi
}

// markShadowed records, among the fixes for one package, the mainline fixes
// that a fix published for the device's minor release (EUS, "8.4")
// replaces: those sharing a CVE with it (aquasecurity/trivy#3576).
func markShadowed(pi *platIndex, l []*cfix, minor string) {
	for _, eus := range l {
		if eus.fix.Release != minor {
			continue
		}
		for _, main := range l {
			if main.fix.Release == minor || main.cp == eus.cp {
				continue
			}
			for _, cve := range main.cp.cves {
				if slices.Contains(eus.cp.cves, cve) {
					pi.shadow[main] = eus.cp
					break
				}
			}
		}
	}
}

// linux evaluates the OS packages against the platform's fixes.
func (d *device) linux(ctx context.Context) error {
	pkgs := d.inv.Packages
	for i := range pkgs {
		if i&255 == 255 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("detect: %w", err)
			}
		}
		p := &pkgs[i]
		if p.Ecosystem != patchcore.EcosystemDeb && p.Ecosystem != patchcore.EcosystemRPM && p.Ecosystem != "" {
			continue
		}
		for _, cf := range d.plat.bin[p.Name] {
			d.evalOS(i, p, cf, false)
		}
		src := p.SourceName
		if src == "" {
			src = p.Name
		}
		if fixes := d.plat.src[src]; len(fixes) > 0 {
			for _, cf := range fixes {
				d.evalOS(i, p, cf, true)
			}
		} else if alias := kernelSourceAlias(src); alias != "" {
			// Debian's signed kernel images are built from
			// linux-signed-<arch>, whose version tracks the linux source's;
			// the tracker names linux. The binary version is the linux
			// version (the signed source's own version differs).
			for _, cf := range d.plat.src[alias] {
				d.evalOS(i, p, cf, false)
			}
		}
	}
	return nil
}

// kernelSourceAlias maps a signed-kernel source package to the source the
// security trackers name.
func kernelSourceAlias(src string) string {
	if strings.HasPrefix(src, "linux-signed") {
		return "linux"
	}
	return ""
}

// evalOS records the evidence of installed package i against one fix.
// useSource says the fix is keyed on the package's source name and must be
// compared with the source version.
func (d *device) evalOS(i int, p *patchcore.Package, cf *cfix, useSource bool) {
	f := cf.fix
	installed := p.Version
	if useSource {
		switch {
		case p.SourceVersion != "":
			installed = p.SourceVersion
		case p.SourceName == "" || p.SourceName == p.Name:
			// The package is its own source.
		default:
			// A binary's own version is not its source's
			// (canonical/sec-cvescan#35, anchore/grype#376).
			d.add(cf.cp, evidence{pkg: p, installed: p.Version, cf: cf, state: patchcore.FindingUnknown, why: whyNoSourceVersion})
			return
		}
	}
	ev := evidence{pkg: p, installed: installed, cf: cf}
	if !archMatches(f.Arch, p.Arch) {
		ev.state, ev.why = patchcore.FindingNotApplicable, whyArch
		d.add(cf.cp, ev)
		return
	}
	if f.ModuleStream != "" || p.ModuleStream != "" {
		switch {
		case f.ModuleStream != "" && p.ModuleStream != "" && !sameStream(f.ModuleStream, p.ModuleStream):
			ev.state, ev.why = patchcore.FindingNotApplicable, whyStream
			d.add(cf.cp, ev)
			return
		case f.ModuleStream != "" && p.ModuleStream == "":
			if isModularBuild(p.Version) {
				ev.state, ev.why = patchcore.FindingUnknown, whyStreamUnknown
			} else {
				ev.state, ev.why = patchcore.FindingNotApplicable, whyNonModular
			}
			d.add(cf.cp, ev)
			return
		}
	}
	if over := d.plat.shadow[cf]; over != nil {
		ev.state, ev.why, ev.note = patchcore.FindingNotApplicable, whyShadowed, over.p.ID
		d.add(cf.cp, ev)
		return
	}
	var v, err = d.version(i, cf.scheme, installed, useSource)
	if err != nil {
		ev.state, ev.why, ev.note = patchcore.FindingUnknown, whyBadInstalled, err.Error()
		d.add(cf.cp, ev)
		return
	}
	state, w := compare(v, installed, cf)
	if rel, running, meta := d.kernelCheck(p); !running {
		ev.fixedNotRunning = state == patchcore.FindingInstalled
		ev.state, ev.why, ev.note = patchcore.FindingNotApplicable, whyKernelNotRunning, rel
		if meta {
			ev.why = whyKernelMeta
		}
		d.add(cf.cp, ev)
		return
	}
	ev.state, ev.why = state, w
	d.add(cf.cp, ev)
}

// archMatches reports whether a fix for fixArch applies to a package of
// pkgArch: an empty or "noarch"/"all" fix matches everything, as does a
// package whose arch is unknown or architecture-independent.
func archMatches(fixArch, pkgArch string) bool {
	switch fixArch {
	case "", "noarch", "all", "src":
		return true
	}
	switch pkgArch {
	case "", "noarch", "all":
		return true
	}
	return normArch(fixArch) == normArch(pkgArch)
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

func isKernelInstance(p *patchcore.Package) bool {
	if p == nil {
		return false
	}
	_, k, meta := kernelRelease(p)
	return k && !meta
}

// kernelCheck reports whether a package counts for the running kernel: it
// is not a kernel package, or belongs to the running kernel, or the running
// kernel is unknown (then every installed kernel counts).
func (d *device) kernelCheck(p *patchcore.Package) (rel string, running, meta bool) {
	rel, k, meta := kernelRelease(p)
	if !k {
		return "", true, false
	}
	run := d.inv.Platform.Kernel
	if run == "" {
		return rel, true, false
	}
	if meta {
		return "", false, true
	}
	if p.Ecosystem == patchcore.EcosystemRPM {
		// uname -r "4.18.0-477.10.1.el8_8.x86_64" against version-release.
		return rel, strings.HasPrefix(run, rel), false
	}
	r := strings.TrimSuffix(rel, "-common")
	return rel, run == r || strings.HasPrefix(run, r+"-"), false
}
