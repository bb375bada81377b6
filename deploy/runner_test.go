package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests need IANA zones on any machine

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/patchcore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

// harness runs one deployment against the fake installer with a fake clock.
type harness struct {
	t     *testing.T
	clock *deploytest.Clock
	store *deploy.MemStore
	inst  *deploytest.Executor
	r     *deploy.Runner
}

func newHarness(t *testing.T, b map[string]deploytest.Behavior) *harness {
	t.Helper()
	h := &harness{t: t, clock: deploytest.NewClock(t0), store: deploy.NewMemStore(), inst: deploytest.NewExecutor(b)}
	h.r = deploy.NewRunner(h.store, h.inst, deploy.WithClock(h.clock), deploy.WithParallelism(1))
	return h
}

func (h *harness) create(spec deploy.Spec) *deploy.PlannedDeployment {
	h.t.Helper()
	p, err := h.r.Create(context.Background(), spec)
	if err != nil {
		h.t.Fatalf("Create(%s): %v", spec.ID, err)
	}
	return p
}

// drive ticks id, jumping the clock to each Next, until done or maxTicks.
func (h *harness) drive(id string, maxTicks int) deploy.TickResult {
	h.t.Helper()
	var res deploy.TickResult
	for range maxTicks {
		var err error
		res, err = h.r.Tick(context.Background(), id)
		if err != nil {
			h.t.Fatalf("Tick(%s) at %s: %v", id, h.clock.Now(), err)
		}
		if res.Done {
			return res
		}
		if res.Next.After(h.clock.Now()) {
			h.clock.Set(res.Next)
		}
	}
	return res
}

func (h *harness) states(id string) map[string]patchcore.DeploymentState {
	h.t.Helper()
	items, err := h.store.Items(context.Background(), id, "")
	if err != nil {
		h.t.Fatal(err)
	}
	m := map[string]patchcore.DeploymentState{}
	for _, it := range items {
		m[it.Device+"/"+it.Patch] = it.State
	}
	return m
}

func (h *harness) item(id, dev, patch string) deploy.Item {
	h.t.Helper()
	items, err := h.store.Items(context.Background(), id, dev)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, it := range items {
		if it.Patch == patch {
			return it
		}
	}
	h.t.Fatalf("no item %s/%s", dev, patch)
	return deploy.Item{}
}

func (h *harness) alerts() []deploy.Alert {
	h.t.Helper()
	a, err := h.store.Outbox(context.Background(), 1<<20)
	if err != nil {
		h.t.Fatal(err)
	}
	return a
}

func targets(devs ...string) []deploy.Target {
	ts := make([]deploy.Target, len(devs))
	for i, d := range devs {
		ts[i] = deploy.Target{Device: d}
	}
	return ts
}

