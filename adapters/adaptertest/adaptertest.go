// Package adaptertest is the conformance kit for patchcore adapters. Plugin
// authors run it from a test against their adapter, which it serves over a
// real gRPC round trip (go-plugin's in-process test mode):
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, toy.Factory, adaptertest.WithInstallID("hello"))
//	}
//
// Each check becomes a subtest. The same checks run outside tests through
// Check, which `patchctl adapters check ./my-adapter` uses against a plugin
// binary.
//
// The checks follow the behaviour contracts of adapters.Adapter: Info is
// valid, versions parse with the scheme Info declares, Inventory and
// ListUpdates are sorted and deterministic, a cancelled context is honoured
// promptly, errors wrap patchcore sentinels, and Install of something
// already installed succeeds. Checks that would change the system (Install)
// run only when an ID to install is given. Once a package-manager
// transaction has started, cancelling Install must not kill it: the
// install-cancel-midway check (WithCancelInstallID) slows the install
// command down, cancels Install while it runs and fails if the command's
// context ended before it finished.
package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// Outcome is the outcome of one check.
type Outcome string

// Outcomes.
const (
	Passed  Outcome = "pass"
	Failed  Outcome = "fail"
	Skipped Outcome = "skip"
)

// Result is the outcome of one conformance check.
type Result struct {
	// Name is the check's stable name ("info", "inventory-deterministic").
	Name    string
	Outcome Outcome
	// Detail says what failed, or why the check was skipped.
	Detail   string
	Duration time.Duration
}

// Option configures Run and Check.
type Option func(*config)

type config struct {
	target         adapters.Target
	installID      string
	cancelDeadline time.Duration
	callTimeout    time.Duration
	runner         command.Runner
	cancelID       string
	watch          *watchRunner
}

// WithTarget runs every check against t (an alternate root) instead of the
// running system.
func WithTarget(t adapters.Target) Option { return func(c *config) { c.target = t } }

// WithInstallID enables the install checks: id names an update that is
// already installed on the target, which Install must report as installed
// without an error. Without it the install checks are skipped, because they
// could change the system.
func WithInstallID(id string) Option { return func(c *config) { c.installID = id } }

// WithCancelDeadline sets how soon a call must return after its context is
// cancelled (default 2 s).
func WithCancelDeadline(d time.Duration) Option { return func(c *config) { c.cancelDeadline = d } }

// WithCallTimeout bounds every call the checks make (default 2 min).
func WithCallTimeout(d time.Duration) Option { return func(c *config) { c.callTimeout = d } }

// WithRunner gives the adapter that Run serves this command runner (a
// commandtest.Runner replaying recorded output) instead of command.OS{}.
// Check ignores it.
func WithRunner(r command.Runner) Option { return func(c *config) { c.runner = r } }

// WithCancelInstallID adds the install-cancel-midway check: id names an
// update that Install would install (a newer version is available) through
// the runner. The check runs only under Run, whose runner it watches: every
// command Install runs that none of the earlier calls ran is taken as part
// of the transaction; the first is held back for a second, Install's context
// is cancelled meanwhile, and the check fails when the command's own context
// ends (a real runner would kill the package manager mid-transaction). With
// a real runner (no WithRunner) the install really happens, on the target.
func WithCancelInstallID(id string) Option { return func(c *config) { c.cancelID = id } }

func withWatch(w *watchRunner) Option { return func(c *config) { c.watch = w } }

