package deploy

import (
	"context"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Operation identifies one effect on a device. ID is idempotent: an
// executor that sees an ID again must return the first call's result
// without repeating the effect (never install twice).
type Operation struct {
	ID         string `json:"id"`
	Deployment string `json:"deployment"`
	Device     string `json:"device"`
	Patch      string `json:"patch,omitempty"`
	Attempt    int    `json:"attempt,omitempty"`
}

// Outcome is what a download or install did.
type Outcome string

// Outcomes.
const (
	// OutcomeStaged: the download finished.
	OutcomeStaged Outcome = "staged"
	// OutcomeInstalled: the install finished; no restart needed.
	OutcomeInstalled Outcome = "installed"
	// OutcomeRebootRequired: the install finished and waits for a restart.
	OutcomeRebootRequired Outcome = "reboot_required"
	// OutcomeFailed: the download or install failed (Reason says why).
	OutcomeFailed Outcome = "failed"
	// OutcomeAlreadyInstalled: the patch was installed before this deployment.
	OutcomeAlreadyInstalled Outcome = "already_installed"
	// OutcomeNotApplicable: the patch no longer concerns the device.
	OutcomeNotApplicable Outcome = "not_applicable"
)

// OpResult is a download's or install's per-patch result. A failure of the
// operation travels here; Executor methods return an error only when the
// call itself failed (the device or adapter did not answer).
type OpResult struct {
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Permanent marks a failure that retrying cannot fix.
	Permanent bool `json:"permanent,omitempty"`
}

// Executor carries out a deployment's effects on its devices: download,
// install, rescan and restart. The caller implements it, typically over an
// adapter. (It is no patchcore.Installer, which describes an application's
// installer file.) An error return means the device did not answer; the
// runner tries again and aborts the device's items after the purge
// interval.
type Executor interface {
	// Download stages a patch. A repeated op.ID returns the first result.
	Download(ctx context.Context, op Operation) (OpResult, error)
	// Install installs a staged patch. A repeated op.ID returns the first
	// result and never installs twice.
	Install(ctx context.Context, op Operation) (OpResult, error)
	// Rescan reports the current finding state of each patch on the device
	// (missing patches may be left out).
	Rescan(ctx context.Context, deployment, device string, patches []string) (map[string]patchcore.FindingState, error)
	// Reboot restarts the device. A repeated op.ID does not restart again.
	Reboot(ctx context.Context, op Operation) error
}

// Phase says when a step runs.
type Phase string

// Phases.
const (
	PhasePre  Phase = "pre"
	PhasePost Phase = "post"
)

// StepRunner runs pre- and post-install steps. An executor that also
// implements StepRunner runs the policy's steps; a policy with steps and an
// executor without it fails to run (patchcore.ErrUnsupported).
//
// The runner records each step's completion in the Store (a StepRecord)
// after RunStep returns: pre-steps run once per device before its first
// install, post-steps once after its last item settles. Steps must be
// idempotent: when a crash interrupts a step, or strikes after it
// returned but before its completion was stored, the resumed runner calls
// RunStep again with the same op.ID. An implementation that remembers
// op.IDs returns the first result without running the step again; one
// that does not must make running the step twice harmless. A pre-step
// that failed runs again under a new ID (op.Attempt) when the install is
// retried.
type StepRunner interface {
	// RunStep runs one step; a repeated op.ID returns the first result.
	// An error fails the step: a pre-step's failure fails the installs
	// (unless step.ContinueOnError), a post-step's is reported by an
	// AlertStepFailed and leaves the items' results as they are.
	RunStep(ctx context.Context, op Operation, phase Phase, step Step) error
}

// NoticeKind says what the user is told about.
type NoticeKind string

// Notice kinds.
const (
	NoticeBeforeInstall NoticeKind = "before_install"
	NoticeBeforeReboot  NoticeKind = "before_reboot"
)

// Notice tells the device's user what is about to happen and whether they
// may postpone it.
type Notice struct {
	Kind       NoticeKind `json:"kind"`
	Deployment string     `json:"deployment"`
	Device     string     `json:"device"`
	Patches    []string   `json:"patches"`
	// DeferralsLeft is how often the user may still postpone (0: the
	// action is forced); Deadline is when deferrals end (zero: none).
	DeferralsLeft int       `json:"deferrals_left"`
	Deadline      time.Time `json:"deadline,omitzero"`
}

// Notifier is an optional Executor capability: notify the user before
// an install or restart. Notify returns true when the user postpones; the
// runner ignores that once the deferral count or deadline is used up.
type Notifier interface {
	Notify(ctx context.Context, n Notice) (deferred bool, err error)
}

// Sink receives delivered alerts. Publish must be idempotent on Alert.ID:
// after a crash the runner delivers again what it could not acknowledge.
type Sink interface {
	Publish(ctx context.Context, alerts []Alert) error
}