func TestRunnerScenarios(t *testing.T) {
	fail := deploy.OpResult{Outcome: deploy.OutcomeFailed, Reason: "dpkg exited 100"}
	tests := []struct {
		name   string
		b      map[string]deploytest.Behavior
		policy deploy.Policy
		want   map[string]patchcore.DeploymentState
		check  func(t *testing.T, h *harness)
	}{
		{
			name: "happy path",
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
		},
		{
			name: "already installed and not applicable end at the scan",
			b: map[string]deploytest.Behavior{
				"d1/P1": {Scan: patchcore.FindingInstalled},
				"d1/P2": {Scan: patchcore.FindingSuperseded},
			},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalledByUser, "d1/P2": patchcore.DeployNotApplicable},
		},
		{
			name: "retries then succeeds with backoff",
			b:    map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{fail, fail, {Outcome: deploy.OutcomeInstalled}}}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				it := h.item("dep", "d1", "P1")
				if it.Attempt != 3 {
					t.Errorf("attempts = %d, want 3", it.Attempt)
				}
				// Backoff 5m then 10m.
				if got, want := h.clock.Now().Sub(t0), 15*time.Minute; got != want {
					t.Errorf("elapsed = %s, want %s", got, want)
				}
			},
		},
		{
			name: "default 3 retries then failed final, critical alert with reason",
			b:    map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{fail}}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployFailedFinal, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if it := h.item("dep", "d1", "P1"); it.Attempt != 4 {
					t.Errorf("attempts = %d, want 4 (1 + 3 retries)", it.Attempt)
				}
				n := 0
				for _, a := range h.alerts() {
					if a.Kind == deploy.AlertInstallFailed {
						n++
						if a.Level != deploy.LevelCritical || !strings.Contains(a.Reason, "dpkg exited 100") {
							t.Errorf("install failed alert = %+v, want critical with the reason", a)
						}
					}
				}
				if n != 4 {
					t.Errorf("%d install failed alerts, want 4", n)
				}
			},
		},
		{
			name: "permanent failure is not retried",
			b:    map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Reason: "disk full", Permanent: true}}}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployFailedFinal, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if it := h.item("dep", "d1", "P1"); it.Attempt != 1 {
					t.Errorf("attempts = %d, want 1", it.Attempt)
				}
			},
		},
		{
			name: "reboot then verification settles installed",
			b:    map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if n := h.inst.Reboots("d1"); n != 1 {
					t.Errorf("reboots = %d, want 1", n)
				}
			},
		},
		{
			name: "verification still missing settles unknown",
			b: map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}},
				AfterReboot: patchcore.FindingMissing}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployUnknown, "d1/P2": patchcore.DeployInstalled},
		},
		{
			name: "reboot-loop guard stops after 3 restarts",
			b: map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}},
				RebootsNeeded: 99}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployUnknown, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if n := h.inst.Reboots("d1"); n != 3 {
					t.Errorf("reboots = %d, want 3", n)
				}
				if it := h.item("dep", "d1", "P1"); !strings.Contains(it.Reason, "reboot-loop guard") {
					t.Errorf("reason = %q", it.Reason)
				}
			},
		},
		{
			name:   "reboot always restarts even without a required reboot",
			policy: deploy.Policy{Reboot: deploy.RebootPolicy{Option: deploy.RebootOptionAlways}},
			want:   map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if n := h.inst.Reboots("d1"); n != 1 {
					t.Errorf("reboots = %d, want 1", n)
				}
			},
		},
		{
			name:   "pre-step failure fails the attempt, retries exhausted",
			policy: deploy.Policy{PreSteps: []deploy.Step{{Name: "snapshot"}}, Retry: deploy.RetryPolicy{Retries: 1}},
			want:   map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployFailedFinal, "d1/P2": patchcore.DeployFailedFinal},
		},
		{
			name: "failed post-step and tolerated pre-step only alert",
			policy: deploy.Policy{PreSteps: []deploy.Step{{Name: "drain", ContinueOnError: true}, {Name: "snapshot"}},
				PostSteps: []deploy.Step{{Name: "healthcheck"}}},
			want: map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				var steps []string
				for _, a := range h.alerts() {
					if a.Kind == deploy.AlertStepFailed {
						steps = append(steps, a.Reason)
					}
				}
				if len(steps) != 2 || !strings.Contains(steps[0], `"drain"`) || !strings.Contains(steps[1], `post-step "healthcheck"`) {
					t.Errorf("step alerts = %q", steps)
				}
				ran := map[string]int{}
				for _, e := range h.inst.Effects() {
					ran[e.Kind]++
				}
				if ran["pre"] != 2 || ran["post"] != 1 {
					t.Errorf("steps run: %v, want each once", ran)
				}
			},
		},
		{
			name:   "user defers twice within the count",
			policy: deploy.Policy{Deferral: deploy.Deferral{MaxCount: 2, RetryAfter: patchcore.Duration(time.Hour)}},
			want:   map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled},
			check: func(t *testing.T, h *harness) {
				if it := h.item("dep", "d1", "P1"); it.Deferrals != 2 {
					t.Errorf("deferrals = %d, want 2", it.Deferrals)
				}
				if got := h.clock.Now().Sub(t0); got != 2*time.Hour {
					t.Errorf("elapsed = %s, want 2h", got)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.b)
			if strings.HasPrefix(tc.name, "pre-step") {
				h.inst.FailSteps = map[string]bool{"snapshot": true}
			}
			if strings.HasPrefix(tc.name, "failed post-step") {
				h.inst.FailSteps = map[string]bool{"drain": true, "healthcheck": true}
			}
			if strings.HasPrefix(tc.name, "user defers") {
				h.inst.Defer = map[string]int{"d1": 5}
			}
			h.create(deploy.Spec{ID: "dep", Patches: []string{"P1", "P2"}, Targets: targets("d1"), Policy: tc.policy})
			res := h.drive("dep", 100)
			if !res.Done {
				t.Fatalf("not done after 100 ticks: %+v", res.Summary)
			}
			got := h.states("dep")
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s = %s, want %s", k, got[k], want)
				}
			}
			if d := h.inst.DoubleInstalls(); len(d) > 0 {
				t.Errorf("double installs: %v", d)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}

