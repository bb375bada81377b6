package detect

import (
	"cmp"
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
	whyText                        // note holds the whole reason
)

// evidence is one comparison, kept compact until a finding is built.
type evidence struct {
	pkg       *patchcore.Package
	installed string // the version compared (source version for source-keyed fixes)
	cf        *cfix
	state     patchcore.FindingState
	why       why
	note      string // error text, overriding patch, kernel release...
	next      int32  // index of the patch's next evidence in device.evs, -1 at the end
	// fixedNotRunning marks a kernel package that is not running but has the fix.
	fixedNotRunning bool
}

// acc collects the evidence of one patch.
type acc struct {
	cp          *cpatch
	first, last int32
	state       patchcore.FindingState
	best        int32 // decisive evidence
	supBy       string
}

type device struct {
	e    *Engine
	c    *compiled
	inv  *patchcore.Inventory
	plat *platIndex

	evs    []evidence
	accs   []acc
	accIdx map[*cpatch]int32

	// parsed installed versions, per package index: the scheme they were parsed with.
	parsed []parsedVersion

	counts Counts
	// windows holds the device's Windows evaluation, when it has one.
	winFindings []patchcore.Finding
}

type parsedVersion struct {
	scheme version.Scheme
	input  string
	v      version.Version
	err    error
}

func newDevice(e *Engine, c *compiled, inv *patchcore.Inventory) *device {
	return &device{e: e, c: c, inv: inv, accIdx: make(map[*cpatch]int32, 64)}
}

