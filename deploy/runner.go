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
// acting on it and calls the Installer. A Runner holds no state that a
// crash could lose except how long a device has been unreachable, so a new
// Runner on the same Store resumes where the old one stopped.
type Runner struct {
	store       Store
	inst        Installer
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
func NewRunner(store Store, inst Installer, opts ...RunnerOption) *Runner {
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
// is terminal, blocked, or waits for the user's restart (RebootNever).
func settledItems(items []Item, pol Policy) bool {
	for _, it := range items {
		if it.State.Terminal() || it.Blocked {
			continue
		}
		if it.State == patchcore.DeployInstalledPendingReboot && pol.Reboot.Option == RebootNever {
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
// within the rollout's stages and concurrency. Installer failures to
// answer are not errors of Tick; store failures are.
func (r *Runner) Tick(ctx context.Context, id string) (TickResult, error) {
	d, err := r.store.Deployment(ctx, id)
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	now := r.clock.Now()
	if len(d.Policy.PreSteps)+len(d.Policy.PostSteps) > 0 {
		if _, ok := r.inst.(StepRunner); !ok {
			return TickResult{}, fmt.Errorf("tick %q: the policy has pre/post steps but the installer does not implement StepRunner: %w", id, patchcore.ErrUnsupported)
		}
	}
	targets, err := r.store.Targets(ctx, id)
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	items, err := r.store.Items(ctx, id, "")
	if err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	if now.Before(d.Start) || d.Status == StatusCancelled {
		s := Summarize(d, items, now)
		res := TickResult{Summary: s, Done: d.Status == StatusCancelled}
		if !res.Done {
			res.Next = d.Start
		}
		return res, nil
	}
	var recs map[string]StepRecord
	if len(d.Policy.PreSteps)+len(d.Policy.PostSteps) > 0 {
		stored, err := r.store.Steps(ctx, id, "")
		if err != nil {
			return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
		}
		recs = make(map[string]StepRecord, len(stored))
		for _, rec := range stored {
			recs[rec.Device] = rec
		}
	}
	devs := groupDevices(targets, items, d.Policy, recs)

	// Rollout: the current stage is the first with an unsettled device;
	// a stage over its error budget halts the deployment.
	total := make([]int, d.Stages+1)
	settled := make([]int, d.Stages+1)
	failedN := make([]int, d.Stages+1)
	for _, ds := range devs {
		s := min(ds.t.Stage, d.Stages)
		total[s]++
		if ds.settled {
			settled[s]++
		}
		if ds.failed {
			failedN[s]++
		}
	}
	current := 0
	for current < d.Stages && settled[current] == total[current] {
		current++
	}
	if d.Status == StatusActive {
		for s := d.AcceptedStages; s <= min(current, d.Stages-1); s++ {
			if d.Policy.Rollout.ErrorThreshold.Exceeded(failedN[s], total[s]) {
				reason := fmt.Sprintf("stage %d: %d of %d devices failed, over the error threshold (count %d, percent %g); later stages do not start",
					s, failedN[s], total[s], d.Policy.Rollout.ErrorThreshold.Count, d.Policy.Rollout.ErrorThreshold.Percent)
				a := Alert{ID: id + "/halt/" + strconv.Itoa(s), Deployment: id, Kind: AlertRolloutHalted, Level: LevelCritical, Reason: reason, At: now}
				u := StatusUpdate{Status: StatusHalted, Reason: reason, HaltedStage: s, AcceptedStages: d.AcceptedStages, Alert: a}
				if err := r.store.SetStatus(ctx, id, u); err != nil {
					return TickResult{}, fmt.Errorf("tick %q: halting: %w", id, err)
				}
				d.Status, d.StatusReason = StatusHalted, reason
				break
			}
		}
	}

	// Work: devices in progress, then new devices of the current stage up
	// to the concurrency limit (none once halted).
	var work []int
	active := 0
	for i, ds := range devs {
		if ds.started && (ds.open || ds.post) {
			work = append(work, i)
			if !ds.settled {
				active++
			}
		}
	}
	if d.Status == StatusActive && current < d.Stages {
		for i, ds := range devs {
			if ds.t.Stage != current || ds.started || ds.settled {
				continue
			}
			if mc := d.Policy.Rollout.MaxConcurrency; mc > 0 && active >= mc {
				break
			}
			work = append(work, i)
			active++
		}
	}
	nexts := make([]time.Time, len(work))
	recsOut := make([]StepRecord, len(work))
	errs := make([]error, len(work))
	sem := make(chan struct{}, r.parallelism)
	var wg sync.WaitGroup
	for k, i := range work {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			dr := &deviceRun{r: r, d: d, t: devs[i].t, items: slices.Clone(devs[i].items), now: now, lim: d.Policy.limits(d.Start)}
			dr.rec = recs[dr.t.Device]
			dr.rec.Device = dr.t.Device
			errs[k] = dr.run(ctx)
			nexts[k] = dr.next
			recsOut[k] = dr.rec
			// devs[i].items aliases items: the tick's view follows what
			// the device run stored.
			copy(devs[i].items, dr.items)
		})
	}
	wg.Wait()
	if recs != nil {
		for _, rec := range recsOut {
			if rec.Version > 0 {
				recs[rec.Device] = rec
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
	}
	res := TickResult{Summary: Summarize(d, items, now)}
	for _, n := range nexts {
		if !n.IsZero() && (res.Next.IsZero() || n.Before(res.Next)) {
			res.Next = n
		}
	}
	devs = groupDevices(targets, items, d.Policy, recs)
	// Free settled devices. The device runs release their own; this also
	// covers a crash between a device's last transition and its release.
	for _, ds := range devs {
		if ds.started && ds.settled {
			if err := r.store.Release(ctx, ds.t.Device, id); err != nil {
				return TickResult{}, fmt.Errorf("tick %q: %w", id, err)
			}
		}
	}
	res.Done = true
	for _, ds := range devs {
		if d.Status == StatusActive && !ds.settled || d.Status == StatusHalted && ds.started && !ds.settled {
			res.Done = false
			break
		}
	}
	if res.Done && d.Status == StatusActive {
		// Items pending a user's restart (RebootNever) keep it going.
		switch res.Summary.State {
		case AggregateCompleted, AggregateCompletedWithErrors, AggregateBlocked:
		default:
			res.Done = false
		}
	}
	if !res.Done && res.Next.IsZero() {
		res.Next = now.Add(d.Policy.PollInterval)
	}
	return res, nil
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
	if dr.now.Sub(u.since) < dr.d.Policy.PurgeAfter {
		dr.wake(dr.now.Add(dr.d.Policy.PollInterval))
		return nil
	}
	reason := fmt.Sprintf("device did not answer for %s (purge interval %s): %s", dr.now.Sub(u.since), dr.d.Policy.PurgeAfter, u.err)
	if err := dr.fire(ctx, dr.open(), func(Item) Input { return Input{Event: EvAbort, Reason: reason} }); err != nil {
		return err
	}
	dr.answered()
	return dr.r.store.Release(ctx, dr.t.Device, dr.d.ID)
}

func (dr *deviceRun) run(ctx context.Context) error {
	for pass := 0; pass < 8 && !dr.stop; pass++ {
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
			if dr.d.Policy.Reboot.Option == RebootAlways {
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
		dr.wake(dr.now.Add(dr.d.Policy.PollInterval))
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
	until := dr.now.Add(dr.d.Policy.Deferral.RetryAfter)
	dr.wake(until)
	return true, dr.fire(ctx, idx, func(Item) Input {
		return Input{Event: EvDefer, NotBefore: until, Reason: "deferred by the user (" + string(kind) + ")"}
	})
}

// reboot restarts the device when its installs are done and the reboot
// policy says so, and verifies pending patches after the restart.
func (dr *deviceRun) reboot(ctx context.Context) error {
	pend := dr.where(patchcore.DeployInstalledPendingReboot)
	if len(pend) == 0 {
		return nil
	}
	pol := dr.d.Policy.Reboot
	// Verification: items restarted for (or left to the user) whose grace has passed.
	var verify, again []int
	for _, i := range pend {
		it := dr.items[i]
		switch {
		case pol.Option == RebootNever || it.Reboots > 0:
			due := it.NotBefore
			if pol.Option == RebootNever {
				due = it.Updated.Add(pol.Grace)
			}
			if dr.now.Before(due) {
				dr.wake(due)
				continue
			}
			verify = append(verify, i)
		default:
			again = append(again, i)
		}
	}
	if len(verify) > 0 {
		patches := make([]string, len(verify))
		for k, i := range verify {
			patches[k] = dr.items[i].Patch
		}
		states, err := dr.r.inst.Rescan(ctx, dr.d.ID, dr.t.Device, patches)
		if err != nil {
			return dr.noAnswer(ctx, "verification rescan", err)
		}
		dr.answered()
		var settle []int
		for _, i := range verify {
			switch states[dr.items[i].Patch] {
			case patchcore.FindingInstalledPendingReboot:
				if pol.Option == RebootNever {
					dr.wake(dr.now.Add(pol.Grace))
				} else {
					again = append(again, i)
				}
			default:
				settle = append(settle, i)
			}
		}
		if err := dr.fire(ctx, settle, func(it Item) Input {
			switch s := states[it.Patch]; s {
			case patchcore.FindingInstalled, patchcore.FindingSuperseded:
				return Input{Event: EvVerified, Reason: "verification scan after restart: " + string(s)}
			case "":
				return Input{Event: EvVerifyFailed, Reason: "installed, but the verification scan does not report the patch"}
			default:
				return Input{Event: EvVerifyFailed, Reason: "installed, but the verification scan reports it " + string(s)}
			}
		}); err != nil {
			return err
		}
	}
	if len(again) == 0 || pol.Option == RebootNever {
		return nil
	}
	// Reboot-loop guard.
	var looping, restart []int
	rebooted := false
	for _, i := range again {
		if dr.items[i].Reboots >= dr.lim.MaxReboots {
			looping = append(looping, i)
			continue
		}
		rebooted = rebooted || dr.items[i].Reboots > 0
		restart = append(restart, i)
	}
	if err := dr.fire(ctx, looping, func(it Item) Input {
		return Input{Event: EvVerifyFailed, Reason: fmt.Sprintf("reboot-loop guard: %d restarts for this deployment and the patch still waits for one", it.Reboots)}
	}); err != nil || len(restart) == 0 {
		return err
	}
	// The cycle ends when no item of the device is still on its way.
	for _, it := range dr.items {
		if !it.State.Terminal() && !it.Blocked && it.State != patchcore.DeployInstalledPendingReboot {
			return nil
		}
	}
	due, err := dr.rebootDue(restart, rebooted)
	var never *NeverOpensError
	if errors.As(err, &never) {
		reason := "restart blocked: " + err.Error()
		var block []int
		for _, i := range restart {
			if it := dr.items[i]; !it.Blocked || it.Reason != reason {
				block = append(block, i)
			}
		}
		return dr.fire(ctx, block, func(Item) Input { return Input{Event: EvBlock, Reason: reason} })
	}
	if err != nil {
		return err
	}
	for _, i := range restart {
		if dr.items[i].NotBefore.After(due) {
			due = dr.items[i].NotBefore
		}
	}
	if dr.now.Before(due) {
		dr.wake(due)
		return nil
	}
	if deferred, err := dr.ask(ctx, NoticeBeforeReboot, restart); err != nil || deferred {
		return err
	}
	verifyAt := dr.now.Add(pol.Grace)
	if err := dr.fire(ctx, restart, func(it Item) Input {
		return Input{Event: EvReboot, NotBefore: verifyAt, Reason: fmt.Sprintf("restart %d of at most %d", it.Reboots+1, dr.lim.MaxReboots)}
	}); err != nil {
		return err
	}
	n := dr.items[restart[0]].Reboots
	op := Operation{ID: dr.d.ID + "/" + dr.t.Device + "/reboot/" + strconv.Itoa(n), Deployment: dr.d.ID, Device: dr.t.Device, Attempt: n}
	if err := dr.r.inst.Reboot(ctx, op); err != nil {
		return dr.noAnswer(ctx, "reboot", err)
	}
	dr.answered()
	dr.wake(verifyAt)
	dr.stop = true // the device is restarting
	return nil
}

// rebootDue is when the restart of items idx may happen. When no window
// will ever allow it, the error is the windows' *NeverOpensError (joined
// when there are several).
func (dr *deviceRun) rebootDue(idx []int, again bool) (time.Time, error) {
	pol := dr.d.Policy
	if again {
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
	case RebootScheduled:
		zone := pol.Reboot.Zone
		if zone == "" {
			zone = dr.t.Zone
		}
		w := Window{Name: "scheduled restart", Recurrence: Recurrence{Frequency: Daily, At: pol.Reboot.At}, Duration: time.Minute}
		loc, err := dr.r.zones.load(zone)
		if err != nil {
			return time.Time{}, err
		}
		o, err := w.NextOpening(base, loc)
		if err != nil {
			return time.Time{}, err
		}
		return o.Start, nil
	case RebootNextWindow:
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