func TestScanAndDownloadAlerts(t *testing.T) {
	h := newHarness(t, nil)
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1")})
	h.drive("dep", 10)
	var kinds []string
	for _, a := range h.alerts() {
		kinds = append(kinds, string(a.Kind))
	}
	want := "scan_initiated missing_patches_found download_initiated downloaded install_started install_complete"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("alerts = %s\nwant %s", got, want)
	}
}

func TestOneDeploymentPerDevice(t *testing.T) {
	h := newHarness(t, map[string]deploytest.Behavior{"d1/A": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}})
	// Restarts only in a window that opens tomorrow: deployment a holds d1 meanwhile.
	w := deploy.Window{Name: "nightly", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 9}}, Duration: patchcore.Duration(time.Hour)}
	h.create(deploy.Spec{ID: "a", Patches: []string{"A"}, Targets: targets("d1"), Policy: deploy.Policy{Windows: deploy.Windows{w}, Reboot: deploy.RebootPolicy{Timing: deploy.RebootTimingNextWindow}}})
	h.create(deploy.Spec{ID: "b", Patches: []string{"B"}, Targets: targets("d1")})
	ctx := context.Background()
	if _, err := h.r.Tick(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if s := h.item("a", "d1", "A").State; s != patchcore.DeployInstalledPendingReboot {
		t.Fatalf("a: %s, want pending reboot", s)
	}
	if _, err := h.r.Tick(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if s := h.item("b", "d1", "B").State; s != patchcore.DeployWaiting {
		t.Fatalf("b: %s, want waiting", s)
	}
	err := h.store.Acquire(ctx, "d1", "b")
	if !errors.Is(err, patchcore.ErrBusy) {
		t.Fatalf("Acquire by b = %v, want ErrBusy", err)
	}
	// Next day's window: a restarts and verifies, releases d1; b installs.
	h.drive("a", 20)
	if s := h.item("a", "d1", "A").State; s != patchcore.DeployInstalled {
		t.Fatalf("a: %s, want installed", s)
	}
	h.drive("b", 20)
	if s := h.item("b", "d1", "B").State; s != patchcore.DeployInstalled {
		t.Fatalf("b: %s, want installed", s)
	}
}

func TestWindowNeverOpensBlocksWithReason(t *testing.T) {
	h := newHarness(t, nil)
	w := deploy.Window{Name: "expired", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 22}},
		Duration: patchcore.Duration(time.Hour), NotAfter: t0.Add(-24 * time.Hour)}
	p := h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{Windows: deploy.Windows{w}}})
	if len(p.Blocked) != 1 || !strings.Contains(p.Blocked[0].Reason, "valid only until") {
		t.Fatalf("plan blocked = %+v", p.Blocked)
	}
	res := h.drive("dep", 3)
	it := h.item("dep", "d1", "P1")
	if it.State != patchcore.DeployDownloaded || !strings.Contains(it.Reason, `maintenance window "expired" never opens`) {
		t.Fatalf("item = %s %q, want downloaded and blocked with the reason", it.State, it.Reason)
	}
	if !it.Blocked || res.Summary.Blocked != 1 || res.Summary.State != deploy.AggregateBlocked || !res.Done {
		t.Errorf("item blocked %v, summary %+v, done %v; want blocked, 1 blocked, state blocked, done", it.Blocked, res.Summary, res.Done)
	}
	n := 0
	for _, a := range h.alerts() {
		if a.Kind == deploy.AlertInstallBlocked {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d install blocked alerts, want exactly 1", n)
	}
}

