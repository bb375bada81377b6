// Package detect decides which patches of a feed.Catalog apply to a device
// and whether each is missing, installed, superseded, not applicable or
// unknown, and says why in one line per finding.
//
// An Engine evaluates every catalog patch for the device's platform on
// every call and keeps no device state between calls: the Result is a full
// snapshot that replaces the previous one (Result.Diff compares two),
// computed from the inventory passed in and the catalog alone. What the
// Engine keeps is derived from the catalog, and dropped when the catalog's
// Generation changes: fix versions parsed once, indexed and ranked per
// platform; and, bounded, the evaluation of every (package, version,
// source, arch, module stream) it has met and of runs of packages it has
// met together, so that devices installed from the same image share one
// evaluation: such a device costs about a comparison of its package list
// with the memoised one (BENCHMARKS.md has the figures).
//
// "Nothing applies" and "not covered" are different answers. Result.Coverage
// counts the catalog patches that concern the device and says whether the
// catalog covers its platform at all (its distro and release, its Windows
// product, or for a device with neither the ecosystems of its packages); a
// device it does not cover gets no clean answer, whatever its Counts say,
// and approve.DeviceResult.NotCovered carries the reason into compliance.
// An empty inventory is an error.
//
// The rules, each from a false positive or negative another scanner shipped:
//
//   - Debian/Ubuntu advisories name source packages: a source-keyed fix is
//     compared with the SOURCE version of each installed binary built from it,
//     never with the binary's own version (canonical/sec-cvescan#35,
//     anchore/grype#376); a binary-keyed fix with the binary's version (Rocky
//     Linux's RLSAs name source RPMs too: a binary matches through the
//     source RPM its inventory records). Fixes are per release, a device's
//     and a feed's spellings meeting in canonical form ("12" and "bookworm",
//     "bionic" and "18.04": patchcore.CanonicalRelease); another release's
//     fix never decides. Unfixed and won't-fix entries make an installed
//     package Missing with no fixed version, even one whose version does not
//     parse (nothing is compared); not-affected entries make it NotApplicable.
//   - Kernel packages count only for the running kernel (Platform.Kernel):
//     an older or newer kernel image that is installed but not running is
//     NotApplicable, and a fix installed but not yet running is
//     InstalledPendingReboot (future-architect/vuls#1559).
//   - RPM: epochs follow rpm's rule (a missing epoch is 0) unless the
//     distro's feeds omit epochs (Amazon Linux; configurable with
//     WithMissingEpoch); a fix for one architecture does not decide another
//     ("noarch" and empty match all); a fix for one module stream does not
//     decide a package from another stream (anchore/grype#820); a fix
//     published for the device's minor release (EUS, "8.4") takes precedence
//     over the mainline fix for the same package and CVE (aquasecurity/trivy#3576).
//   - Windows: the device (build, product name, edition, architecture) is
//     mapped to the MSRC product name by its build number; a KB is missing
//     when the device's build is below its FixedBuild on the same build line;
//     an installed later cumulative update makes an earlier KB Superseded
//     (bitsadmin/wesng#5); a device that maps to no product in the catalog
//     is Unknown for every Windows patch, never compliant
//     (fleetdm/fleet#24041, fleetdm/fleet#53615).
//   - Applications (Chocolatey, winget): the installed version against the
//     catalog's latest version of the same package id or ProductCode; older
//     versions are Superseded by the latest.
//   - An installed or fixed version that its scheme cannot parse gives an
//     Unknown finding with the parse error, never a skipped one.
package detect

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// Engine evaluates inventories against a catalog. It is safe for concurrent
// use; its only state is derived from the catalog.
type Engine struct {
	cat  *feed.Catalog
	opts options

	mu       sync.Mutex
	compiled *compiled
	// scopes is what the current compiled catalog covers (coverage.go).
	scopes atomic.Pointer[scopeCache]
}

type options struct {
	missingEpoch  map[string]version.MissingEpoch
	notApplicable bool
	actionable    bool
	lazy          bool
}

// Option configures an Engine.
type Option func(*options)

// WithMissingEpoch sets how RPM versions without an epoch compare for one
// distro's fixes (version.EpochZero, rpm's rule, or version.EpochIgnore for
// feeds that omit epochs they should carry). By default "amzn" uses
// EpochIgnore (ALAS data omits epochs) and every other distro EpochZero.
func WithMissingEpoch(distro string, p version.MissingEpoch) Option {
	return func(o *options) { o.missingEpoch[distro] = p }
}

