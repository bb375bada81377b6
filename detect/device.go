package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// why says what decided one piece of evidence; the reason text is built
// from it only for findings that are kept.
type why uint8

const (
	whyLess             why = iota // installed < fixed: Missing
	whyAtLeast                     // installed >= fixed: Installed
	whyUnfixed                     // no fix yet: Missing
	whyWontFix                     // vendor will not fix: Missing
	whyNoFixedVersion              // "fixed" without a version: Missing
	whyFixedElsewhere              // unfixed here but installed >= version fixed elsewhere
	whyNotAffected                 // vendor says not affected: NotApplicable
	whyExcluded                    // installed version listed as not affected
	whyBeforeIntroduced            // installed < introduced: NotApplicable
	whyBadInstalled                // installed version does not parse: Unknown
	whyBadFix                      // fix version does not parse: Unknown
	whyNoSourceVersion             // source-keyed fix, source version unknown: Unknown
	whyArch                        // fix for another architecture: NotApplicable
	whyStream                      // fix for another module stream: NotApplicable
	whyStreamUnknown               // modular package, stream unknown: Unknown
	whyNonModular                  // modular fix, non-modular package: NotApplicable
	whyKernelNotRunning            // kernel package of a kernel that is not running: NotApplicable
	whyKernelMeta                  // kernel meta package: NotApplicable
	whyShadowed                    // mainline fix overridden by a minor-release (EUS) fix: NotApplicable
	whyAppLatest                   // application below the catalog's latest: Missing
	whyAppCurrent                  // application at or above the latest: Installed
	whyAppOlder                    // an older application version: Superseded
)

type device struct {
	e    *Engine
	c    *compiled
	inv  *patchcore.Inventory
	plat *platIndex

	// chunks are the device's OS packages' evaluations (shared with other
	// devices), appVs the verdicts of its applications (its own).
	chunks []*chunk
	appVs  []*verdict

	// winNA counts Windows patches that do not apply.
	winNA int
	// winFindings holds the device's Windows evaluation, when it has one.
	winFindings []patchcore.Finding
}

func newDevice(e *Engine, c *compiled, inv *patchcore.Inventory) *device {
	return &device{e: e, c: c, inv: inv}
}

// run evaluates the inventory.
func (d *device) run(ctx context.Context) error {
	pl := d.inv.Platform
	osPkgs := false
	for i := 0; pl.Distro == "" && i < len(d.inv.Packages); i++ {
		switch d.inv.Packages[i].Ecosystem {
		case patchcore.EcosystemDeb, patchcore.EcosystemRPM:
			osPkgs = true
		}
	}
	if osPkgs {
		return fmt.Errorf("detect: inventory of device %q has deb/rpm packages but no platform distro: %w", d.inv.DeviceID, patchcore.ErrInvalidInput)
	}
	if pl.Distro != "" && pl.Distro != "windows" && pl.Family != patchcore.FamilyWindows {
		d.plat = d.c.platform(pl)
		if err := d.linux(ctx); err != nil {
			return err
		}
	}
	if pl.Family == patchcore.FamilyWindows || pl.Distro == "windows" {
		d.windows()
	}
	d.apps()
	return nil
}

// pnOf returns cp's patch number on the device's platform, or -1.
func (d *device) pnOf(cp *cpatch) int32 {
	if d.plat == nil {
		return -1
	}
	if n, ok := d.plat.pn[cp]; ok {
		return n
	}
	return -1
}

// compare evaluates an installed version against a fix's version range and
// status (everything but package identity, arch, stream and kernel rules).
func compare(v version.Version, installed string, cf *cfix) (st, why) {
	return compareGE(v, installed, cf, -1)
}

// compareGE is compare with, when ge is 0 or 1, whether v >= the fix's
// fixed version already known (from the fix list's ranks).
func compareGE(v version.Version, installed string, cf *cfix, ge int8) (st, why) {
	f := cf.fix
	if f.Status == patchcore.FixNotAffected {
		return stNotApplicable, whyNotAffected
	}
	if cf.err != nil {
		return stUnknown, whyBadFix
	}
	if slices.Contains(f.ExcludedVersions, installed) {
		return stInstalled, whyExcluded
	}
	if cf.introduced != nil && v.Compare(cf.introduced) < 0 {
		return stNotApplicable, whyBeforeIntroduced
	}
	switch f.Status {
	case patchcore.FixUnfixed, patchcore.FixWontFix:
		if cf.fixed != nil && (ge == 1 || ge < 0 && v.Compare(cf.fixed) >= 0) {
			return stInstalled, whyFixedElsewhere
		}
		if f.Status == patchcore.FixWontFix {
			return stMissing, whyWontFix
		}
		return stMissing, whyUnfixed
	}
	if cf.fixed == nil {
		return stMissing, whyNoFixedVersion
	}
	if ge == 0 || ge < 0 && v.Compare(cf.fixed) < 0 {
		return stMissing, whyLess
	}
	return stInstalled, whyAtLeast
}

