package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Runner drives deployments: it reads the stored state, decides the next
// step of every device, persists each transition through the Store before
// acting on it and calls the Executor. A Runner holds no state that a
// crash could lose except how long a device has been unreachable, so a new
// Runner on the same Store resumes where the old one stopped.
type Runner struct {
	store       Store
	inst        Executor
	clock       Clock
	parallelism int

	zones       zones
	mu          sync.Mutex
	unreachable map[string]unreachable // deployment/device -> since
}

type unreachable struct {
	since time.Time
	err   string
}

// RunnerOption configures a Runner.
type RunnerOption func(*Runner)

// WithClock sets the runner's clock (default SystemClock).
func WithClock(c Clock) RunnerOption { return func(r *Runner) { r.clock = c } }

// WithParallelism sets how many devices a Tick drives at once (default 16;
// the policy's MaxConcurrency limits how many are in progress overall).
func WithParallelism(n int) RunnerOption {
	return func(r *Runner) {
		if n > 0 {
			r.parallelism = n
		}
	}
}

// NewRunner returns a runner over store and inst.
func NewRunner(store Store, inst Executor, opts ...RunnerOption) *Runner {
	r := &Runner{store: store, inst: inst, clock: SystemClock{}, parallelism: 16, unreachable: map[string]unreachable{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Create plans spec at the runner's current time and stores it.
func (r *Runner) Create(ctx context.Context, spec Spec) (*PlannedDeployment, error) {
	p, err := Plan(spec, r.clock.Now())
	if err != nil {
		return nil, err
	}
	if err := r.store.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		return nil, fmt.Errorf("creating deployment %q: %w", spec.ID, err)
	}
	return p, nil
}

// TickResult is what a Tick did and when the next one is due.
type TickResult struct {
	Summary Summary
	// Next is when something becomes due (a window opens, a backoff or
	// deferral ends, a verification rescan); zero when nothing is scheduled.
	Next time.Time
	// Done reports that nothing is left to do: every item is terminal or
	// blocked (Summary.Blocked), or the deployment is halted or cancelled
	// and no device is in progress.
	Done bool
}

// devState is one device's items within a tick.
type devState struct {
	t       DeviceTarget
	items   []Item
	started bool
	settled bool
	open    bool
	failed  bool
	// post: the device's post-steps are still to run.
	post bool
}

// settledItems reports whether items have gone as far as they will: each
// is terminal, blocked, or waits for the user's restart (RebootOptionNever).
func settledItems(items []Item, pol Policy) bool {
	for _, it := range items {
		if it.State.Terminal() || it.Blocked {
			continue
		}
		if it.State == patchcore.DeployInstalledPendingReboot && pol.Reboot.Option == RebootOptionNever {
			continue
		}
		return false
	}
	return true
}

// groupDevices splits items by target. recs holds the step records by
// device (nil when the policy has no steps); a device whose post-steps
// are pending is not settled.
func groupDevices(targets []DeviceTarget, items []Item, pol Policy, recs map[string]StepRecord) []devState {
	devs := make([]devState, len(targets))
	j := 0
	for i, t := range targets {
		k := j
		for k < len(items) && items[k].Device == t.Device {
			k++
		}
		ds := devState{t: t, items: items[j:k]}
		for _, it := range ds.items {
			if it.State != patchcore.DeployPosted {
				ds.started = true
			}
			if isError(it.State) {
				ds.failed = true
			}
			if !it.State.Terminal() {
				ds.open = true
			}
		}
		ds.post = recs[t.Device].PostPending(len(pol.PostSteps))
		ds.settled = !ds.post && settledItems(ds.items, pol)
		devs[i] = ds
		j = k
	}
	return devs
}

// Tick advances deployment id as far as is possible now: scans,
// downloads, installs, retries, restarts and verifications that are due,
// within the rollout's stages and concurrency. Executor failures to
// answer are not errors of Tick; store failures are.
func (r *Runner) Tick(ctx context.Context, id string) (TickResult, error) {
	tk, err := r.load(ctx, id)
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	if tk.now.Before(tk.d.Start) || tk.d.Status == StatusCancelled {
		return tk.idle(), nil
	}
	if err := r.loadSteps(ctx, tk); err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	tk.devs = groupDevices(tk.targets, tk.items, tk.d.Policy, tk.recs)
	st := tk.stages()
	current := tk.currentStage(st)
	if err := r.haltOverThreshold(ctx, tk, st, current); err != nil {
		return TickResult{}, fmt.Errorf("tick %q: halting: %w", id, err)
	}
	next, err := r.runDevices(ctx, tk, tk.work(current))
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	res, err := r.finish(ctx, tk, next)
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	return res, nil
}

// tick is one Tick's view of a deployment: what it loaded from the store
// and, as the device runs store transitions, their results.
type tick struct {
	d       Deployment
	now     time.Time
	targets []DeviceTarget
	// items is every item, grouped by device; devs[i].items alias it.
	items []Item
	// recs holds the step records by device (nil when the policy has no steps).
	recs map[string]StepRecord
	devs []devState
}

// load reads deployment id, its targets and items at the runner's time.
func (r *Runner) load(ctx context.Context, id string) (*tick, error) {
	d, err := r.store.Deployment(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Policy.hasSteps() {
		if _, ok := r.inst.(StepRunner); !ok {
			return nil, fmt.Errorf("the policy has pre/post steps but the executor does not implement StepRunner: %w", patchcore.ErrUnsupported)
		}
	}
	tk := &tick{d: d, now: r.clock.Now()}
	if tk.targets, err = r.store.Targets(ctx, id); err != nil {
		return nil, err
	}
	if tk.items, err = r.store.Items(ctx, id, ""); err != nil {
		return nil, err
	}
	return tk, nil
}

// idle is the result of a Tick before the deployment's start or after its
// cancellation: nothing runs.
func (tk *tick) idle() TickResult {
	res := TickResult{Summary: Summarize(tk.d, tk.items, tk.now), Done: tk.d.Status == StatusCancelled}
	if !res.Done {
		res.Next = tk.d.Start
	}
	return res
}

// loadSteps reads the devices' step records when the policy has steps.
func (r *Runner) loadSteps(ctx context.Context, tk *tick) error {
	if !tk.d.Policy.hasSteps() {
		return nil
	}
	stored, err := r.store.Steps(ctx, tk.d.ID, "")
	if err != nil {
		return err
	}
	tk.recs = make(map[string]StepRecord, len(stored))
	for _, rec := range stored {
		tk.recs[rec.Device] = rec
	}
	return nil
}

// stageCounts are a rollout stage's devices: all, settled and failed.
type stageCounts struct{ total, settled, failed int }

// stages counts the devices of each rollout stage; devices beyond the
// last stage count in it.
func (tk *tick) stages() []stageCounts {
	st := make([]stageCounts, tk.d.Stages+1)
	for _, ds := range tk.devs {
		s := &st[min(ds.t.Stage, tk.d.Stages)]
		s.total++
		if ds.settled {
			s.settled++
		}
		if ds.failed {
			s.failed++
		}
	}
	return st
}

// currentStage is the first rollout stage with an unsettled device
// (d.Stages when every device has settled).
func (tk *tick) currentStage(st []stageCounts) int {
	current := 0
	for current < tk.d.Stages && st[current].settled == st[current].total {
		current++
	}
	return current
}

// haltOverThreshold halts an active deployment when a stage up to current
// whose errors were not accepted exceeds the error threshold (st: the
// stages' counts).
func (r *Runner) haltOverThreshold(ctx context.Context, tk *tick, st []stageCounts, current int) error {
	d := &tk.d
	if d.Status != StatusActive {
		return nil
	}
	th := d.Policy.Rollout.ErrorThreshold
	for s := d.AcceptedStages; s <= min(current, d.Stages-1); s++ {
		if !th.Exceeded(st[s].failed, st[s].total) {
			continue
		}
		reason := fmt.Sprintf("stage %d: %d of %d devices failed, over the error threshold (count %d, percent %g); later stages do not start",
			s, st[s].failed, st[s].total, th.Count, th.Percent)
		a := Alert{ID: d.ID + "/halt/" + strconv.Itoa(s), Deployment: d.ID, Kind: AlertRolloutHalted, Level: LevelCritical, Reason: reason, At: tk.now}
		u := StatusUpdate{Status: StatusHalted, Reason: reason, HaltedStage: s, AcceptedStages: d.AcceptedStages, Alert: a}
		if err := r.store.SetStatus(ctx, d.ID, u); err != nil {
			return err
		}
		d.Status, d.StatusReason = StatusHalted, reason
		return nil
	}
	return nil
}

// work picks the devices this tick drives (indexes into tk.devs): those in
// progress, then, while the deployment is active, new devices of the
// current stage up to the policy's concurrency limit.
func (tk *tick) work(current int) []int {
	var work []int
	active := 0
	for i, ds := range tk.devs {
		if ds.started && (ds.open || ds.post) {
			work = append(work, i)
			if !ds.settled {
				active++
			}
		}
	}
	if tk.d.Status != StatusActive || current >= tk.d.Stages {
		return work
	}
	mc := tk.d.Policy.Rollout.MaxConcurrency
	for i, ds := range tk.devs {
		if ds.t.Stage != current || ds.started || ds.settled {
			continue
		}
		if mc > 0 && active >= mc {
			break
		}
		work = append(work, i)
		active++
	}
	return work
}

// runDevices runs the devices work, up to the runner's parallelism at
// once, and returns the earliest time one of them is due again (zero:
// none scheduled). The tick's items and step records follow what the
// device runs stored.
func (r *Runner) runDevices(ctx context.Context, tk *tick, work []int) (time.Time, error) {
	nexts := make([]time.Time, len(work))
	recsOut := make([]StepRecord, len(work))
	errs := make([]error, len(work))
	sem := make(chan struct{}, r.parallelism)
	var wg sync.WaitGroup
	for k, i := range work {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ds := &tk.devs[i]
			dr := &deviceRun{r: r, d: tk.d, t: ds.t, items: slices.Clone(ds.items), now: tk.now, lim: tk.d.Policy.limits(tk.d.Start)}
			dr.rec = tk.recs[dr.t.Device]
			dr.rec.Device = dr.t.Device
			errs[k] = dr.run(ctx)
			nexts[k] = dr.next
			recsOut[k] = dr.rec
			// ds.items aliases tk.items.
			copy(ds.items, dr.items)
		})
	}
	wg.Wait()
	if tk.recs != nil {
		for _, rec := range recsOut {
			if rec.Version > 0 {
				tk.recs[rec.Device] = rec
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, n := range nexts {
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next, nil
}

// finish releases the settled devices and says whether the deployment is
// done and when the next tick is due (next: the device runs' earliest).
func (r *Runner) finish(ctx context.Context, tk *tick, next time.Time) (TickResult, error) {
	res := TickResult{Summary: Summarize(tk.d, tk.items, tk.now), Next: next}
	tk.devs = groupDevices(tk.targets, tk.items, tk.d.Policy, tk.recs)
	// The device runs release their own devices; this also covers a crash
	// between a device's last transition and its release.
	for _, ds := range tk.devs {
		if ds.started && ds.settled {
			if err := r.store.Release(ctx, ds.t.Device, tk.d.ID); err != nil {
				return TickResult{}, err
			}
		}
	}
	res.Done = tk.done(res.Summary)
	if !res.Done && res.Next.IsZero() {
		res.Next = tk.now.Add(time.Duration(tk.d.Policy.PollInterval))
	}
	return res, nil
}

// done reports whether nothing is left to do: an active deployment's
// devices have all settled and its items are terminal or blocked (items
// that wait for a user's restart keep it going); a halted one has no
// started device that has not settled.
func (tk *tick) done(s Summary) bool {
	for _, ds := range tk.devs {
		if ds.settled {
			continue
		}
		if tk.d.Status == StatusActive || tk.d.Status == StatusHalted && ds.started {
			return false
		}
	}
	if tk.d.Status != StatusActive {
		return true
	}
	switch s.State {
	case AggregateCompleted, AggregateCompletedWithErrors, AggregateBlocked:
		return true
	}
	return false
}

// Run ticks deployment id until it is done, sleeping on the runner's clock
// between ticks, or until ctx ends.
func (r *Runner) Run(ctx context.Context, id string) (Summary, error) {
	for {
		res, err := r.Tick(ctx, id)
		if err != nil {
			return res.Summary, err
		}
		if res.Done {
			return res.Summary, nil
		}
		wait := res.Next.Sub(r.clock.Now())
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return res.Summary, fmt.Errorf("running deployment %q: %w", id, ctx.Err())
		case <-r.clock.After(wait):
		}
	}
}

// Deliver hands up to max outbox alerts to sink and acknowledges them once
// Publish returns nil. It returns how many it delivered.
func (r *Runner) Deliver(ctx context.Context, sink Sink, max int) (int, error) {
	alerts, err := r.store.Outbox(ctx, max)
	if err != nil || len(alerts) == 0 {
		return 0, err
	}
	if err := sink.Publish(ctx, alerts); err != nil {
		return 0, fmt.Errorf("delivering %d alerts: %w", len(alerts), err)
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.ID
	}
	if err := r.store.Ack(ctx, ids); err != nil {
		return 0, fmt.Errorf("acknowledging %d delivered alerts: %w", len(alerts), err)
	}
	return len(alerts), nil
}

// Cancel stops deployment id: its open items are aborted with reason and
// its devices released.
func (r *Runner) Cancel(ctx context.Context, id, reason string) error {
	d, err := r.store.Deployment(ctx, id)
	if err != nil {
		return fmt.Errorf("cancelling %q: %w", id, err)
	}
	now := r.clock.Now()
	a := Alert{ID: id + "/cancel", Deployment: id, Kind: AlertAborted, Level: LevelWarning, Reason: "cancelled: " + reason, At: now}
	u := StatusUpdate{Status: StatusCancelled, Reason: reason, HaltedStage: d.HaltedStage, AcceptedStages: d.AcceptedStages, Alert: a}
	if err := r.store.SetStatus(ctx, id, u); err != nil {
		return fmt.Errorf("cancelling %q: %w", id, err)
	}
	items, err := r.store.Items(ctx, id, "")
	if err != nil {
		return fmt.Errorf("cancelling %q: %w", id, err)
	}
	targets, err := r.store.Targets(ctx, id)
	if err != nil {
		return fmt.Errorf("cancelling %q: %w", id, err)
	}
	for _, ds := range groupDevices(targets, items, d.Policy, nil) {
		dr := &deviceRun{r: r, d: d, t: ds.t, items: slices.Clone(ds.items), now: now, lim: d.Policy.limits(d.Start)}
		if err := dr.fire(ctx, dr.open(), func(Item) Input { return Input{Event: EvAbort, Reason: "deployment cancelled: " + reason} }); err != nil {
			return fmt.Errorf("cancelling %q: %w", id, err)
		}
		if err := r.store.Release(ctx, ds.t.Device, id); err != nil {
			return fmt.Errorf("cancelling %q: %w", id, err)
		}
	}
	return nil
}

// Resume lets a halted deployment continue: the errors of the stage that
// halted it are accepted and the next stage may start.
func (r *Runner) Resume(ctx context.Context, id, reason string) error {
	d, err := r.store.Deployment(ctx, id)
	if err != nil {
		return fmt.Errorf("resuming %q: %w", id, err)
	}
	if d.Status != StatusHalted {
		return fmt.Errorf("resuming %q: status is %s, not halted: %w", id, d.Status, patchcore.ErrInvalidInput)
	}
	now := r.clock.Now()
	a := Alert{ID: id + "/resume/" + strconv.Itoa(d.HaltedStage), Deployment: id, Kind: AlertRolloutResumed, Level: LevelInfo, Reason: "resumed: " + reason, At: now}
	u := StatusUpdate{Status: StatusActive, HaltedStage: d.HaltedStage, AcceptedStages: d.HaltedStage + 1, Alert: a}
	if err := r.store.SetStatus(ctx, id, u); err != nil {
		return fmt.Errorf("resuming %q: %w", id, err)
	}
	return nil
}

// deviceRun is one device's work within a tick.
type deviceRun struct {
	r     *Runner
	d     Deployment
	t     DeviceTarget
	items []Item
	now   time.Time
	lim   Limits
	next  time.Time
	// rec is the device's stored step record (Version 0: none stored).
	rec StepRecord
	// stop is set when the device did not answer.
	stop bool
}

func (dr *deviceRun) wake(t time.Time) {
	if !t.IsZero() && (dr.next.IsZero() || t.Before(dr.next)) {
		dr.next = t
	}
}

func (dr *deviceRun) op(kind string, it Item) Operation {
	return Operation{ID: it.OpID(dr.d.ID, kind), Deployment: dr.d.ID, Device: it.Device, Patch: it.Patch, Attempt: it.Attempt}
}

func (dr *deviceRun) where(states ...patchcore.DeploymentState) []int {
	var idx []int
	for i, it := range dr.items {
		if slices.Contains(states, it.State) {
			idx = append(idx, i)
		}
	}
	return idx
}

func (dr *deviceRun) open() []int {
	var idx []int
	for i, it := range dr.items {
		if !it.State.Terminal() {
			idx = append(idx, i)
		}
	}
	return idx
}

// fire applies an event to each of the items idx and persists all the
// transitions and extra alerts in one batch before updating dr.items.
func (dr *deviceRun) fire(ctx context.Context, idx []int, in func(Item) Input, extra ...Alert) error {
	if len(idx) == 0 && len(extra) == 0 {
		return nil
	}
	b := Batch{Alerts: extra}
	next := make([]Item, len(idx))
	for k, i := range idx {
		input := in(dr.items[i])
		input.At = dr.now
		n, a, err := Fire(dr.d.ID, dr.items[i], input, dr.lim)
		if err != nil {
			return fmt.Errorf("deployment %q: %w", dr.d.ID, err)
		}
		next[k] = n
		b.Updates = append(b.Updates, Update{Item: n})
		b.Alerts = append(b.Alerts, a)
	}
	if err := dr.r.store.Apply(ctx, dr.d.ID, b); err != nil {
		return fmt.Errorf("deployment %q device %q: persisting %d transitions: %w", dr.d.ID, dr.t.Device, len(idx), err)
	}
	for k, i := range idx {
		dr.items[i] = next[k]
	}
	return nil
}

func (dr *deviceRun) fire1(ctx context.Context, i int, in Input) error {
	return dr.fire(ctx, []int{i}, func(Item) Input { return in })
}

// answered records that the device answered.
func (dr *deviceRun) answered() {
	dr.r.mu.Lock()
	delete(dr.r.unreachable, dr.d.ID+"/"+dr.t.Device)
	dr.r.mu.Unlock()
}

// noAnswer records that the device did not answer; after the purge
// interval its open items are aborted.
func (dr *deviceRun) noAnswer(ctx context.Context, doing string, err error) error {
	dr.stop = true
	key := dr.d.ID + "/" + dr.t.Device
	dr.r.mu.Lock()
	u, ok := dr.r.unreachable[key]
	if !ok {
		u = unreachable{since: dr.now}
	}
	u.err = doing + ": " + err.Error()
	dr.r.unreachable[key] = u
	dr.r.mu.Unlock()
	if dr.now.Sub(u.since) < time.Duration(dr.d.Policy.PurgeAfter) {
		dr.wake(dr.now.Add(time.Duration(dr.d.Policy.PollInterval)))
		return nil
	}
	reason := fmt.Sprintf("device did not answer for %s (purge interval %s): %s", dr.now.Sub(u.since), dr.d.Policy.PurgeAfter, u.err)
	if err := dr.fire(ctx, dr.open(), func(Item) Input { return Input{Event: EvAbort, Reason: reason} }); err != nil {
		return err
	}
	dr.answered()
	return dr.r.store.Release(ctx, dr.t.Device, dr.d.ID)
}

// maxPasses bounds the passes of one device run. At one instant a device
// needs at most three: the first takes every step that is due, the second
// decides the failures of the first's install phase (the retry phase runs
// before it), the third finds nothing to do. A policy stored without its
// defaults (a zero backoff) can need one more pass per retry; past the
// bound the device goes on at the next Tick.
const maxPasses = 8

// run runs the device's phases until a pass takes no step, the device
// stops answering or restarts, or maxPasses, and releases the device once
// it has settled.
func (dr *deviceRun) run(ctx context.Context) error {
	for pass := 0; pass < maxPasses && !dr.stop; pass++ {
		progressed, err := dr.pass(ctx)
		if err != nil {
			return err
		}
		if !progressed {
			break
		}
	}
	if settledItems(dr.items, dr.d.Policy) && !dr.rec.PostPending(len(dr.d.Policy.PostSteps)) {
		return dr.r.store.Release(ctx, dr.t.Device, dr.d.ID)
	}
	return nil
}

// saveSteps persists rec (with alerts) as the device's step record.
func (dr *deviceRun) saveSteps(ctx context.Context, rec StepRecord, alerts ...Alert) error {
	rec.Version = dr.rec.Version + 1
	if err := dr.r.store.Apply(ctx, dr.d.ID, Batch{Steps: []StepRecord{rec}, Alerts: alerts}); err != nil {
		return fmt.Errorf("deployment %q device %q: persisting step record: %w", dr.d.ID, dr.t.Device, err)
	}
	dr.rec = rec
	return nil
}

// pass runs each phase once; it reports whether any transition happened.
func (dr *deviceRun) pass(ctx context.Context) (bool, error) {
	before := dr.versions()
	for _, phase := range []func(context.Context) error{dr.scan, dr.download, dr.retry, dr.install, dr.reboot, dr.post} {
		if err := phase(ctx); err != nil {
			return false, err
		}
		if dr.stop {
			break
		}
	}
	return dr.versions() != before, nil
}

func (dr *deviceRun) versions() uint64 {
	v := dr.rec.Version
	for _, it := range dr.items {
		v += it.Version
	}
	return v
}

// scan rescans the device for Posted items: already installed and no
// longer applicable patches end there, missing ones start downloading.
func (dr *deviceRun) scan(ctx context.Context) error {
	idx := dr.where(patchcore.DeployPosted)
	if len(idx) == 0 {
		return nil
	}
	patches := make([]string, len(idx))
	for k, i := range idx {
		patches[k] = dr.items[i].Patch
	}
	states, err := dr.r.inst.Rescan(ctx, dr.d.ID, dr.t.Device, patches)
	if err != nil {
		return dr.noAnswer(ctx, "rescan", err)
	}
	dr.answered()
	var missing []string
	for _, p := range patches {
		if s := states[p]; s != patchcore.FindingInstalled && s != patchcore.FindingInstalledPendingReboot &&
			s != patchcore.FindingNotApplicable && s != patchcore.FindingSuperseded {
			missing = append(missing, p)
		}
	}
	base := dr.d.ID + "/" + dr.t.Device
	extra := []Alert{
		{ID: base + "/scan", Deployment: dr.d.ID, Device: dr.t.Device, Kind: AlertScanInitiated, Level: LevelInfo,
			Reason: fmt.Sprintf("scanning %d patches", len(patches)), At: dr.now},
		{ID: base + "/missing", Deployment: dr.d.ID, Device: dr.t.Device, Kind: AlertMissingPatchesFound, Level: LevelInfo,
			Reason: fmt.Sprintf("%d of %d patches missing: %v", len(missing), len(patches), missing), At: dr.now},
	}
	return dr.fire(ctx, idx, func(it Item) Input {
		switch s := states[it.Patch]; s {
		case patchcore.FindingInstalled, patchcore.FindingInstalledPendingReboot:
			return Input{Event: EvAlreadyInstalled, Reason: "scan found it " + string(s) + " before the deployment"}
		case patchcore.FindingNotApplicable, patchcore.FindingSuperseded:
			return Input{Event: EvNotApplicable, Reason: "scan found it " + string(s)}
		}
		return Input{Event: EvDownload}
	}, extra...)
}

// download runs the downloads in progress.
func (dr *deviceRun) download(ctx context.Context) error {
	for _, i := range dr.where(patchcore.DeployDownloading) {
		res, err := dr.r.inst.Download(ctx, dr.op("download", dr.items[i]))
		if err != nil {
			return dr.noAnswer(ctx, "download "+dr.items[i].Patch, err)
		}
		dr.answered()
		in := Input{Reason: res.Reason, Permanent: res.Permanent}
		switch res.Outcome {
		case OutcomeStaged, OutcomeInstalled:
			in.Event = EvDownloaded
		case OutcomeAlreadyInstalled:
			in.Event = EvAlreadyInstalled
		case OutcomeNotApplicable:
			in.Event = EvNotApplicable
		default:
			in.Event = EvDownloadFailed
			if in.Reason == "" {
				in.Reason = fmt.Sprintf("download outcome %q", res.Outcome)
			}
		}
		if err := dr.fire1(ctx, i, in); err != nil {
			return err
		}
	}
	return nil
}

// retry decides failed items (retry with backoff or give up) and restarts
// retries whose backoff has passed.
func (dr *deviceRun) retry(ctx context.Context) error {
	if err := dr.fire(ctx, dr.where(patchcore.DeployFailed), func(it Item) Input {
		if it.Permanent || it.Attempt > dr.lim.Retries {
			return Input{Event: EvGiveUp, Reason: fmt.Sprintf("after %d attempts: %s", it.Attempt, it.Reason)}
		}
		return Input{Event: EvRetry, NotBefore: dr.now.Add(dr.d.Policy.Retry.Delay(it.Attempt)), Reason: it.Reason}
	}); err != nil {
		return err
	}
	var due []int
	for _, i := range dr.where(patchcore.DeployRetrying) {
		if dr.now.Before(dr.items[i].NotBefore) {
			dr.wake(dr.items[i].NotBefore)
			continue
		}
		due = append(due, i)
	}
	return dr.fire(ctx, due, func(Item) Input { return Input{Event: EvDownload} })
}

// install starts installs that may start now and finishes those in progress.
func (dr *deviceRun) install(ctx context.Context) error {
	var ready []int
	for _, i := range dr.where(patchcore.DeployDownloaded, patchcore.DeployWaiting) {
		if dr.now.Before(dr.items[i].NotBefore) {
			dr.wake(dr.items[i].NotBefore)
			continue
		}
		ready = append(ready, i)
	}
	if len(ready) > 0 {
		if err := dr.start(ctx, ready); err != nil || dr.stop {
			return err
		}
	}
	installing := dr.where(patchcore.DeployInstalling)
	if len(installing) == 0 {
		return nil
	}
	if err := dr.preSteps(ctx, installing); err != nil || len(dr.where(patchcore.DeployInstalling)) == 0 {
		return err
	}
	for _, i := range installing {
		res, err := dr.r.inst.Install(ctx, dr.op("install", dr.items[i]))
		if err != nil {
			return dr.noAnswer(ctx, "install "+dr.items[i].Patch, err)
		}
		dr.answered()
		in := Input{Reason: res.Reason, Permanent: res.Permanent}
		switch res.Outcome {
		case OutcomeInstalled, OutcomeAlreadyInstalled:
			in.Event = EvInstalled
			if dr.d.Policy.Reboot.Option == RebootOptionAlways {
				in.Event, in.Reason = EvNeedsReboot, "the policy restarts after every install"
			}
		case OutcomeRebootRequired:
			in.Event = EvNeedsReboot
		case OutcomeNotApplicable:
			in.Event = EvNotApplicable
		default:
			in.Event = EvInstallFailed
			if in.Reason == "" {
				in.Reason = fmt.Sprintf("install outcome %q", res.Outcome)
			}
		}
		if err := dr.fire1(ctx, i, in); err != nil {
			return err
		}
	}
	return nil
}

// preSteps runs the pre-steps not yet recorded done before the device's
// installs. It first records that post-steps are due, so a crash after
// an install cannot forget them. Each step is recorded done after it
// completes; one interrupted by a crash runs again with the same
// operation ID. A failure fails the installing items (and a retry runs
// the step again under a new attempt's ID) unless the step tolerates it.
func (dr *deviceRun) preSteps(ctx context.Context, installing []int) error {
	pol := dr.d.Policy
	if len(pol.PostSteps) > 0 && !dr.rec.PostDue {
		rec := dr.rec
		rec.PostDue = true
		if err := dr.saveSteps(ctx, rec); err != nil {
			return err
		}
	}
	if dr.rec.PreDone >= len(pol.PreSteps) {
		return nil
	}
	steps, _ := dr.r.inst.(StepRunner)
	attempt := 0
	for _, i := range installing {
		attempt = max(attempt, dr.items[i].Attempt)
	}
	for k := dr.rec.PreDone; k < len(pol.PreSteps); k++ {
		st := pol.PreSteps[k]
		op := Operation{ID: dr.stepID(PhasePre, pol.PreSteps, k) + "/" + strconv.Itoa(attempt), Deployment: dr.d.ID, Device: dr.t.Device, Attempt: attempt}
		rec := dr.rec
		rec.PreDone = k + 1
		if err := steps.RunStep(ctx, op, PhasePre, st); err != nil {
			reason := fmt.Sprintf("pre-step %q failed: %v", st.Name, err)
			if st.ContinueOnError {
				if err := dr.saveSteps(ctx, rec, dr.stepAlert(op, reason)); err != nil {
					return err
				}
				continue
			}
			return dr.fire(ctx, installing, func(Item) Input { return Input{Event: EvInstallFailed, Reason: reason} })
		}
		if err := dr.saveSteps(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}

// post runs the post-steps not yet recorded done once every item of the
// device has settled. A failed post-step is reported by an alert stored
// with its record; the items keep their results. A step interrupted by a
// crash runs again with the same operation ID.
func (dr *deviceRun) post(ctx context.Context) error {
	pol := dr.d.Policy
	if !dr.rec.PostPending(len(pol.PostSteps)) || !settledItems(dr.items, pol) {
		return nil
	}
	steps, _ := dr.r.inst.(StepRunner)
	for k := dr.rec.PostDone; k < len(pol.PostSteps); k++ {
		st := pol.PostSteps[k]
		op := Operation{ID: dr.stepID(PhasePost, pol.PostSteps, k), Deployment: dr.d.ID, Device: dr.t.Device}
		rec := dr.rec
		rec.PostDone = k + 1
		var alerts []Alert
		if err := steps.RunStep(ctx, op, PhasePost, st); err != nil {
			alerts = append(alerts, dr.stepAlert(op, fmt.Sprintf("post-step %q failed: %v", st.Name, err)))
		}
		if err := dr.saveSteps(ctx, rec, alerts...); err != nil {
			return err
		}
	}
	return nil
}

// stepID is the operation ID of steps[k] of phase on the device, without
// the attempt: "deployment/device/phase/name". Policy.Validate keeps the
// names of a phase distinct; a deployment stored before it did may repeat
// a name, and a repeat is told apart by its index ("name#2"), so every
// step runs. The IDs of distinct names are as they always were, so a
// journal written before resumes with the same IDs.
func (dr *deviceRun) stepID(phase Phase, steps []Step, k int) string {
	name := steps[k].Name
	for _, prev := range steps[:k] {
		if prev.Name == name {
			name += "#" + strconv.Itoa(k)
			break
		}
	}
	return dr.d.ID + "/" + dr.t.Device + "/" + string(phase) + "/" + name
}

func (dr *deviceRun) stepAlert(op Operation, reason string) Alert {
	return Alert{ID: op.ID, Deployment: dr.d.ID, Device: dr.t.Device, Kind: AlertStepFailed, Level: LevelWarning, Reason: reason, At: dr.now}
}

// start moves ready items to Installing when a window is open, the device
// is free and the user does not defer.
func (dr *deviceRun) start(ctx context.Context, ready []int) error {
	zs, err := dr.d.Policy.Windows.zonedWith(&dr.r.zones, dr.t.Zone)
	if err != nil {
		return fmt.Errorf("deployment %q device %q: %w", dr.d.ID, dr.t.Device, err)
	}
	if _, open := openAt(zs, dr.now); !open {
		o, err := nextOpening(zs, dr.now)
		if err != nil {
			reason := "installs blocked: " + err.Error()
			var block []int
			for _, i := range ready {
				if it := dr.items[i]; !it.Blocked || it.Reason != reason {
					block = append(block, i)
				}
			}
			return dr.fire(ctx, block, func(Item) Input { return Input{Event: EvBlock, Reason: reason} })
		}
		dr.wake(o.Start)
		return nil
	}
	if err := dr.r.store.Acquire(ctx, dr.t.Device, dr.d.ID); err != nil {
		if !errors.Is(err, patchcore.ErrBusy) {
			return err
		}
		dr.wake(dr.now.Add(time.Duration(dr.d.Policy.PollInterval)))
		return dr.fire(ctx, dr.where(patchcore.DeployDownloaded), func(Item) Input { return Input{Event: EvWait, Reason: err.Error()} })
	}
	if deferred, err := dr.ask(ctx, NoticeBeforeInstall, ready); err != nil || deferred {
		return err
	}
	return dr.fire(ctx, ready, func(Item) Input { return Input{Event: EvInstall, LockHeld: true, WindowOpen: true} })
}

// ask notifies the user before an install or restart and records a
// deferral when the user postpones and may still do so.
func (dr *deviceRun) ask(ctx context.Context, kind NoticeKind, idx []int) (bool, error) {
	n, ok := dr.r.inst.(Notifier)
	if !ok {
		return false, nil
	}
	used := 0
	patches := make([]string, len(idx))
	for k, i := range idx {
		used = max(used, dr.items[i].Deferrals)
		patches[k] = dr.items[i].Patch
	}
	left := max(dr.lim.MaxDeferrals-used, 0)
	if !dr.lim.DeferralDeadline.IsZero() && !dr.now.Before(dr.lim.DeferralDeadline) {
		left = 0
	}
	deferred, err := n.Notify(ctx, Notice{Kind: kind, Deployment: dr.d.ID, Device: dr.t.Device, Patches: patches, DeferralsLeft: left, Deadline: dr.lim.DeferralDeadline})
	if err != nil {
		return false, dr.noAnswer(ctx, "notify", err)
	}
	if !deferred || left == 0 {
		return false, nil
	}
	until := dr.now.Add(time.Duration(dr.d.Policy.Deferral.RetryAfter))
	dr.wake(until)
	return true, dr.fire(ctx, idx, func(Item) Input {
		return Input{Event: EvDefer, NotBefore: until, Reason: "deferred by the user (" + string(kind) + ")"}
	})
}

// reboot restarts the device when its installs are done and the reboot
// policy says so, and verifies pending patches after the restart. The
// steps: sort the pending items, verify those restarted, stop those the
// reboot-loop guard stops, and, once the device's cycle is over, restart
// when the policy's timing allows (or record that it never will).
func (dr *deviceRun) reboot(ctx context.Context) error {
	verify, again := dr.pendingRestarts()
	still, err := dr.verifyRestarted(ctx, verify)
	if err != nil || dr.stop {
		return err
	}
	again = append(again, still...)
	if len(again) == 0 || dr.d.Policy.Reboot.Option == RebootOptionNever {
		return nil
	}
	restart, repeat, err := dr.guardRebootLoop(ctx, again)
	if err != nil || len(restart) == 0 || dr.cycleOpen() {
		return err
	}
	due, err := dr.rebootDue(restart, repeat)
	var never *NeverOpensError
	if errors.As(err, &never) {
		return dr.blockRestart(ctx, restart, err)
	}
	if err != nil {
		return err
	}
	return dr.restart(ctx, restart, due)
}

// pendingRestarts sorts the items pending a restart: verify holds those
// restarted (or, under RebootOptionNever, left to the user) whose grace has
// passed, again those the runner has not restarted yet.
func (dr *deviceRun) pendingRestarts() (verify, again []int) {
	pol := dr.d.Policy.Reboot
	for _, i := range dr.where(patchcore.DeployInstalledPendingReboot) {
		it := dr.items[i]
		if pol.Option != RebootOptionNever && it.Reboots == 0 {
			again = append(again, i)
			continue
		}
		due := it.NotBefore
		if pol.Option == RebootOptionNever {
			due = it.Updated.Add(time.Duration(pol.Grace))
		}
		if dr.now.Before(due) {
			dr.wake(due)
			continue
		}
		verify = append(verify, i)
	}
	return verify, again
}

// verifyRestarted rescans the items verify and settles those the scan no
// longer reports pending a restart. It returns those it still reports
// pending, which need another restart (under RebootOptionNever: are verified
// again after the grace).
func (dr *deviceRun) verifyRestarted(ctx context.Context, verify []int) (still []int, err error) {
	if len(verify) == 0 {
		return nil, nil
	}
	pol := dr.d.Policy.Reboot
	patches := make([]string, len(verify))
	for k, i := range verify {
		patches[k] = dr.items[i].Patch
	}
	states, err := dr.r.inst.Rescan(ctx, dr.d.ID, dr.t.Device, patches)
	if err != nil {
		return nil, dr.noAnswer(ctx, "verification rescan", err)
	}
	dr.answered()
	var settle []int
	for _, i := range verify {
		if states[dr.items[i].Patch] != patchcore.FindingInstalledPendingReboot {
			settle = append(settle, i)
		} else if pol.Option == RebootOptionNever {
			dr.wake(dr.now.Add(time.Duration(pol.Grace)))
		} else {
			still = append(still, i)
		}
	}
	return still, dr.fire(ctx, settle, func(it Item) Input {
		switch s := states[it.Patch]; s {
		case patchcore.FindingInstalled, patchcore.FindingSuperseded:
			return Input{Event: EvVerified, Reason: "verification scan after restart: " + string(s)}
		case "":
			return Input{Event: EvVerifyFailed, Reason: "installed, but the verification scan does not report the patch"}
		default:
			return Input{Event: EvVerifyFailed, Reason: "installed, but the verification scan reports it " + string(s)}
		}
	})
}

// guardRebootLoop ends the items of again that used up the policy's
// restarts (they become Unknown) and returns the rest; repeat reports
// that one of those was restarted before.
func (dr *deviceRun) guardRebootLoop(ctx context.Context, again []int) (restart []int, repeat bool, err error) {
	var looping []int
	for _, i := range again {
		if dr.items[i].Reboots >= dr.lim.MaxReboots {
			looping = append(looping, i)
			continue
		}
		repeat = repeat || dr.items[i].Reboots > 0
		restart = append(restart, i)
	}
	err = dr.fire(ctx, looping, func(it Item) Input {
		return Input{Event: EvVerifyFailed, Reason: fmt.Sprintf("reboot-loop guard: %d restarts for this deployment and the patch still waits for one", it.Reboots)}
	})
	return restart, repeat, err
}

// cycleOpen reports whether an item of the device is still on its way to
// an install: the restart waits for it.
func (dr *deviceRun) cycleOpen() bool {
	for _, it := range dr.items {
		if !it.State.Terminal() && !it.Blocked && it.State != patchcore.DeployInstalledPendingReboot {
			return true
		}
	}
	return false
}

// blockRestart records on the items idx that no window will ever allow
// their restart (never, a *NeverOpensError, says why), once per reason.
func (dr *deviceRun) blockRestart(ctx context.Context, idx []int, never error) error {
	reason := "restart blocked: " + never.Error()
	var block []int
	for _, i := range idx {
		if it := dr.items[i]; !it.Blocked || it.Reason != reason {
			block = append(block, i)
		}
	}
	return dr.fire(ctx, block, func(Item) Input { return Input{Event: EvBlock, Reason: reason} })
}

// restart restarts the device for the items idx once due and each item's
// NotBefore have come and the user does not defer, and schedules the
// verification rescan after the policy's grace.
func (dr *deviceRun) restart(ctx context.Context, idx []int, due time.Time) error {
	for _, i := range idx {
		if dr.items[i].NotBefore.After(due) {
			due = dr.items[i].NotBefore
		}
	}
	if dr.now.Before(due) {
		dr.wake(due)
		return nil
	}
	if deferred, err := dr.ask(ctx, NoticeBeforeReboot, idx); err != nil || deferred {
		return err
	}
	verifyAt := dr.now.Add(time.Duration(dr.d.Policy.Reboot.Grace))
	if err := dr.fire(ctx, idx, func(it Item) Input {
		return Input{Event: EvReboot, NotBefore: verifyAt, Reason: fmt.Sprintf("restart %d of at most %d", it.Reboots+1, dr.lim.MaxReboots)}
	}); err != nil {
		return err
	}
	n := dr.items[idx[0]].Reboots
	op := Operation{ID: dr.d.ID + "/" + dr.t.Device + "/reboot/" + strconv.Itoa(n), Deployment: dr.d.ID, Device: dr.t.Device, Attempt: n}
	if err := dr.r.inst.Reboot(ctx, op); err != nil {
		return dr.noAnswer(ctx, "reboot", err)
	}
	dr.answered()
	dr.wake(verifyAt)
	dr.stop = true // the device is restarting
	return nil
}

// rebootDue is when the restart of items idx may happen (repeat: one of
// them was restarted before, in this cycle). When no window
// will ever allow it, the error is the windows' *NeverOpensError (joined
// when there are several).
func (dr *deviceRun) rebootDue(idx []int, repeat bool) (time.Time, error) {
	pol := dr.d.Policy
	if repeat {
		return dr.now, nil // a repeat restart belongs to the same cycle
	}
	var base time.Time
	for _, i := range idx {
		if dr.items[i].Updated.After(base) {
			base = dr.items[i].Updated
		}
	}
	zs, err := pol.Windows.zonedWith(&dr.r.zones, dr.t.Zone)
	if err != nil {
		return time.Time{}, err
	}
	switch pol.Reboot.Timing {
	case RebootTimingScheduled:
		zone := pol.Reboot.Zone
		if zone == "" {
			zone = dr.t.Zone
		}
		w := Window{Name: "scheduled restart", Recurrence: Recurrence{Frequency: Daily, At: pol.Reboot.At}, Duration: patchcore.Duration(time.Minute)}
		loc, err := dr.r.zones.load(zone)
		if err != nil {
			return time.Time{}, err
		}
		o, err := w.nextOpeningIn(base, loc)
		if err != nil {
			return time.Time{}, err
		}
		return o.Start, nil
	case RebootTimingNextWindow:
		if len(zs) == 0 {
			return base, nil
		}
		after := base
		if o, ok := openAt(zs, base); ok {
			after = o.End
		}
		o, err := nextOpening(zs, after)
		if err != nil {
			return time.Time{}, err
		}
		return o.Start, nil
	default: // end of cycle: now if a window is open, else the next one
		if _, ok := openAt(zs, dr.now); ok {
			return dr.now, nil
		}
		o, err := nextOpening(zs, dr.now)
		if err != nil {
			return time.Time{}, err
		}
		return o.Start, nil
	}
}