func TestInstallWaitsForWindow(t *testing.T) {
	h := newHarness(t, nil)
	berlin := deploy.Window{Name: "sat", Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Saturday},
		At: deploy.TimeOfDay{Hour: 2, Minute: 30}, Zone: "Europe/Berlin"}, Duration: patchcore.Duration(2 * time.Hour)}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{Windows: deploy.Windows{berlin}}})
	res, err := h.r.Tick(context.Background(), "dep")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-07 02:30 CET = 01:30 UTC.
	if want := time.Date(2026, 3, 7, 1, 30, 0, 0, time.UTC); !res.Next.Equal(want) {
		t.Fatalf("next = %s, want %s", res.Next, want)
	}
	if s := h.item("dep", "d1", "P1").State; s != patchcore.DeployDownloaded {
		t.Fatalf("state before the window = %s", s)
	}
	h.drive("dep", 5)
	if s := h.item("dep", "d1", "P1").State; s != patchcore.DeployInstalled {
		t.Fatalf("state = %s", s)
	}
	for _, e := range h.inst.Effects() {
		if e.Kind == "install" && h.clock.Now().Before(time.Date(2026, 3, 7, 1, 30, 0, 0, time.UTC)) {
			t.Errorf("installed before the window")
		}
	}
}

func TestPurgeAbortsUnreachableDevice(t *testing.T) {
	h := newHarness(t, nil)
	h.inst.Unreachable = map[string]bool{"d2": true}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1", "d2")})
	res := h.drive("dep", 10000)
	if !res.Done {
		t.Fatalf("not done: %+v", res.Summary)
	}
	it := h.item("dep", "d2", "P1")
	if it.State != patchcore.DeployAborted || !strings.Contains(it.Reason, "did not answer") {
		t.Fatalf("d2 = %s %q", it.State, it.Reason)
	}
	if got := h.clock.Now().Sub(t0); got < 72*time.Hour || got > 73*time.Hour {
		t.Errorf("aborted after %s, want the 72h purge interval", got)
	}
	if res.Summary.State != deploy.AggregateCompletedWithErrors {
		t.Errorf("aggregate = %s", res.Summary.State)
	}
}

func TestRolloutHaltsAboveErrorThreshold(t *testing.T) {
	b := map[string]deploytest.Behavior{}
	var ts []deploy.Target
	for i := range 10 {
		ring := "pilot"
		if i >= 4 {
			ring = "broad"
		}
		dev := fmt.Sprintf("d%d", i)
		ts = append(ts, deploy.Target{Device: dev, Ring: ring})
		if i < 2 {
			b[dev+"/P1"] = deploytest.Behavior{Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Reason: "broken", Permanent: true}}}
		}
	}
	h := newHarness(t, b)
	pol := deploy.Policy{Rollout: deploy.Rollout{Rings: []string{"pilot", "broad"}, ErrorThreshold: deploy.Threshold{Percent: 25}}}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: ts, Policy: pol})
	res := h.drive("dep", 50)
	if !res.Done || res.Summary.State != deploy.AggregateHalted {
		t.Fatalf("result = done %v %+v, want done and halted", res.Done, res.Summary)
	}
	st := h.states("dep")
	for i := 4; i < 10; i++ {
		if s := st[fmt.Sprintf("d%d/P1", i)]; s != patchcore.DeployPosted {
			t.Errorf("ring 2 device d%d = %s, want posted (never started)", i, s)
		}
	}
	for _, e := range h.inst.Effects() {
		if e.Op.Device >= "d4" {
			t.Errorf("ring 2 effect: %+v", e)
		}
	}
	halted := false
	for _, a := range h.alerts() {
		halted = halted || a.Kind == deploy.AlertRolloutHalted && a.Level == deploy.LevelCritical
	}
	if !halted {
		t.Error("no rollout halted alert")
	}
	// Resuming lets ring 2 run.
	if err := h.r.Resume(context.Background(), "dep", "operator accepted"); err != nil {
		t.Fatal(err)
	}
	res = h.drive("dep", 50)
	if res.Summary.State != deploy.AggregateCompletedWithErrors || h.states("dep")["d9/P1"] != patchcore.DeployInstalled {
		t.Fatalf("after resume: %+v", res.Summary)
	}
}