// run evaluates the inventory.
func (d *device) run(ctx context.Context) error {
	pl := d.inv.Platform
	osPkgs := false
	for i := range d.inv.Packages {
		switch d.inv.Packages[i].Ecosystem {
		case patchcore.EcosystemDeb, patchcore.EcosystemRPM:
			osPkgs = true
		}
	}
	if osPkgs && pl.Distro == "" {
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

// add records evidence for cp and returns its index.
func (d *device) add(cp *cpatch, ev evidence) {
	ev.next = -1
	idx := int32(len(d.evs))
	d.evs = append(d.evs, ev)
	ai, ok := d.accIdx[cp]
	if !ok {
		ai = int32(len(d.accs))
		d.accIdx[cp] = ai
		d.accs = append(d.accs, acc{cp: cp, first: idx, last: idx, state: ev.state, best: idx})
		return
	}
	a := &d.accs[ai]
	d.evs[a.last].next = idx
	a.last = idx
	if rank(ev.state) > rank(a.state) {
		a.state, a.best = ev.state, idx
	}
}

// rank orders states for a patch with several pieces of evidence: one
// missing package makes the patch missing.
func rank(s patchcore.FindingState) int {
	switch s {
	case patchcore.FindingMissing:
		return 6
	case patchcore.FindingUnknown:
		return 5
	case patchcore.FindingInstalledPendingReboot:
		return 4
	case patchcore.FindingInstalled:
		return 3
	case patchcore.FindingSuperseded:
		return 2
	}
	return 1
}

// version parses the installed version s of package i with sc, once.
func (d *device) version(i int, sc version.Scheme, s string, source bool) (version.Version, error) {
	if d.parsed == nil {
		d.parsed = make([]parsedVersion, 2*len(d.inv.Packages))
	}
	slot := 2 * i
	if source {
		slot++
	}
	pv := &d.parsed[slot]
	if pv.scheme != nil && pv.scheme == sc && pv.input == s {
		return pv.v, pv.err
	}
	v, err := sc.Parse(s)
	*pv = parsedVersion{scheme: sc, input: s, v: v, err: err}
	return v, err
}

// compare evaluates an installed version against a fix's version range and
// status (everything but package identity, arch, stream and kernel rules).
func compare(v version.Version, installed string, cf *cfix) (patchcore.FindingState, why) {
	f := cf.fix
	if f.Status == patchcore.FixNotAffected {
		return patchcore.FindingNotApplicable, whyNotAffected
	}
	if cf.err != nil {
		return patchcore.FindingUnknown, whyBadFix
	}
	if slices.Contains(f.ExcludedVersions, installed) {
		return patchcore.FindingInstalled, whyExcluded
	}
	if cf.introduced != nil && v.Compare(cf.introduced) < 0 {
		return patchcore.FindingNotApplicable, whyBeforeIntroduced
	}
	switch f.Status {
	case patchcore.FixUnfixed, patchcore.FixWontFix:
		if cf.fixed != nil && v.Compare(cf.fixed) >= 0 {
			return patchcore.FindingInstalled, whyFixedElsewhere
		}
		if f.Status == patchcore.FixWontFix {
			return patchcore.FindingMissing, whyWontFix
		}
		return patchcore.FindingMissing, whyUnfixed
	}
	if cf.fixed == nil {
		return patchcore.FindingMissing, whyNoFixedVersion
	}
	if v.Compare(cf.fixed) < 0 {
		return patchcore.FindingMissing, whyLess
	}
	return patchcore.FindingInstalled, whyAtLeast
}

// result builds the Result from the collected evidence.
func (d *device) result() Result {
	r := Result{DeviceID: d.inv.DeviceID, Platform: d.inv.Platform}
	actionable := d.e.opts.actionable
	slices.SortFunc(d.accs, func(a, b acc) int { return cmp.Compare(a.cp.p.ID, b.cp.p.ID) })
	r.Findings = make([]patchcore.Finding, 0, len(d.accs)+len(d.winFindings))
	for i := range d.accs {
		a := &d.accs[i]
		d.finishPendingReboot(a)
		r.Counts.add(a.state)
		if actionable && !isActionable(a.state) {
			continue
		}
		r.Findings = append(r.Findings, d.finding(a))
	}
	for _, f := range d.winFindings {
		r.Counts.add(f.State)
		if actionable && !isActionable(f.State) {
			continue
		}
		r.Findings = append(r.Findings, f)
	}
	if d.plat != nil {
		// Patches of the platform that touched nothing installed.
		n := len(d.plat.patches)
		for _, cp := range d.plat.patches {
			if _, seen := d.accIdx[cp]; seen {
				n--
				continue
			}
			if d.e.opts.notApplicable && !actionable {
				r.Findings = append(r.Findings, findingHeader(cp, patchcore.FindingNotApplicable,
					"no installed package is named by "+cp.p.ID+" for "+d.plat.label))
			}
		}
		r.Counts.NotApplicable += n
	}
	r.Counts.NotApplicable += d.counts.NotApplicable
	if d.e.opts.notApplicable || len(d.winFindings) > 0 {
		slices.SortStableFunc(r.Findings, func(a, b patchcore.Finding) int { return cmp.Compare(a.PatchID, b.PatchID) })
	}
	return r
}

func isActionable(s patchcore.FindingState) bool {
	return s == patchcore.FindingMissing || s == patchcore.FindingUnknown || s == patchcore.FindingInstalledPendingReboot
}

// finishPendingReboot turns a kernel patch that is missing only on the
// running kernel, while an installed but not running kernel has the fix,
// into InstalledPendingReboot.
func (d *device) finishPendingReboot(a *acc) {
	if a.state != patchcore.FindingMissing {
		return
	}
	fixedElsewhere := false
	for i := a.first; i >= 0; i = d.evs[i].next {
		ev := &d.evs[i]
		if ev.fixedNotRunning {
			fixedElsewhere = true
		}
		if ev.state == patchcore.FindingMissing && !isKernelInstance(ev.pkg) {
			return
		}
	}
	if !fixedElsewhere {
		return
	}
	a.state = patchcore.FindingInstalledPendingReboot
	for i := a.first; i >= 0; i = d.evs[i].next {
		if d.evs[i].fixedNotRunning {
			ev := d.evs[a.best]
			ev.state = patchcore.FindingInstalledPendingReboot
			ev.why = whyText
			ev.note = d.reason(&d.evs[a.best]) + "; the fix is installed as " + d.evs[i].pkg.Name + " " + d.evs[i].installed + " but that kernel is not running: reboot"
			d.evs[a.best] = ev
			return
		}
	}
}

// findingHeader fills the patch's own fields of a finding.
func findingHeader(cp *cpatch, state patchcore.FindingState, reason string) patchcore.Finding {
	p := &cp.p
	sev := p.EffectiveSeverity()
	return patchcore.Finding{
		PatchID:        p.ID,
		Title:          p.Title,
		Source:         p.Source,
		Severity:       sev,
		Classification: p.Classification,
		CVEs:           cp.cves,
		Released:       p.Released,
		State:          state,
		Reason:         reason,
	}
}

// finding builds the finding of one patch from its evidence.
func (d *device) finding(a *acc) patchcore.Finding {
	best := &d.evs[a.best]
	f := findingHeader(a.cp, a.state, d.reason(best))
	if f.Severity.Level == patchcore.SeverityUnknown && best.cf != nil {
		f.Severity = best.cf.fix.Severity
	}
	f.Package = best.pkgName()
	f.InstalledVersion = best.installed
	if best.cf != nil {
		f.FixedVersion = best.cf.fix.FixedVersion
		f.Fix = best.cf.fix
	}
	f.SupersededBy = a.supBy
	more := 0
	for i := a.first; i >= 0; i = d.evs[i].next {
		ev := &d.evs[i]
		e := patchcore.Evidence{Package: ev.pkgName(), InstalledVersion: ev.installed, State: ev.state, Reason: d.reason(ev)}
		if ev.cf != nil {
			e.FixedVersion = ev.cf.fix.FixedVersion
		}
		if i != a.best && ev.state == a.state {
			more++
		}
		f.Evidence = append(f.Evidence, e)
	}
	if more > 0 {
		f.Reason += fmt.Sprintf(" (and %d more package(s) %s)", more, a.state)
	}
	return f
}

func (ev *evidence) pkgName() string {
	if ev.pkg == nil {
		return ""
	}
	return ev.pkg.Name
}

// reason renders the one-line decision trace of one piece of evidence:
// "unzip 6.0-28 < 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm".
func (d *device) reason(ev *evidence) string {
	if ev.why == whyText {
		return ev.note
	}
	var b strings.Builder
	b.Grow(96)
	cf := ev.cf
	f := cf.fix
	name := ev.pkg.Name
	if ev.installed != ev.pkg.Version || f.PackageKind == patchcore.PackageSource && f.Package != ev.pkg.Name {
		// Source-keyed comparison: name both.
		name = ev.pkg.Name + " (source " + f.Package + ")"
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
		b.WriteString("cannot compare " + ev.pkg.Name + ": the fix is for source package " + f.Package + " and the installed source version is unknown (the binary's version " + ev.pkg.Version + " is not the source's)" + from)
	case whyArch:
		b.WriteString(name + " " + ev.installed + " is " + ev.pkg.Arch + "; the fix is for " + f.Arch + from)
	case whyStream:
		b.WriteString(name + " " + ev.installed + " is from module stream " + ev.pkg.ModuleStream + "; the fix is for stream " + f.ModuleStream + from)
	case whyStreamUnknown:
		b.WriteString("cannot compare " + name + " " + ev.installed + ": a modular build of unknown module stream; the fix is for stream " + f.ModuleStream + from)
	case whyNonModular:
		b.WriteString(name + " " + ev.installed + " is not from a module; the fix is for module stream " + f.ModuleStream + from)
	case whyKernelNotRunning:
		b.WriteString(name + " " + ev.installed + " belongs to kernel " + ev.note + ", not the running kernel " + d.inv.Platform.Kernel + from)
	case whyKernelMeta:
		b.WriteString(name + " " + ev.installed + " is a kernel meta package; only the running kernel's packages count" + from)
	case whyShadowed:
		b.WriteString(name + " " + ev.installed + ": " + ev.note + " is the fix for release " + d.inv.Platform.Version + "; " + cf.cp.p.ID + forRelease(f) + " does not apply")
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
