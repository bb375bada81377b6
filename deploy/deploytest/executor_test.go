package deploytest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
)

// TestStepRunsSurviveRestore: step runs are effects; a fake restored from
// the recorded effects does not run a step again for a known operation ID
// and returns its first result.
func TestStepRunsSurviveRestore(t *testing.T) {
	ctx := context.Background()
	f := deploytest.NewExecutor(nil)
	f.FailSteps = map[string]bool{"check": true}
	var recorded []deploytest.Effect
	f.OnEffect = func(e deploytest.Effect) error { recorded = append(recorded, e); return nil }
	pre := deploy.Operation{ID: "dep/d1/pre/snap/1", Deployment: "dep", Device: "d1", Attempt: 1}
	post := deploy.Operation{ID: "dep/d1/post/check", Deployment: "dep", Device: "d1"}
	if err := f.RunStep(ctx, pre, deploy.PhasePre, deploy.Step{Name: "snap"}); err != nil {
		t.Fatal(err)
	}
	if err := f.RunStep(ctx, post, deploy.PhasePost, deploy.Step{Name: "check"}); err == nil {
		t.Fatal("a step in FailSteps succeeded")
	}
	if len(recorded) != 2 || recorded[0].Kind != "pre" || recorded[1].Kind != "post" {
		t.Fatalf("OnEffect saw %+v, want a pre and a post step", recorded)
	}

	g := deploytest.NewExecutor(nil) // a new process; the step would now succeed
	g.Restore(recorded)
	g.OnEffect = func(e deploytest.Effect) error { t.Errorf("repeated step performed again: %+v", e); return nil }
	if err := g.RunStep(ctx, pre, deploy.PhasePre, deploy.Step{Name: "snap"}); err != nil {
		t.Errorf("repeated pre-step = %v, want its first result (success)", err)
	}
	if err := g.RunStep(ctx, post, deploy.PhasePost, deploy.Step{Name: "check"}); err == nil {
		t.Error("repeated post-step succeeded, want its first result (failure)")
	}
	if got := g.StepRuns("d1", deploy.PhasePost); !slices.Equal(got, []string{post.ID}) {
		t.Errorf("StepRuns(d1, post) = %v, want [%s]", got, post.ID)
	}
	if got := g.StepRuns("d1", deploy.PhasePre); !slices.Equal(got, []string{pre.ID}) {
		t.Errorf("StepRuns(d1, pre) = %v, want [%s]", got, pre.ID)
	}
	// A new attempt's ID runs the step again.
	again := pre
	again.ID, again.Attempt = "dep/d1/pre/snap/2", 2
	g.OnEffect = nil
	if err := g.RunStep(ctx, again, deploy.PhasePre, deploy.Step{Name: "snap"}); err != nil {
		t.Fatal(err)
	}
	if got := g.StepRuns("d1", deploy.PhasePre); len(got) != 2 || got[1] != again.ID {
		t.Errorf("StepRuns after a new attempt = %v", got)
	}
	if got := g.StepRuns("d2", deploy.PhasePre); len(got) != 0 {
		t.Errorf("StepRuns of another device = %v", got)
	}
}