func TestRolloutBelowThresholdContinues(t *testing.T) {
	b := map[string]deploytest.Behavior{"d0/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Permanent: true}}}}
	ts := []deploy.Target{{Device: "d0", Ring: "pilot"}, {Device: "d1", Ring: "pilot"}, {Device: "d2", Ring: "pilot"}, {Device: "d3", Ring: "broad"}}
	h := newHarness(t, b)
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: ts,
		Policy: deploy.Policy{Rollout: deploy.Rollout{Rings: []string{"pilot", "broad"}, ErrorThreshold: deploy.Threshold{Count: 1}}}})
	res := h.drive("dep", 50)
	if res.Summary.State != deploy.AggregateCompletedWithErrors || h.states("dep")["d3/P1"] != patchcore.DeployInstalled {
		t.Fatalf("summary %+v, states %v", res.Summary, h.states("dep"))
	}
}

func TestMaxConcurrency(t *testing.T) {
	h := newHarness(t, nil)
	var ts []deploy.Target
	for i := range 6 {
		ts = append(ts, deploy.Target{Device: fmt.Sprintf("d%d", i)})
	}
	// Restarts wait for the next window, so started devices stay in progress.
	w := deploy.Window{Name: "w", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 9}}, Duration: patchcore.Duration(time.Hour)}
	for _, tg := range ts {
		h.inst.Behaviors[tg.Device+"/P1"] = deploytest.Behavior{Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}
	}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: ts, Policy: deploy.Policy{Windows: deploy.Windows{w},
		Reboot: deploy.RebootPolicy{Timing: deploy.RebootTimingNextWindow}, Rollout: deploy.Rollout{MaxConcurrency: 2}}})
	if _, err := h.r.Tick(context.Background(), "dep"); err != nil {
		t.Fatal(err)
	}
	started := 0
	for _, s := range h.states("dep") {
		if s != patchcore.DeployPosted {
			started++
		}
	}
	if started != 2 {
		t.Fatalf("%d devices started, want 2", started)
	}
	res := h.drive("dep", 100)
	if res.Summary.State != deploy.AggregateCompleted {
		t.Fatalf("summary %+v", res.Summary)
	}
}

func TestWavesStages(t *testing.T) {
	var ts []deploy.Target
	for i := range 10 {
		ts = append(ts, deploy.Target{Device: fmt.Sprintf("d%d", i)})
	}
	p, err := deploy.Plan(deploy.Spec{ID: "w", Patches: []string{"P"}, Targets: ts,
		Policy: deploy.Policy{Rollout: deploy.Rollout{Waves: []float64{10, 30, 60}}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, dt := range p.Targets {
		got = append(got, dt.Stage)
	}
	if fmt.Sprint(got) != "[0 1 1 1 2 2 2 2 2 2]" || p.Deployment.Stages != 3 {
		t.Fatalf("stages = %v (%d)", got, p.Deployment.Stages)
	}
}

func TestCancelAbortsOpenItems(t *testing.T) {
	h := newHarness(t, nil)
	w := deploy.Window{Name: "w", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 23}}, Duration: patchcore.Duration(time.Hour)}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{Windows: deploy.Windows{w}}})
	if _, err := h.r.Tick(context.Background(), "dep"); err != nil {
		t.Fatal(err)
	}
	if err := h.r.Cancel(context.Background(), "dep", "change freeze"); err != nil {
		t.Fatal(err)
	}
	res := h.drive("dep", 3)
	if !res.Done || res.Summary.State != deploy.AggregateCancelled || h.item("dep", "d1", "P1").State != patchcore.DeployAborted {
		t.Fatalf("%+v", res.Summary)
	}
}

