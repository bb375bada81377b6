package deploy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/patchcore"
)

func randomResults(rng *rand.Rand, choices []deploy.OpResult) []deploy.OpResult {
	out := make([]deploy.OpResult, 1+rng.IntN(4))
	for i := range out {
		out[i] = choices[rng.IntN(len(choices))]
	}
	return out
}

// TestRunnerReachesTerminalStates runs seeded random deployments (random
// installer outcomes, unreachable devices, deferring users, windows,
// reboot policies, rings with error thresholds) to the end and checks
// that every item reaches a terminal state, nothing is installed twice,
// and each item's alerts match its transitions.
func TestRunnerReachesTerminalStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2026))
	scans := []patchcore.FindingState{patchcore.FindingMissing, patchcore.FindingMissing, patchcore.FindingMissing,
		patchcore.FindingInstalled, patchcore.FindingNotApplicable, patchcore.FindingSuperseded, patchcore.FindingUnknown}
	downloads := []deploy.OpResult{{Outcome: deploy.OutcomeStaged}, {Outcome: deploy.OutcomeStaged}, {Outcome: deploy.OutcomeFailed, Reason: "404"},
		{Outcome: deploy.OutcomeFailed, Reason: "gone", Permanent: true}, {Outcome: deploy.OutcomeAlreadyInstalled}, {Outcome: deploy.OutcomeNotApplicable}}
	installs := []deploy.OpResult{{Outcome: deploy.OutcomeInstalled}, {Outcome: deploy.OutcomeInstalled}, {Outcome: deploy.OutcomeRebootRequired},
		{Outcome: deploy.OutcomeFailed, Reason: "exit 1"}, {Outcome: deploy.OutcomeFailed, Reason: "broken", Permanent: true},
		{Outcome: deploy.OutcomeNotApplicable}, {Outcome: deploy.OutcomeAlreadyInstalled}}
	afterReboot := []patchcore.FindingState{"", "", patchcore.FindingMissing, patchcore.FindingInstalled}
	endStates := map[patchcore.DeploymentState]int{}
	for run := range 300 {
		h := newHarness(t, nil)
		ndev, npatch := 1+rng.IntN(6), 1+rng.IntN(3)
		var ts []deploy.Target
		var patches []string
		for p := range npatch {
			patches = append(patches, fmt.Sprintf("P%d", p))
		}
		h.inst.Unreachable, h.inst.Defer = map[string]bool{}, map[string]int{}
		for d := range ndev {
			dev := fmt.Sprintf("d%d", d)
			ts = append(ts, deploy.Target{Device: dev, Ring: []string{"pilot", "broad", "other"}[rng.IntN(3)],
				Zone: []string{"", "Europe/Berlin", "America/New_York"}[rng.IntN(3)]})
			h.inst.Unreachable[dev] = rng.IntN(12) == 0
			h.inst.Defer[dev] = rng.IntN(4)
			for _, p := range patches {
				h.inst.Behaviors[dev+"/"+p] = deploytest.Behavior{
					Scan: scans[rng.IntN(len(scans))], Download: randomResults(rng, downloads), Install: randomResults(rng, installs),
					RebootsNeeded: 1 + rng.IntN(4), AfterReboot: afterReboot[rng.IntN(len(afterReboot))],
				}
			}
		}
		pol := deploy.Policy{
			Reboot:   deploy.RebootPolicy{Option: []deploy.RebootOption{deploy.RebootOptionIfRequired, deploy.RebootOptionAlways}[rng.IntN(2)]},
			Deferral: deploy.Deferral{MaxCount: rng.IntN(3)},
			Retry:    deploy.RetryPolicy{Retries: rng.IntN(4)},
			// Unreachable devices are polled until the 72h purge.
			PollInterval: patchcore.Duration(15 * time.Minute),
		}
		if rng.IntN(2) == 0 {
			pol.Windows = deploy.Windows{daily(rng.IntN(24), 30*rng.IntN(2), "", time.Duration(1+rng.IntN(4))*time.Hour)}
			pol.Reboot.Timing = []deploy.RebootTiming{deploy.RebootTimingEndOfCycle, deploy.RebootTimingNextWindow, deploy.RebootTimingScheduled}[rng.IntN(3)]
			pol.Reboot.At = deploy.TimeOfDay{Hour: rng.IntN(24)}
		}
		if rng.IntN(2) == 0 {
			pol.Rollout = deploy.Rollout{Rings: []string{"pilot", "broad"}, MaxConcurrency: rng.IntN(3), ErrorThreshold: deploy.Threshold{Count: rng.IntN(2)}}
		}
		id := fmt.Sprintf("run%d", run)
		h.create(deploy.Spec{ID: id, Patches: patches, Targets: ts, Policy: pol})
		res := h.drive(id, 5000)
		if !res.Done {
			t.Fatalf("%s: not done after 5000 ticks: %+v", id, res.Summary)
		}
		if res.Summary.State == deploy.AggregateHalted {
			if err := h.r.Cancel(context.Background(), id, "halted"); err != nil {
				t.Fatal(err)
			}
		}
		items, err := h.store.Items(context.Background(), id, "")
		if err != nil {
			t.Fatal(err)
		}
		perItem := map[string]int{}
		for _, a := range h.alerts() {
			if a.Patch != "" {
				perItem[a.Device+"/"+a.Patch]++
			}
		}
		for _, it := range items {
			if !it.State.Terminal() {
				t.Fatalf("%s: %s/%s ended in %s (policy %+v)", id, it.Device, it.Patch, it.State, pol)
			}
			if n := perItem[it.Device+"/"+it.Patch]; uint64(n) != it.Version {
				t.Errorf("%s: %s/%s: %d alerts for %d transitions", id, it.Device, it.Patch, n, it.Version)
			}
			endStates[it.State]++
		}
		if d := h.inst.DoubleInstalls(); len(d) > 0 {
			t.Fatalf("%s: double installs %v", id, d)
		}
	}
	for _, s := range deploy.States() {
		if s.Terminal() && endStates[s] == 0 {
			t.Errorf("no item ended in %s: %v", s, endStates)
		}
	}
}
