package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/patchcore"
)

// stepBehaviors: d1 waits for a restart and retries P2 twice; d2 installs
// at once.
var stepBehaviors = map[string]deploytest.Behavior{
	"d1/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}},
	"d1/P2": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeFailed, Reason: "locked"}, {Outcome: deploy.OutcomeFailed, Reason: "locked"}, {Outcome: deploy.OutcomeInstalled}}},
}

func stepSpec() deploy.Spec {
	return deploy.Spec{ID: "dep", Patches: []string{"P1", "P2"}, Targets: targets("d1", "d2"), Policy: deploy.Policy{
		PreSteps:  []deploy.Step{{Name: "drain"}, {Name: "snapshot"}},
		PostSteps: []deploy.Step{{Name: "healthcheck"}, {Name: "undrain"}},
	}}
}

// checkSteps asserts each device ran each step once, pre-steps before its
// first install and post-steps after its last install or restart, and
// that the store recorded all of them.
func checkSteps(t *testing.T, store deploy.Store, inst *deploytest.Executor, devices ...string) {
	t.Helper()
	ran := map[string]int{}
	first, last, firstPost, lastPre := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for i, e := range inst.Effects() {
		d := e.Op.Device
		switch e.Kind {
		case "pre", "post":
			ran[e.Op.ID]++
			if e.Kind == "pre" {
				lastPre[d] = i
			} else if _, ok := firstPost[d]; !ok {
				firstPost[d] = i
			}
		case "install", "reboot":
			if _, ok := first[d]; !ok {
				first[d] = i
			}
			last[d] = i
		}
	}
	for _, d := range devices {
		for _, id := range []string{"dep/" + d + "/pre/drain/1", "dep/" + d + "/pre/snapshot/1", "dep/" + d + "/post/healthcheck", "dep/" + d + "/post/undrain"} {
			if ran[id] != 1 {
				t.Errorf("step %s ran %d times, want once (all: %v)", id, ran[id], ran)
			}
		}
		if lastPre[d] > first[d] {
			t.Errorf("%s: a pre-step ran after the first install", d)
		}
		if fp, ok := firstPost[d]; !ok || fp < last[d] {
			t.Errorf("%s: post-steps ran at effect %d (ran: %v), before the last install or restart (effect %d)", d, fp, ok, last[d])
		}
		recs, err := store.Steps(context.Background(), "dep", d)
		if err != nil || len(recs) != 1 || recs[0].PreDone != 2 || !recs[0].PostDue || recs[0].PostDone != 2 || recs[0].PostPending(2) {
			t.Errorf("%s: step record %+v, %v, want all steps done", d, recs, err)
		}
	}
}

func TestStepsRunOncePerDevice(t *testing.T) {
	h := newHarness(t, stepBehaviors)
	h.create(stepSpec())
	if res := h.drive("dep", 100); !res.Done {
		t.Fatalf("not done: %+v", res.Summary)
	}
	want := map[string]patchcore.DeploymentState{"d1/P1": patchcore.DeployInstalled, "d1/P2": patchcore.DeployInstalled,
		"d2/P1": patchcore.DeployInstalled, "d2/P2": patchcore.DeployInstalled}
	for k, s := range h.states("dep") {
		if want[k] != s {
			t.Errorf("%s = %s, want %s", k, s, want[k])
		}
	}
	checkSteps(t, h.store, h.inst, "d1", "d2")
	if n := h.inst.Reboots("d1"); n != 1 {
		t.Errorf("d1 restarted %d times, want 1", n)
	}
}

var errCrash = errors.New("simulated crash")

// crashStore stores each batch and then "crashes" (fails) once on the
// first batch that crashAt selects, as a process killed after the write
// would: the batch is stored, its effect never acknowledged.
type crashStore struct {
	deploy.Store
	crashAt func(deploy.Batch) bool
	crashed bool
	before  bool // crash before storing instead of after
}