func newConfig(opts []Option) config {
	c := config{cancelDeadline: 2 * time.Second, callTimeout: 2 * time.Minute}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// Run serves the adapter f builds over gRPC in this process, connects a
// host to it and runs every check as a subtest of t.
func Run(t *testing.T, f adapters.Factory, opts ...Option) {
	t.Helper()
	cfg := newConfig(opts)
	ctx := t.Context()
	inner := cfg.runner
	if inner == nil {
		inner = command.OS{}
	}
	w := &watchRunner{inner: inner, seen: map[string]bool{}}
	rc, stop, err := adapters.ServeTest(ctx, f, adapters.WithRunner(w))
	if err != nil {
		t.Fatalf("serving the adapter: %v", err)
	}
	t.Cleanup(stop)
	h := adapters.NewHost(adapters.Reattach("conformance", rc))
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	for _, r := range Check(ctx, h, append(slices.Clone(opts), withWatch(w))...) {
		t.Run(r.Name, func(t *testing.T) {
			switch r.Outcome {
			case Skipped:
				t.Skip(r.Detail)
			case Failed:
				t.Error(r.Detail)
			}
		})
	}
}

// check is one conformance check; it returns "" when a passes, a detail
// otherwise, or skip(reason).
type check struct {
	name string
	run  func(ctx context.Context, s *session) string
}

// skipPrefix marks a detail as a skip rather than a failure.
const skipPrefix = "\x00skip:"

func skip(reason string) string { return skipPrefix + reason }

// session carries what the checks learn about the adapter.
type session struct {
	a      adapters.Adapter
	cfg    config
	info   adapters.InfoResponse
	infoOK bool
	scheme version.Scheme
	inv    *adapters.InventoryResponse
}

// checks returns the checks in the order they run.
func checks() []check {
	return []check{
		{"info", checkInfo},
		{"inventory-versions", checkInventoryVersions},
		{"inventory-sorted", checkInventorySorted},
		{"inventory-deterministic", checkInventoryDeterministic},
		{"updates-valid", checkUpdates},
		{"reboot-required", checkRebootRequired},
		{"cancelled-context", checkCancelled},
		{"cancel-midcall", checkCancelMidCall},
		{"errors-are-sentinels", checkErrorsAreSentinels},
		{"install-already-installed", checkInstallInstalled},
		{"install-unknown", checkInstallUnknown},
		{"install-cancel-midway", checkInstallCancelMidway},
	}
}

// Check runs every conformance check against a (typically an
// *adapters.Host) and returns one Result per check, in a fixed order. It
// never stops early: a failed check does not hide the others.
// install-cancel-midway, which needs to watch the adapter's runner, runs
// only under Run and only when WithCancelInstallID names an update.
func Check(ctx context.Context, a adapters.Adapter, opts ...Option) []Result {
	s := &session{a: a, cfg: newConfig(opts)}
	var results []Result
	for _, c := range checks() {
		if c.name == "install-cancel-midway" && (s.cfg.watch == nil || s.cfg.cancelID == "") {
			continue
		}
		start := time.Now()
		detail := c.run(ctx, s)
		r := Result{Name: c.name, Outcome: Passed, Duration: time.Since(start)}
		switch {
		case strings.HasPrefix(detail, skipPrefix):
			r.Outcome, r.Detail = Skipped, strings.TrimPrefix(detail, skipPrefix)
		case detail != "":
			r.Outcome, r.Detail = Failed, detail
		}
		results = append(results, r)
	}
	return results
}

// call bounds one call by the configured timeout.
func (s *session) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.callTimeout)
}

var adapterName = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

func knownCapabilities() []adapters.Capability {
	return []adapters.Capability{adapters.CapUninstall, adapters.CapProgress, adapters.CapAdvisories,
		adapters.CapAlternateRoot, adapters.CapOfflineScan}
}

