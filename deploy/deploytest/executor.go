package deploytest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

// Behavior scripts one patch on one device.
type Behavior struct {
	// Scan is what the first rescan reports (default missing).
	Scan patchcore.FindingState
	// Download and Install are the results of attempt 1, 2, ...; the last
	// repeats. Empty means staged and installed.
	Download []deploy.OpResult
	Install  []deploy.OpResult
	// RebootsNeeded is how many restarts it takes before a pending patch
	// is installed (default 1); AfterReboot is what the rescan then
	// reports (default installed).
	RebootsNeeded int
	AfterReboot   patchcore.FindingState
}

// Effect is one effect the fake performed on a device. A test that
// records effects durably (OnEffect) and hands them to a new fake
// (Restore) models a device whose installs, restarts and step runs
// survive the controlling process: a repeated operation ID, a step's
// included, then returns the first result and is not performed again.
type Effect struct {
	Kind   string           `json:"kind"` // download, install, reboot, pre, post
	Op     deploy.Operation `json:"op"`
	Result deploy.OpResult  `json:"result"`
}

// Executor is a fake deploy.Executor (and deploy.StepRunner): it keeps
// each device's installed and pending patches, honours operation IDs (a
// repeated ID returns the first result and has no effect) and records
// every effect. Installing a patch that is already installed through a new
// operation counts as a double install.
type Executor struct {
	// Behaviors maps "device/patch" to its script.
	Behaviors map[string]Behavior
	// Unreachable devices fail every call.
	Unreachable map[string]bool
	// Defer makes the user of a device postpone this many times.
	Defer map[string]int
	// FailSteps makes the named steps fail.
	FailSteps map[string]bool
	// OnEffect, when set, is called after each effect is performed and
	// before the call returns (a test persists the effect there, or dies).
	OnEffect func(Effect) error

	mu      sync.Mutex
	done    map[string]Effect
	effects []Effect
	inst    map[string]bool // device/patch installed
	pending map[string]int  // device/patch -> restarts still needed
	reboots map[string]int  // device -> restarts
	doubles []string
	notices []deploy.Notice
}

// NewExecutor returns a fake executor with the given behaviours.
func NewExecutor(behaviors map[string]Behavior) *Executor {
	f := &Executor{Behaviors: behaviors}
	f.reset()
	return f
}

func (f *Executor) reset() {
	if f.Behaviors == nil {
		f.Behaviors = map[string]Behavior{}
	}
	f.done, f.inst, f.pending, f.reboots = map[string]Effect{}, map[string]bool{}, map[string]int{}, map[string]int{}
}

// Restore replays effects recorded by an earlier process, without calling OnEffect.
func (f *Executor) Restore(effects []Effect) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range effects {
		f.perform(e)
	}
}

// Effects returns the effects performed, in order.
func (f *Executor) Effects() []Effect {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.effects)
}

// DoubleInstalls lists "device/patch" installed again by a new operation.
func (f *Executor) DoubleInstalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.doubles)
}

// StepRuns returns the operation IDs of the steps of phase performed on
// device, in order. A step called again with an ID it already ran is not
// listed again: it was not run again.
func (f *Executor) StepRuns(device string, phase deploy.Phase) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for _, e := range f.effects {
		if e.Kind == string(phase) && e.Op.Device == device {
			ids = append(ids, e.Op.ID)
		}
	}
	return ids
}

// Reboots returns how often device was restarted.
func (f *Executor) Reboots(device string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reboots[device]
}

func pick(rs []deploy.OpResult, attempt int, def deploy.Outcome) deploy.OpResult {
	if len(rs) == 0 {
		return deploy.OpResult{Outcome: def}
	}
	return rs[min(max(attempt, 1), len(rs))-1]
}

// perform applies an effect to the fake device state. The caller holds mu.
func (f *Executor) perform(e Effect) {
	f.done[e.Op.ID] = e
	f.effects = append(f.effects, e)
	key := e.Op.Device + "/" + e.Op.Patch
	switch e.Kind {
	case "install":
		switch e.Result.Outcome {
		case deploy.OutcomeInstalled, deploy.OutcomeRebootRequired:
			if f.inst[key] {
				f.doubles = append(f.doubles, key)
			}
			f.inst[key] = true
			if e.Result.Outcome == deploy.OutcomeRebootRequired {
				n := f.Behaviors[key].RebootsNeeded
				f.pending[key] = max(n, 1)
			}
		}
	case "reboot":
		f.reboots[e.Op.Device]++
		for k, n := range f.pending {
			if len(k) > len(e.Op.Device) && k[:len(e.Op.Device)+1] == e.Op.Device+"/" {
				if n <= 1 {
					delete(f.pending, k)
				} else {
					f.pending[k] = n - 1
				}
			}
		}
	}
}