// WithNotApplicable makes Detect report a NotApplicable finding for every
// patch of the device's platform that touches nothing installed. Without it
// such patches are counted in Result.NotApplicable but get no finding,
// which keeps snapshots of large catalogs small.
func WithNotApplicable() Option {
	return func(o *options) { o.notApplicable = true }
}

// ActionableOnly makes Detect keep only findings that need attention:
// Missing, Unknown and InstalledPendingReboot. Installed, Superseded and
// NotApplicable findings are counted in Result.Counts but not built, which
// is what a fleet-wide re-evaluation after a feed update wants.
func ActionableOnly() Option {
	return func(o *options) { o.actionable = true }
}

// Lazy makes Detect compute Result.Counts but leave Result.Findings nil:
// Result.AllFindings, ActionableFindings, Finding and Diff build findings
// on demand, from evaluations the Engine shares between devices. This is
// what re-evaluating a fleet after a feed update wants: a device whose
// packages were all seen before on other devices costs about one
// comparison of its package list with memoised ones, and the findings of
// devices nobody looks at are never built. A lazy Result keeps the catalog
// generation it was computed from reachable until it is dropped.
func Lazy() Option {
	return func(o *options) { o.lazy = true }
}

// New returns an Engine over cat. The catalog may keep changing; each
// Detect uses its content at the time of the call.
func New(cat *feed.Catalog, opts ...Option) *Engine {
	o := options{missingEpoch: map[string]version.MissingEpoch{"amzn": version.EpochIgnore}}
	for _, opt := range opts {
		opt(&o)
	}
	return &Engine{cat: cat, opts: o}
}

// Detect evaluates every catalog patch for inv's platform and returns one
// finding per patch that concerns the device (see the package
// documentation for the rules). Findings are sorted by patch ID.
//
// Result.Coverage says whether the catalog covers the device at all: a
// device whose platform the catalog has no patches for (a Rocky catalog and
// a Debian device, a Debian catalog of another release, a Windows build
// that maps to no product of the catalog) is not covered, and its Result
// is no answer, however clean its Counts look.
//
// It fails only when ctx is done or the inventory is unusable, with an
// error wrapping patchcore.ErrInvalidInput: an empty inventory (no
// packages, no KBs, and not a Windows device with a build), or OS packages
// (deb, rpm) without Platform.Distro. Everything that can be decided per
// patch, including unparsable versions and unmappable Windows products, is
// a finding, not an error.
func (e *Engine) Detect(ctx context.Context, inv patchcore.Inventory) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("detect: %w", err)
	}
	if err := checkNotEmpty(&inv); err != nil {
		return Result{}, err
	}
	c := e.current()
	d := newDevice(e, c, &inv)
	if err := d.run(ctx); err != nil {
		return Result{}, err
	}
	r := Result{DeviceID: inv.DeviceID, Platform: inv.Platform, Coverage: d.coverage(e.scopesOf(c))}
	lz := &lazy{plat: d.plat, apps: d.appVs, win: d.winFindings, actionable: e.opts.actionable, notApplicable: e.opts.notApplicable}
	r.Counts, lz.chunks = d.counts()
	for _, f := range d.winFindings {
		r.Counts.addState(f.State)
	}
	r.Counts.NotApplicable += d.winNA
	r.lz = lz
	if !e.opts.lazy {
		r.Findings = lz.findings(&r.Platform, e.opts.actionable)
	}
	return r, nil
}

// checkNotEmpty fails for an inventory with nothing to evaluate: no
// packages and no KBs, unless it is a Windows device with a build (Windows
// detection reads the build). Such an inventory comes from a collector that
// failed ("json={}", an empty dpkg status file), and evaluating it would
// give a clean-looking answer about nothing.
func checkNotEmpty(inv *patchcore.Inventory) error {
	if len(inv.Packages) > 0 || len(inv.KBs) > 0 {
		return nil
	}
	pl := &inv.Platform
	if (pl.Family == patchcore.FamilyWindows || pl.Distro == "windows") && pl.Build != "" {
		return nil
	}
	what := "no packages"
	switch {
	case pl.Family == patchcore.FamilyWindows || pl.Distro == "windows":
		what = "no build, KBs or packages"
	case pl.Distro == "" && pl.Family == "":
		what = "no platform and no packages"
	}
	return fmt.Errorf("detect: inventory of device %q is empty (%s): %w", inv.DeviceID, what, patchcore.ErrInvalidInput)
}

// current returns the compiled catalog, rebuilding it when the catalog has
// changed since.
func (e *Engine) current() *compiled {
	gen := e.cat.Generation()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.compiled == nil || e.compiled.gen != gen {
		e.compiled = compile(e.cat, gen, &e.opts)
	}
	return e.compiled
}