// reason renders the one-line decision trace of one piece of evidence:
// "unzip 6.0-28 < 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm".
func reason(e *ventry, ev *cev, pl *patchcore.Platform) string {
	var b strings.Builder
	b.Grow(96)
	cf := ev.pf.cf
	f := cf.fix
	name := e.name
	if ev.installed != e.version || f.PackageKind == patchcore.PackageSource && f.Package != e.name {
		// Source-keyed comparison: name both.
		name = e.name + " (source " + f.Package + ")"
	}
	scheme := cf.scheme.Name()
	from := " from " + cf.cp.p.ID + forRelease(f)
	switch ev.why {
	case whyLess:
		b.WriteString(name + " " + ev.installed + " < " + f.FixedVersion + " (" + scheme + ")" + from)
	case whyAtLeast:
		b.WriteString(name + " " + ev.installed + " >= " + f.FixedVersion + " (" + scheme + ")" + from)
	case whyUnfixed:
		b.WriteString(name + " " + ev.installed + " is affected and no fix exists yet" + from)
		if f.FixedVersion != "" {
			b.WriteString(" (fixed elsewhere in " + f.FixedVersion + ")")
		}
	case whyWontFix:
		b.WriteString(name + " " + ev.installed + " is affected and the vendor will not fix it" + from)
	case whyNoFixedVersion:
		b.WriteString(name + " " + ev.installed + " is affected; the fix names no version" + from)
	case whyFixedElsewhere:
		b.WriteString(name + " " + ev.installed + " >= " + f.FixedVersion + " (" + scheme + "), where it is fixed" + from)
	case whyNotAffected:
		b.WriteString(name + " " + ev.installed + " is not affected" + from)
	case whyExcluded:
		b.WriteString(name + " " + ev.installed + " is a version listed as not affected" + from)
	case whyBeforeIntroduced:
		b.WriteString(name + " " + ev.installed + " < " + f.Introduced + " where the flaw was introduced (" + scheme + ")" + from)
	case whyBadInstalled:
		b.WriteString("cannot compare " + name + ": installed version does not parse: " + ev.note + from)
	case whyBadFix:
		b.WriteString("cannot compare " + name + " " + ev.installed + ": " + cf.err.Error() + from)
	case whyNoSourceVersion:
		b.WriteString("cannot compare " + e.name + ": the fix is for source package " + f.Package + " and the installed source version is unknown (the binary's version " + e.version + " is not the source's)" + from)
	case whyArch:
		b.WriteString(name + " " + ev.installed + " is " + e.arch + "; the fix is for " + f.Arch + from)
	case whyStream:
		b.WriteString(name + " " + ev.installed + " is from module stream " + e.stream + "; the fix is for stream " + f.ModuleStream + from)
	case whyStreamUnknown:
		b.WriteString("cannot compare " + name + " " + ev.installed + ": a modular build of unknown module stream; the fix is for stream " + f.ModuleStream + from)
	case whyNonModular:
		b.WriteString(name + " " + ev.installed + " is not from a module; the fix is for module stream " + f.ModuleStream + from)
	case whyKernelNotRunning:
		b.WriteString(name + " " + ev.installed + " belongs to kernel " + ev.note + ", not the running kernel " + pl.Kernel + from)
	case whyKernelMeta:
		b.WriteString(name + " " + ev.installed + " is a kernel meta package; only the running kernel's packages count" + from)
	case whyShadowed:
		b.WriteString(name + " " + ev.installed + ": " + ev.note + " is the fix for release " + pl.Version + "; " + cf.cp.p.ID + forRelease(f) + " does not apply")
	case whyAppLatest:
		b.WriteString(name + " " + ev.installed + " < " + f.FixedVersion + " (" + scheme + "), the latest in the catalog" + from)
	case whyAppCurrent:
		b.WriteString(name + " " + ev.installed + " >= " + f.FixedVersion + " (" + scheme + "), the latest in the catalog" + from)
	case whyAppOlder:
		b.WriteString(name + " " + f.FixedVersion + " of " + cf.cp.p.ID + " is superseded by " + ev.note + " (installed " + ev.installed + ")")
	}
	return b.String()
}

func forRelease(f *patchcore.Fix) string {
	switch {
	case f.Release != "" && f.ModuleStream != "":
		return " for " + f.Release + " stream " + f.ModuleStream
	case f.Release != "":
		return " for " + f.Release
	case f.ModuleStream != "":
		return " for stream " + f.ModuleStream
	case f.Distro != "":
		return " for " + f.Distro
	}
	return ""
}