func checkInfo(ctx context.Context, s *session) string {
	cctx, cancel := s.call(ctx)
	defer cancel()
	info, err := s.a.Info(cctx, adapters.InfoRequest{})
	if err != nil {
		return fmt.Sprintf("Info: %v", err)
	}
	var problems []string
	if !adapterName.MatchString(info.Name) {
		problems = append(problems, fmt.Sprintf("Name %q is not a short lower-case name ([a-z][a-z0-9_-]*)", info.Name))
	}
	if info.Version == "" {
		problems = append(problems, "Version is empty")
	}
	if info.ProtocolVersion != adapters.ProtocolVersion {
		problems = append(problems, fmt.Sprintf("ProtocolVersion is %d, want %d", info.ProtocolVersion, adapters.ProtocolVersion))
	}
	if len(info.Platforms) == 0 {
		problems = append(problems, "Platforms is empty")
	}
	for _, p := range info.Platforms {
		if p == "" || p != strings.ToLower(p) {
			problems = append(problems, fmt.Sprintf("platform %q is not a lower-case name", p))
		}
	}
	scheme, err := version.Lookup(info.VersionScheme)
	if err != nil {
		problems = append(problems, fmt.Sprintf("VersionScheme: %v", err))
	}
	for _, c := range info.Capabilities {
		if !slices.Contains(knownCapabilities(), c) {
			problems = append(problems, fmt.Sprintf("unknown capability %q", c))
		}
	}
	again, err := s.a.Info(cctx, adapters.InfoRequest{})
	if err != nil || !reflect.DeepEqual(info, again) {
		problems = append(problems, fmt.Sprintf("a second Info call differs: %+v, %v", again, err))
	}
	s.info, s.scheme, s.infoOK = info, scheme, scheme != nil
	return strings.Join(problems, "; ")
}

// inventory reads the inventory once for the checks that need it.
func (s *session) inventory(ctx context.Context) (*adapters.InventoryResponse, string) {
	if s.inv != nil {
		return s.inv, ""
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	inv, err := s.a.Inventory(cctx, adapters.InventoryRequest{Target: s.cfg.target})
	if err != nil {
		return nil, fmt.Sprintf("Inventory: %v", err)
	}
	s.inv = &inv
	return s.inv, ""
}

// parseVersion reports a version the declared scheme rejects. A version the
// scheme recognises but declares not comparable (Homebrew's HEAD and latest)
// is real and passes: detection reports it Unknown with the reason.
func (s *session) parseVersion(what, v string) string {
	if _, err := s.scheme.Parse(v); err != nil && !errors.Is(err, version.ErrNotComparable) {
		return fmt.Sprintf("%s: %v", what, err)
	}
	return ""
}

func checkInventoryVersions(ctx context.Context, s *session) string {
	if !s.infoOK {
		return skip("Info declared no usable version scheme")
	}
	inv, fail := s.inventory(ctx)
	if fail != "" {
		return fail
	}
	var problems []string
	for _, p := range inv.Inventory.Packages {
		if p.Name == "" {
			problems = append(problems, fmt.Sprintf("a package has no name (version %q)", p.Version))
			continue
		}
		if msg := s.parseVersion("package "+p.Name, p.Version); msg != "" {
			problems = append(problems, msg)
		}
	}
	return summarize(problems, len(inv.Inventory.Packages), "packages")
}

// summarize lists the first problems and counts the rest.
func summarize(problems []string, total int, what string) string {
	if len(problems) == 0 {
		return ""
	}
	const show = 5
	msg := strings.Join(problems[:min(show, len(problems))], "; ")
	if len(problems) > show {
		msg += fmt.Sprintf("; and %d more", len(problems)-show)
	}
	return fmt.Sprintf("%d of %d %s: %s", len(problems), total, what, msg)
}

func checkInventorySorted(ctx context.Context, s *session) string {
	inv, fail := s.inventory(ctx)
	if fail != "" {
		return fail
	}
	pkgs := inv.Inventory.Packages
	for i := 1; i < len(pkgs); i++ {
		a, b := pkgs[i-1], pkgs[i]
		if c := cmpPackage(a, b); c > 0 {
			return fmt.Sprintf("packages not sorted by name then arch: %s/%s (index %d) before %s/%s", a.Name, a.Arch, i-1, b.Name, b.Arch)
		}
	}
	return ""
}

func cmpPackage(a, b patchcore.Package) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Arch, b.Arch)
}