func TestScheduledStart(t *testing.T) {
	h := newHarness(t, nil)
	at := t0.Add(36 * time.Hour)
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{Schedule: deploy.Schedule{Kind: deploy.AtTime, At: at}}})
	res, err := h.r.Tick(context.Background(), "dep")
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.State != deploy.AggregateScheduled || !res.Next.Equal(at) || len(h.inst.Effects()) != 0 {
		t.Fatalf("before start: %+v next %s", res.Summary, res.Next)
	}
	h.drive("dep", 5)
	if s := h.item("dep", "d1", "P1").State; s != patchcore.DeployInstalled {
		t.Fatalf("%s", s)
	}
}

func TestRebootNeverWaitsForUser(t *testing.T) {
	h := newHarness(t, map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}})
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{Reboot: deploy.RebootPolicy{Option: deploy.RebootOptionNever}}})
	res := h.drive("dep", 5)
	if res.Done || res.Summary.State != deploy.AggregatePendingReboot || h.inst.Reboots("d1") != 0 {
		t.Fatalf("%+v reboots %d", res.Summary, h.inst.Reboots("d1"))
	}
	// The user restarts: the next verification settles it.
	if err := h.inst.Reboot(context.Background(), deploy.Operation{ID: "user", Device: "d1"}); err != nil {
		t.Fatal(err)
	}
	res = h.drive("dep", 5)
	if !res.Done || h.item("dep", "d1", "P1").State != patchcore.DeployInstalled {
		t.Fatalf("%+v", res.Summary)
	}
}