func (s *crashStore) Apply(ctx context.Context, id string, b deploy.Batch) error {
	if s.crashed || !s.crashAt(b) {
		return s.Store.Apply(ctx, id, b)
	}
	s.crashed = true
	if s.before {
		return errCrash
	}
	if err := s.Store.Apply(ctx, id, b); err != nil {
		return err
	}
	return errCrash
}

// TestStepsResumeAfterCrash stops the runner at the step-related points
// of a device's cycle and resumes with a new runner on the same store and
// device: every step still runs exactly once and post-steps are not lost.
func TestStepsResumeAfterCrash(t *testing.T) {
	lastInstall := func(b deploy.Batch) bool {
		for _, u := range b.Updates {
			if u.Item.Device == "d2" && u.Item.Patch == "P2" && u.Item.State == patchcore.DeployInstalled {
				return true
			}
		}
		return false
	}
	record := func(dev string, pred func(deploy.StepRecord) bool) func(deploy.Batch) bool {
		return func(b deploy.Batch) bool {
			for _, r := range b.Steps {
				if r.Device == dev && pred(r) {
					return true
				}
			}
			return false
		}
	}
	tests := []struct {
		name    string
		crashAt func(deploy.Batch) bool
		before  bool
	}{
		{"after the last install is stored, before the post-steps", lastInstall, false},
		{"before the post-steps are recorded due", record("d2", func(r deploy.StepRecord) bool { return r.PostDue && r.PreDone == 0 }), true},
		{"after a pre-step ran, before it is recorded", record("d2", func(r deploy.StepRecord) bool { return r.PreDone == 1 }), true},
		{"after the pre-steps are recorded", record("d2", func(r deploy.StepRecord) bool { return r.PreDone == 2 }), false},
		{"after a post-step ran, before it is recorded", record("d2", func(r deploy.StepRecord) bool { return r.PostDone == 1 }), true},
		{"after the first post-step is recorded", record("d2", func(r deploy.StepRecord) bool { return r.PostDone == 1 }), false},
		{"after the last post-step ran, before it is recorded", record("d1", func(r deploy.StepRecord) bool { return r.PostDone == 2 }), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, stepBehaviors)
			cs := &crashStore{Store: h.store, crashAt: tc.crashAt, before: tc.before}
			r := deploy.NewRunner(cs, h.inst, deploy.WithClock(h.clock), deploy.WithParallelism(1))
			if _, err := r.Create(context.Background(), stepSpec()); err != nil {
				t.Fatal(err)
			}
			for range 100 {
				res, err := r.Tick(context.Background(), "dep")
				if errors.Is(err, errCrash) {
					// Restart: a new runner over the stored state.
					r = deploy.NewRunner(cs, h.inst, deploy.WithClock(h.clock), deploy.WithParallelism(1))
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.Done {
					break
				}
				if res.Next.After(h.clock.Now()) {
					h.clock.Set(res.Next)
				}
			}
			if !cs.crashed {
				t.Fatal("the crash point was never reached")
			}
			for k, s := range h.states("dep") {
				if s != patchcore.DeployInstalled {
					t.Errorf("%s = %s, want installed", k, s)
				}
			}
			checkSteps(t, h.store, h.inst, "d1", "d2")
			if d := h.inst.DoubleInstalls(); len(d) > 0 {
				t.Errorf("double installs: %v", d)
			}
		})
	}
}