func checkInventoryDeterministic(ctx context.Context, s *session) string {
	first, fail := s.inventory(ctx)
	if fail != "" {
		return fail
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	second, err := s.a.Inventory(cctx, adapters.InventoryRequest{Target: s.cfg.target})
	if err != nil {
		return fmt.Sprintf("second Inventory: %v", err)
	}
	a, b := first.Inventory, second.Inventory
	a.CollectedAt, b.CollectedAt, a.Duration, b.Duration = time.Time{}, time.Time{}, 0, 0
	if reflect.DeepEqual(a, b) {
		return ""
	}
	if len(a.Packages) != len(b.Packages) {
		return fmt.Sprintf("two Inventory calls returned %d and %d packages", len(a.Packages), len(b.Packages))
	}
	for i := range a.Packages {
		if a.Packages[i] != b.Packages[i] {
			return fmt.Sprintf("two Inventory calls differ at package %d: %+v vs %+v", i, a.Packages[i], b.Packages[i])
		}
	}
	return fmt.Sprintf("two Inventory calls differ outside the packages: %+v vs %+v", a.Platform, b.Platform)
}

func checkUpdates(ctx context.Context, s *session) string {
	cctx, cancel := s.call(ctx)
	defer cancel()
	first, err := s.a.ListUpdates(cctx, adapters.ListUpdatesRequest{Target: s.cfg.target})
	if err != nil {
		return fmt.Sprintf("ListUpdates: %v", err)
	}
	var problems []string
	for i, u := range first.Updates {
		if u.ID == "" {
			problems = append(problems, fmt.Sprintf("update %d has no ID", i))
		}
		if i > 0 && first.Updates[i-1].ID >= u.ID {
			problems = append(problems, fmt.Sprintf("updates not sorted by unique ID: %q before %q", first.Updates[i-1].ID, u.ID))
		}
		if s.infoOK && u.Package != "" {
			for _, v := range []struct{ what, v string }{{"available", u.AvailableVersion}, {"installed", u.InstalledVersion}} {
				if v.v == "" {
					continue
				}
				if msg := s.parseVersion(fmt.Sprintf("update %s %s version", u.ID, v.what), v.v); msg != "" {
					problems = append(problems, msg)
				}
			}
		}
	}
	if msg := summarize(problems, len(first.Updates), "updates"); msg != "" {
		return msg
	}
	second, err := s.a.ListUpdates(cctx, adapters.ListUpdatesRequest{Target: s.cfg.target})
	if err != nil {
		return fmt.Sprintf("second ListUpdates: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		return fmt.Sprintf("two ListUpdates calls differ (%d and %d updates)", len(first.Updates), len(second.Updates))
	}
	return ""
}

func checkRebootRequired(ctx context.Context, s *session) string {
	cctx, cancel := s.call(ctx)
	defer cancel()
	r, err := s.a.RebootRequired(cctx, adapters.RebootRequiredRequest{Target: s.cfg.target})
	if err != nil {
		return fmt.Sprintf("RebootRequired: %v", err)
	}
	if !r.Required && len(r.Reasons) > 0 {
		return fmt.Sprintf("RebootRequired says no restart is needed but gives reasons %q", r.Reasons)
	}
	return ""
}

func checkCancelled(ctx context.Context, s *session) string {
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	var problems []string
	start := time.Now()
	if _, err := s.a.Inventory(cctx, adapters.InventoryRequest{Target: s.cfg.target}); !errors.Is(err, context.Canceled) {
		problems = append(problems, fmt.Sprintf("Inventory with a cancelled context returned %v, want an error wrapping context.Canceled", err))
	}
	if _, err := s.a.ListUpdates(cctx, adapters.ListUpdatesRequest{Target: s.cfg.target}); !errors.Is(err, context.Canceled) {
		problems = append(problems, fmt.Sprintf("ListUpdates with a cancelled context returned %v, want an error wrapping context.Canceled", err))
	}
	if d := time.Since(start); d > s.cfg.cancelDeadline {
		problems = append(problems, fmt.Sprintf("calls with a cancelled context took %s (deadline %s)", d, s.cfg.cancelDeadline))
	}
	return strings.Join(problems, "; ")
}

func checkCancelMidCall(ctx context.Context, s *session) string {
	for _, delay := range []time.Duration{time.Millisecond, 10 * time.Millisecond} {
		cctx, cancel := context.WithCancel(ctx)
		timer := time.AfterFunc(delay, cancel)
		start := time.Now()
		_, err := s.a.ListUpdates(cctx, adapters.ListUpdatesRequest{Target: s.cfg.target, Refresh: false})
		took := time.Since(start)
		timer.Stop()
		cancel()
		if took > delay+s.cfg.cancelDeadline {
			return fmt.Sprintf("ListUpdates cancelled after %s returned only after %s (deadline %s)", delay, took, s.cfg.cancelDeadline)
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Sprintf("ListUpdates cancelled after %s returned %v, want success or an error wrapping context.Canceled", delay, err)
		}
	}
	return ""
}

// sentinels are the patchcore errors an adapter's call errors may wrap.
func sentinels() []error {
	return []error{patchcore.ErrNotFound, patchcore.ErrInvalidInput, patchcore.ErrUnsupported,
		patchcore.ErrPermission, patchcore.ErrPackageManagerLocked, patchcore.ErrUnknownVersion,
		patchcore.ErrTimeout, patchcore.ErrBusy, patchcore.ErrChecksumMismatch, patchcore.ErrSignatureInvalid,
		patchcore.ErrTooLarge, context.Canceled, context.DeadlineExceeded}
}

func wrapsSentinel(err error) bool {
	return slices.ContainsFunc(sentinels(), func(s error) bool { return errors.Is(err, s) })
}

const missingRoot = "/nonexistent/patchcore-adaptertest-root"

func checkErrorsAreSentinels(ctx context.Context, s *session) string {
	cctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.a.Inventory(cctx, adapters.InventoryRequest{Target: adapters.Target{Root: missingRoot}})
	if err == nil {
		return fmt.Sprintf("Inventory of the missing root %s succeeded; want an error wrapping patchcore.ErrNotFound, ErrInvalidInput or ErrUnsupported", missingRoot)
	}
	if !errors.Is(err, patchcore.ErrNotFound) && !errors.Is(err, patchcore.ErrInvalidInput) && !errors.Is(err, patchcore.ErrUnsupported) {
		return fmt.Sprintf("Inventory of the missing root %s: %v: the error wraps none of patchcore.ErrNotFound, ErrInvalidInput, ErrUnsupported", missingRoot, err)
	}
	if errors.Is(err, patchcore.ErrAdapterExited) {
		return fmt.Sprintf("Inventory of a missing root crashed the adapter: %v", err)
	}
	return ""
}

func checkInstallInstalled(ctx context.Context, s *session) string {
	if s.cfg.installID == "" {
		return skip("no already-installed update given (WithInstallID, patchctl adapters check --install-id); Install could change the system")
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	r, err := s.a.Install(cctx, adapters.InstallRequest{Target: s.cfg.target, IDs: []string{s.cfg.installID}})
	if err != nil {
		return fmt.Sprintf("Install of the already-installed %q: %v, want success", s.cfg.installID, err)
	}
	if len(r.Items) != 1 || r.Items[0].ID != s.cfg.installID {
		return fmt.Sprintf("Install of %q returned items %+v, want one result for it", s.cfg.installID, r.Items)
	}
	if st := r.Items[0].Status; st != adapters.ItemInstalled && st != adapters.ItemInstalledPendingReboot {
		return fmt.Sprintf("Install of the already-installed %q: status %q (%s), want %q", s.cfg.installID, st, r.Items[0].Reason, adapters.ItemInstalled)
	}
	return ""
}

const unknownID = "patchcore-adaptertest-no-such-update"

func checkInstallUnknown(ctx context.Context, s *session) string {
	if s.cfg.installID == "" {
		return skip("install checks are off (WithInstallID)")
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	r, err := s.a.Install(cctx, adapters.InstallRequest{Target: s.cfg.target, IDs: []string{unknownID}})
	if err != nil {
		if !wrapsSentinel(err) {
			return fmt.Sprintf("Install of an unknown ID: %v: the error wraps no patchcore sentinel", err)
		}
		return ""
	}
	if len(r.Items) != 1 || r.Items[0].ID != unknownID {
		return fmt.Sprintf("Install of an unknown ID returned items %+v, want one result for it", r.Items)
	}
	if st := r.Items[0].Status; st != adapters.ItemFailed && st != adapters.ItemNotApplicable {
		return fmt.Sprintf("Install of an unknown ID: status %q, want %q or %q", st, adapters.ItemFailed, adapters.ItemNotApplicable)
	}
	if r.Items[0].Reason == "" {
		return "Install of an unknown ID gave no Reason"
	}
	return ""
}

// watchRunner is the runner Run gives the adapter: it passes commands on,
// remembering their lines, and once armed holds back the first command it
// has not seen before (the transaction), calling onTxn as it starts.
type watchRunner struct {
	inner command.Runner

	mu     sync.Mutex
	seen   map[string]bool
	armed  bool
	onTxn  func()
	hold   time.Duration
	events chan txnEvent
}

// txnEvent is what became of the held-back command.
type txnEvent struct {
	line   string
	killed bool // its context ended while it was held back
}

func (w *watchRunner) Run(ctx context.Context, c command.Command) (command.Result, error) {
	line := c.String()
	w.mu.Lock()
	if !w.armed || w.seen[line] {
		w.seen[line] = true
		w.mu.Unlock()
		return w.inner.Run(ctx, c)
	}
	w.armed = false
	onTxn, hold, events := w.onTxn, w.hold, w.events
	w.mu.Unlock()
	onTxn()
	t := time.NewTimer(hold)
	defer t.Stop()
	select {
	case <-ctx.Done():
		events <- txnEvent{line: line, killed: true}
		return command.Result{}, fmt.Errorf("running %s: %w", c, ctx.Err())
	case <-t.C:
	}
	events <- txnEvent{line: line}
	return w.inner.Run(ctx, c)
}

// arm makes the next unseen command the held-back transaction.
func (w *watchRunner) arm(onTxn func(), hold time.Duration) <-chan txnEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed, w.onTxn, w.hold, w.events = true, onTxn, hold, make(chan txnEvent, 1)
	return w.events
}

func (w *watchRunner) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
}

func checkInstallCancelMidway(ctx context.Context, s *session) string {
	// Every read the adapter makes is seen before the transaction is armed.
	for _, read := range []func(context.Context) error{
		func(ctx context.Context) error {
			_, err := s.a.Inventory(ctx, adapters.InventoryRequest{Target: s.cfg.target})
			return err
		},
		func(ctx context.Context) error {
			_, err := s.a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: s.cfg.target})
			return err
		},
		func(ctx context.Context) error {
			_, err := s.a.RebootRequired(ctx, adapters.RebootRequiredRequest{Target: s.cfg.target})
			return err
		},
	} {
		cctx, cancel := s.call(ctx)
		err := read(cctx)
		cancel()
		if err != nil {
			return fmt.Sprintf("reading before the install: %v", err)
		}
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	hold := max(s.cfg.cancelDeadline/2, time.Second)
	events := s.cfg.watch.arm(cancel, hold)
	defer s.cfg.watch.disarm()
	returned := make(chan error, 1)
	go func() {
		_, err := s.a.Install(cctx, adapters.InstallRequest{Target: s.cfg.target, IDs: []string{s.cfg.cancelID}})
		returned <- err
	}()
	var ev txnEvent
	select {
	case ev = <-events:
	case err := <-returned:
		// The call returns as soon as it is cancelled; the command it
		// started is still held back.
		select {
		case ev = <-events:
		case <-time.After(hold + s.cfg.cancelDeadline):
			return fmt.Sprintf("Install of %q (%v) ran no command that Inventory, ListUpdates and RebootRequired had not run: "+
				"give WithCancelInstallID an update the adapter would install", s.cfg.cancelID, err)
		}
	case <-time.After(s.cfg.callTimeout):
		return fmt.Sprintf("Install of %q ran no transaction within %s", s.cfg.cancelID, s.cfg.callTimeout)
	}
	if ev.killed {
		return fmt.Sprintf("cancelling Install of %q cancelled the context of %q, which was running: "+
			"the package manager would be killed mid-transaction; once it has started, run it to completion", s.cfg.cancelID, ev.line)
	}
	return ""
}