func (f *Executor) effect(kind string, op deploy.Operation, result func() deploy.OpResult) (deploy.OpResult, error) {
	f.mu.Lock()
	if f.Unreachable[op.Device] {
		f.mu.Unlock()
		return deploy.OpResult{}, fmt.Errorf("device %q: no answer: %w", op.Device, patchcore.ErrTimeout)
	}
	if e, ok := f.done[op.ID]; ok {
		f.mu.Unlock()
		return e.Result, nil
	}
	e := Effect{Kind: kind, Op: op, Result: result()}
	f.perform(e)
	hook := f.OnEffect
	f.mu.Unlock()
	if hook != nil {
		if err := hook(e); err != nil {
			return deploy.OpResult{}, err
		}
	}
	return e.Result, nil
}

// Download implements deploy.Executor.
func (f *Executor) Download(_ context.Context, op deploy.Operation) (deploy.OpResult, error) {
	return f.effect("download", op, func() deploy.OpResult {
		return pick(f.Behaviors[op.Device+"/"+op.Patch].Download, op.Attempt, deploy.OutcomeStaged)
	})
}

// Install implements deploy.Executor.
func (f *Executor) Install(_ context.Context, op deploy.Operation) (deploy.OpResult, error) {
	return f.effect("install", op, func() deploy.OpResult {
		return pick(f.Behaviors[op.Device+"/"+op.Patch].Install, op.Attempt, deploy.OutcomeInstalled)
	})
}

// Reboot implements deploy.Executor.
func (f *Executor) Reboot(_ context.Context, op deploy.Operation) error {
	_, err := f.effect("reboot", op, func() deploy.OpResult { return deploy.OpResult{Outcome: deploy.OutcomeInstalled} })
	return err
}

// RunStep implements deploy.StepRunner.
func (f *Executor) RunStep(_ context.Context, op deploy.Operation, phase deploy.Phase, step deploy.Step) error {
	res, err := f.effect(string(phase), op, func() deploy.OpResult {
		if f.FailSteps[step.Name] {
			return deploy.OpResult{Outcome: deploy.OutcomeFailed, Reason: "step " + step.Name + " failed"}
		}
		return deploy.OpResult{Outcome: deploy.OutcomeInstalled}
	})
	if err != nil {
		return err
	}
	if res.Outcome == deploy.OutcomeFailed {
		return fmt.Errorf("%s", res.Reason)
	}
	return nil
}

// Rescan implements deploy.Executor.
func (f *Executor) Rescan(_ context.Context, _, device string, patches []string) (map[string]patchcore.FindingState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Unreachable[device] {
		return nil, fmt.Errorf("device %q: no answer: %w", device, patchcore.ErrTimeout)
	}
	out := make(map[string]patchcore.FindingState, len(patches))
	for _, p := range patches {
		key := device + "/" + p
		b := f.Behaviors[key]
		switch {
		case f.pending[key] > 0:
			out[p] = patchcore.FindingInstalledPendingReboot
		case f.inst[key] && b.AfterReboot != "" && f.reboots[device] > 0:
			out[p] = b.AfterReboot
		case f.inst[key]:
			out[p] = patchcore.FindingInstalled
		case b.Scan != "":
			out[p] = b.Scan
		default:
			out[p] = patchcore.FindingMissing
		}
	}
	return out, nil
}

// Notify implements deploy.Notifier: the user of a device in Defer
// postpones while Defer[device] is positive (each time counting down).
func (f *Executor) Notify(_ context.Context, n deploy.Notice) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Unreachable[n.Device] {
		return false, fmt.Errorf("device %q: no answer: %w", n.Device, patchcore.ErrTimeout)
	}
	f.notices = append(f.notices, n)
	if f.Defer[n.Device] > 0 {
		f.Defer[n.Device]--
		return true, nil
	}
	return false, nil
}

// Notices returns the notices shown, in order.
func (f *Executor) Notices() []deploy.Notice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.notices)
}