// TestPostStepFailureKeepsResults: a failed post-step is reported once
// and the items keep their results; the device is released.
func TestPostStepFailureKeepsResults(t *testing.T) {
	h := newHarness(t, stepBehaviors)
	h.inst.FailSteps = map[string]bool{"healthcheck": true}
	h.create(stepSpec())
	if res := h.drive("dep", 100); !res.Done || res.Summary.State != deploy.AggregateCompleted {
		t.Fatalf("not completed: %+v", res.Summary)
	}
	for k, s := range h.states("dep") {
		if s != patchcore.DeployInstalled {
			t.Errorf("%s = %s, want installed", k, s)
		}
	}
	var failed []string
	for _, a := range h.alerts() {
		if a.Kind == deploy.AlertStepFailed {
			failed = append(failed, a.ID)
		}
	}
	if fmt.Sprint(failed) != "[dep/d1/post/healthcheck dep/d2/post/healthcheck]" && fmt.Sprint(failed) != "[dep/d2/post/healthcheck dep/d1/post/healthcheck]" {
		t.Errorf("step failure alerts = %v, want one per device", failed)
	}
	checkSteps(t, h.store, h.inst, "d1", "d2")
	for _, d := range []string{"d1", "d2"} {
		if err := h.store.Acquire(context.Background(), d, "other"); err != nil {
			t.Errorf("%s not released: %v", d, err)
		}
	}
}

// TestStepNamesIdentifySteps: two steps of a phase with one name would
// share an operation ID and the second would never run. Validate rejects
// them, naming the field; a pre- and a post-step may share a name.
func TestStepNamesIdentifySteps(t *testing.T) {
	tests := []struct {
		name      string
		pre, post []deploy.Step
		field     string // "" when valid
	}{
		{"two pre-steps named svc", []deploy.Step{{Name: "svc", Action: "stop nginx"}, {Name: "svc", Action: "stop php"}}, nil, "pre_steps[1].name"},
		{"repeat after another step", nil, []deploy.Step{{Name: "a"}, {Name: "b"}, {Name: "a"}}, "post_steps[2].name"},
		{"empty post-step name", []deploy.Step{{Name: "a"}}, []deploy.Step{{Name: "b"}, {}}, "post_steps[1].name"},
		{"pre and post share a name", []deploy.Step{{Name: "svc", Action: "stop"}}, []deploy.Step{{Name: "svc", Action: "start"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := deploy.Policy{PreSteps: tc.pre, PostSteps: tc.post}.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, patchcore.ErrInvalidInput) || !strings.Contains(err.Error(), "field "+tc.field+":") {
				t.Fatalf("Validate = %v, want ErrInvalidInput naming %s", err, tc.field)
			}
		})
	}
}

// TestStoredDuplicateStepNamesRunEveryStep: a deployment stored before
// Validate rejected repeated names still runs each of its steps once,
// under distinct operation IDs; the first of a name keeps its old ID.
func TestStoredDuplicateStepNamesRunEveryStep(t *testing.T) {
	h := newHarness(t, nil)
	p, err := deploy.Plan(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1"), Policy: deploy.Policy{
		PreSteps: []deploy.Step{{Name: "svc"}}, PostSteps: []deploy.Step{{Name: "svc"}}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	p.Deployment.Policy.PreSteps = []deploy.Step{{Name: "svc", Action: "stop nginx"}, {Name: "svc", Action: "stop php"}}
	p.Deployment.Policy.PostSteps = []deploy.Step{{Name: "svc", Action: "start php"}, {Name: "svc", Action: "start nginx"}}
	if err := h.store.Create(context.Background(), p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	if res := h.drive("dep", 20); !res.Done || h.item("dep", "d1", "P1").State != patchcore.DeployInstalled {
		t.Fatalf("not done: %+v", res.Summary)
	}
	for _, tc := range []struct {
		phase deploy.Phase
		want  []string
	}{
		{deploy.PhasePre, []string{"dep/d1/pre/svc/1", "dep/d1/pre/svc#1/1"}},
		{deploy.PhasePost, []string{"dep/d1/post/svc", "dep/d1/post/svc#1"}},
	} {
		if got := h.inst.StepRuns("d1", tc.phase); !slices.Equal(got, tc.want) {
			t.Errorf("%s-steps run: %q, want %q", tc.phase, got, tc.want)
		}
	}
}