func TestStepsNeedStepRunner(t *testing.T) {
	store := deploy.NewMemStore()
	r := deploy.NewRunner(store, plainExecutor{}, deploy.WithClock(deploytest.NewClock(t0)))
	if _, err := r.Create(context.Background(), deploy.Spec{ID: "x", Patches: []string{"P"}, Targets: targets("d"),
		Policy: deploy.Policy{PreSteps: []deploy.Step{{Name: "s"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Tick(context.Background(), "x"); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Fatalf("Tick = %v, want ErrUnsupported", err)
	}
}

type plainExecutor struct{}

func (plainExecutor) Download(context.Context, deploy.Operation) (deploy.OpResult, error) {
	return deploy.OpResult{Outcome: deploy.OutcomeStaged}, nil
}
func (plainExecutor) Install(context.Context, deploy.Operation) (deploy.OpResult, error) {
	return deploy.OpResult{Outcome: deploy.OutcomeInstalled}, nil
}
func (plainExecutor) Rescan(context.Context, string, string, []string) (map[string]patchcore.FindingState, error) {
	return nil, nil
}
func (plainExecutor) Reboot(context.Context, deploy.Operation) error { return nil }

type (
	deploytestEffect   = deploytest.Effect
	deploytestBehavior = deploytest.Behavior
)

func deploytestClock(t time.Time) *deploytest.Clock { return deploytest.NewClock(t) }
func deploytestExecutor() *deploytest.Executor      { return deploytest.NewExecutor(nil) }

// TestDeferralDeadlineForcesInstall: the user keeps deferring, but the
// deadline (2h after the start) ends deferrals; the notices say how many
// are left, and the restart is announced too.
func TestDeferralDeadlineForcesInstall(t *testing.T) {
	h := newHarness(t, map[string]deploytest.Behavior{"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}})
	h.inst.Defer = map[string]int{"d1": 100}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"),
		Policy: deploy.Policy{Deferral: deploy.Deferral{MaxCount: 10, Within: patchcore.Duration(150 * time.Minute), RetryAfter: patchcore.Duration(time.Hour)}}})
	// A deferred install is not a blocked one.
	if res := h.drive("dep", 1); res.Summary.Blocked != 0 || res.Summary.State != deploy.AggregateRunning {
		t.Errorf("after the first deferral: %+v, want running, none blocked", res.Summary)
	}
	res := h.drive("dep", 50)
	if !res.Done || h.item("dep", "d1", "P1").State != patchcore.DeployInstalled {
		t.Fatalf("%+v", res.Summary)
	}
	var kinds []string
	var left []int
	for _, n := range h.inst.Notices() {
		kinds = append(kinds, string(n.Kind))
		left = append(left, n.DeferralsLeft)
	}
	// Install deferred at 0h, 1h, 2h; forced at 3h (past the 2.5h deadline);
	// the restart notice comes with no deferral left.
	if got := strings.Join(kinds, ","); got != "before_install,before_install,before_install,before_install,before_reboot" {
		t.Errorf("notices = %s", got)
	}
	if fmt.Sprint(left) != "[10 9 8 0 0]" {
		t.Errorf("deferrals left = %v", left)
	}
	if it := h.item("dep", "d1", "P1"); it.Deferrals != 3 || it.Blocked {
		t.Errorf("deferrals = %d, want 3", it.Deferrals)
	}
}

// TestRebootBlockedWhenNoWindowOpensAgain: P1 installs in the last
// opening of a window (its NotAfter passes) and waits for a restart that
// no window will ever allow. The item is blocked with the window's reason,
// counted, alerted once, and the deployment is done instead of waiting
// forever; Run returns.
func TestRebootBlockedWhenNoWindowOpensAgain(t *testing.T) {
	last := deploy.Window{Name: "last", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 9}},
		Duration: patchcore.Duration(time.Hour), NotAfter: t0.Add(30 * time.Minute)}
	pendingP1 := deploytest.Behavior{Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}
	tests := []struct {
		name   string
		timing deploy.RebootTiming
		b      map[string]deploytest.Behavior
		// blocked are the items that end blocked, with their states.
		blocked map[string]patchcore.DeploymentState
	}{
		{"next window", deploy.RebootTimingNextWindow, map[string]deploytest.Behavior{"d1/P1": pendingP1},
			map[string]patchcore.DeploymentState{"P1": patchcore.DeployInstalledPendingReboot}},
		// P2's retry comes after the window has closed: its install is
		// blocked, and then the restart the cycle ends with.
		{"end of cycle after the window closed", deploy.RebootTimingEndOfCycle, map[string]deploytest.Behavior{"d1/P1": pendingP1,
			"d1/P2": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Reason: "locked"}, {Outcome: deploy.OutcomeInstalled}}}},
			map[string]patchcore.DeploymentState{"P1": patchcore.DeployInstalledPendingReboot, "P2": patchcore.DeployDownloaded}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.b)
			var patches []string
			for k := range tc.b {
				patches = append(patches, strings.TrimPrefix(k, "d1/"))
			}
			slices.Sort(patches)
			h.create(deploy.Spec{ID: "dep", Patches: patches, Targets: targets("d1"),
				Policy: deploy.Policy{Windows: deploy.Windows{last}, Reboot: deploy.RebootPolicy{Timing: tc.timing},
					Retry: deploy.RetryPolicy{Backoff: patchcore.Duration(2 * time.Hour)}}})
			res := h.drive("dep", 10)
			for p, want := range tc.blocked {
				it := h.item("dep", "d1", p)
				what := "installs"
				if want == patchcore.DeployInstalledPendingReboot {
					what = "restart"
				}
				if it.State != want || !it.Blocked || !strings.Contains(it.Reason, what+` blocked: maintenance window "last" never opens`) {
					t.Errorf("%s = %s blocked %v %q, want %s, blocked with the window's reason", p, it.State, it.Blocked, it.Reason, want)
				}
			}
			if !res.Done || res.Summary.Blocked != len(tc.blocked) || res.Summary.State != deploy.AggregateBlocked {
				t.Errorf("tick: done %v, summary %+v; want done, %d blocked, state blocked", res.Done, res.Summary, len(tc.blocked))
			}
			if n := h.inst.Reboots("d1"); n != 0 {
				t.Errorf("%d restarts, want none", n)
			}
			n := 0
			for _, a := range h.alerts() {
				if a.Kind == deploy.AlertRebootBlocked {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d reboot blocked alerts, want exactly 1", n)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := h.r.Run(ctx, "dep")
			if err != nil || s.State != deploy.AggregateBlocked {
				t.Errorf("Run = %s, %v; want it to return the blocked summary", s.State, err)
			}
		})
	}
}
