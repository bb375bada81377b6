package deploy

import (
	"fmt"
	"strconv"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Event is an input to the per (device, patch) state machine.
type Event string

// Events, with the transitions they cause (see [Transitions] for the full table).
const (
	// EvDownload starts a download attempt: Posted, Retrying -> Downloading.
	EvDownload Event = "download"
	// EvDownloaded reports the patch staged: Downloading -> Downloaded.
	EvDownloaded Event = "downloaded"
	// EvDownloadFailed reports a failed download: Downloading -> Failed.
	EvDownloadFailed Event = "download_failed"
	// EvWait reports another deployment in progress on the device: Downloaded -> Waiting.
	EvWait Event = "wait"
	// EvBlock records why an install or a restart cannot happen (no
	// maintenance window ever opens for it): Downloaded, Waiting,
	// InstalledPendingReboot -> itself, with Item.Blocked set. Its guard
	// needs a reason other than the recorded block's, so a block is
	// recorded once.
	EvBlock Event = "block"
	// EvDefer records a user deferral: Downloaded, Waiting,
	// InstalledPendingReboot -> itself.
	EvDefer Event = "defer"
	// EvInstall starts an install attempt: Downloaded, Waiting -> Installing.
	EvInstall Event = "install"
	// EvInstalled reports a finished install: Installing -> Installed.
	EvInstalled Event = "installed"
	// EvNeedsReboot reports an install that waits for a restart:
	// Installing -> InstalledPendingReboot.
	EvNeedsReboot Event = "needs_reboot"
	// EvInstallFailed reports a failed install: Installing -> Failed.
	EvInstallFailed Event = "install_failed"
	// EvRetry schedules another attempt: Failed -> Retrying.
	EvRetry Event = "retry"
	// EvGiveUp ends a failure without retries left: Failed -> FailedFinal.
	EvGiveUp Event = "give_up"
	// EvReboot records a restart: InstalledPendingReboot -> itself.
	EvReboot Event = "reboot"
	// EvVerified reports that the post-reboot rescan shows the patch
	// installed: InstalledPendingReboot -> Installed.
	EvVerified Event = "verified"
	// EvVerifyFailed reports that the rescan still shows the patch missing,
	// or the reboot-loop guard stopped: InstalledPendingReboot -> Unknown.
	EvVerifyFailed Event = "verify_failed"
	// EvAbort ends any open item: the device did not answer within the
	// purge interval, or the deployment was cancelled.
	EvAbort Event = "abort"
	// EvNotApplicable ends an item a superseding patch or removed software
	// made irrelevant.
	EvNotApplicable Event = "not_applicable"
	// EvAlreadyInstalled ends an item whose patch was installed before the
	// deployment reached the device.
	EvAlreadyInstalled Event = "already_installed"
)

// Events lists every event in a stable order.
func Events() []Event {
	return []Event{EvDownload, EvDownloaded, EvDownloadFailed, EvWait, EvBlock, EvDefer, EvInstall,
		EvInstalled, EvNeedsReboot, EvInstallFailed, EvRetry, EvGiveUp, EvReboot, EvVerified,
		EvVerifyFailed, EvAbort, EvNotApplicable, EvAlreadyInstalled}
}

// States lists every deployment state in a stable order.
func States() []patchcore.DeploymentState {
	return []patchcore.DeploymentState{patchcore.DeployPosted, patchcore.DeployDownloading,
		patchcore.DeployDownloaded, patchcore.DeployWaiting, patchcore.DeployInstalling,
		patchcore.DeployInstalled, patchcore.DeployInstalledPendingReboot, patchcore.DeployFailed,
		patchcore.DeployRetrying, patchcore.DeployFailedFinal, patchcore.DeployAborted,
		patchcore.DeployNotApplicable, patchcore.DeployInstalledByUser, patchcore.DeployUnknown}
}

// AlertKind names what happened.
type AlertKind string

// Alert kinds. Each transition emits one; the runner emits the device-level
// ones (scan initiated, missing patches found, step failed, rollout halted).
const (
	AlertScanInitiated       AlertKind = "scan_initiated"
	AlertMissingPatchesFound AlertKind = "missing_patches_found"
	AlertDownloadInitiated   AlertKind = "download_initiated"
	AlertDownloaded          AlertKind = "downloaded"
	AlertDownloadFailed      AlertKind = "download_failed"
	AlertWaiting             AlertKind = "waiting"
	AlertInstallBlocked      AlertKind = "install_blocked"
	AlertRebootBlocked       AlertKind = "reboot_blocked"
	AlertDeferred            AlertKind = "deferred"
	AlertInstallStarted      AlertKind = "install_started"
	AlertInstallComplete     AlertKind = "install_complete"
	AlertPendingReboot       AlertKind = "pending_reboot"
	AlertInstallFailed       AlertKind = "install_failed"
	AlertRetryScheduled      AlertKind = "retry_scheduled"
	AlertFailedFinal         AlertKind = "failed_final"
	AlertRebootInitiated     AlertKind = "reboot_initiated"
	AlertVerificationFailed  AlertKind = "verification_failed"
	AlertAborted             AlertKind = "aborted"
	AlertNotApplicable       AlertKind = "not_applicable"
	AlertInstalledByUser     AlertKind = "installed_by_user"
	AlertStepFailed          AlertKind = "step_failed"
	AlertRolloutHalted       AlertKind = "rollout_halted"
	AlertRolloutResumed      AlertKind = "rollout_resumed"
)

// AlertLevel is how urgent an alert is.
type AlertLevel string

// Alert levels.
const (
	LevelInfo     AlertLevel = "info"
	LevelWarning  AlertLevel = "warning"
	LevelCritical AlertLevel = "critical"
)

// Alert is an event for the outside world (a console, a ticket, an e-mail),
// stored in the outbox with the transition that caused it.
type Alert struct {
	// ID is unique and stable: "deployment/device/patch/version" for a
	// transition, so a redelivered alert can be recognised.
	ID         string     `json:"id"`
	Deployment string     `json:"deployment"`
	Device     string     `json:"device,omitempty"`
	Patch      string     `json:"patch,omitempty"`
	Kind       AlertKind  `json:"kind"`
	Level      AlertLevel `json:"level"`
	// Event, From and To describe the transition (empty for device-level alerts).
	Event  Event                     `json:"event,omitempty"`
	From   patchcore.DeploymentState `json:"from,omitempty"`
	To     patchcore.DeploymentState `json:"to,omitempty"`
	Reason string                    `json:"reason,omitempty"`
	At     time.Time                 `json:"at"`
}

// Transition is one row of the state machine's table.
type Transition struct {
	From  patchcore.DeploymentState
	Event Event
	To    patchcore.DeploymentState
	Alert AlertKind
	Level AlertLevel
}

const (
	posted    = patchcore.DeployPosted
	dling     = patchcore.DeployDownloading
	dled      = patchcore.DeployDownloaded
	waiting   = patchcore.DeployWaiting
	installng = patchcore.DeployInstalling
	installed = patchcore.DeployInstalled
	pending   = patchcore.DeployInstalledPendingReboot
	failed    = patchcore.DeployFailed
	retrying  = patchcore.DeployRetrying
	final     = patchcore.DeployFailedFinal
	aborted   = patchcore.DeployAborted
	notappl   = patchcore.DeployNotApplicable
	byuser    = patchcore.DeployInstalledByUser
	unknown   = patchcore.DeployUnknown
)

// transitionTable is the explicit transition table. Anything not listed is
// illegal.
var transitionTable = [...]Transition{
	{posted, EvDownload, dling, AlertDownloadInitiated, LevelInfo},
	{retrying, EvDownload, dling, AlertDownloadInitiated, LevelInfo},
	{dling, EvDownloaded, dled, AlertDownloaded, LevelInfo},
	{dling, EvDownloadFailed, failed, AlertDownloadFailed, LevelWarning},
	{dled, EvWait, waiting, AlertWaiting, LevelInfo},
	{dled, EvBlock, dled, AlertInstallBlocked, LevelCritical},
	{waiting, EvBlock, waiting, AlertInstallBlocked, LevelCritical},
	{dled, EvDefer, dled, AlertDeferred, LevelInfo},
	{waiting, EvDefer, waiting, AlertDeferred, LevelInfo},
	{pending, EvDefer, pending, AlertDeferred, LevelInfo},
	{pending, EvBlock, pending, AlertRebootBlocked, LevelCritical},
	{dled, EvInstall, installng, AlertInstallStarted, LevelInfo},
	{waiting, EvInstall, installng, AlertInstallStarted, LevelInfo},
	{installng, EvInstalled, installed, AlertInstallComplete, LevelInfo},
	{installng, EvNeedsReboot, pending, AlertPendingReboot, LevelWarning},
	{installng, EvInstallFailed, failed, AlertInstallFailed, LevelCritical},
	{failed, EvRetry, retrying, AlertRetryScheduled, LevelInfo},
	{failed, EvGiveUp, final, AlertFailedFinal, LevelCritical},
	{pending, EvReboot, pending, AlertRebootInitiated, LevelInfo},
	{pending, EvVerified, installed, AlertInstallComplete, LevelInfo},
	{pending, EvVerifyFailed, unknown, AlertVerificationFailed, LevelCritical},

	{posted, EvAbort, aborted, AlertAborted, LevelWarning},
	{dling, EvAbort, aborted, AlertAborted, LevelWarning},
	{dled, EvAbort, aborted, AlertAborted, LevelWarning},
	{waiting, EvAbort, aborted, AlertAborted, LevelWarning},
	{installng, EvAbort, aborted, AlertAborted, LevelWarning},
	{pending, EvAbort, aborted, AlertAborted, LevelWarning},
	{failed, EvAbort, aborted, AlertAborted, LevelWarning},
	{retrying, EvAbort, aborted, AlertAborted, LevelWarning},

	{posted, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{dling, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{dled, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{waiting, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{installng, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{failed, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},
	{retrying, EvNotApplicable, notappl, AlertNotApplicable, LevelInfo},

	{posted, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
	{dling, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
	{dled, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
	{waiting, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
	{failed, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
	{retrying, EvAlreadyInstalled, byuser, AlertInstalledByUser, LevelInfo},
}

// Transitions returns a copy of the transition table: every legal
// (from, event) pair with its target state and the alert it emits.
func Transitions() []Transition {
	return append([]Transition(nil), transitionTable[:]...)
}

// stateIndex and eventIndex map names to table coordinates.
func stateIndex(s patchcore.DeploymentState) int {
	switch s {
	case posted:
		return 0
	case dling:
		return 1
	case dled:
		return 2
	case waiting:
		return 3
	case installng:
		return 4
	case installed:
		return 5
	case pending:
		return 6
	case failed:
		return 7
	case retrying:
		return 8
	case final:
		return 9
	case aborted:
		return 10
	case notappl:
		return 11
	case byuser:
		return 12
	case unknown:
		return 13
	}
	return -1
}

const numStates, numEvents = 14, 18

func eventIndex(e Event) int {
	switch e {
	case EvDownload:
		return 0
	case EvDownloaded:
		return 1
	case EvDownloadFailed:
		return 2
	case EvWait:
		return 3
	case EvBlock:
		return 4
	case EvDefer:
		return 5
	case EvInstall:
		return 6
	case EvInstalled:
		return 7
	case EvNeedsReboot:
		return 8
	case EvInstallFailed:
		return 9
	case EvRetry:
		return 10
	case EvGiveUp:
		return 11
	case EvReboot:
		return 12
	case EvVerified:
		return 13
	case EvVerifyFailed:
		return 14
	case EvAbort:
		return 15
	case EvNotApplicable:
		return 16
	case EvAlreadyInstalled:
		return 17
	}
	return -1
}

// eventTarget is the state each event leads to; self-loops stay put.
func eventTarget(e Event, from patchcore.DeploymentState) patchcore.DeploymentState {
	switch e {
	case EvDownload:
		return dling
	case EvDownloaded:
		return dled
	case EvDownloadFailed, EvInstallFailed:
		return failed
	case EvWait:
		return waiting
	case EvBlock, EvDefer, EvReboot:
		return from
	case EvInstall:
		return installng
	case EvInstalled, EvVerified:
		return installed
	case EvNeedsReboot:
		return pending
	case EvRetry:
		return retrying
	case EvGiveUp:
		return final
	case EvVerifyFailed:
		return unknown
	case EvAbort:
		return aborted
	case EvNotApplicable:
		return notappl
	case EvAlreadyInstalled:
		return byuser
	}
	return ""
}

// machineIndex is the table as a lookup array: entry+1 of transitionTable,
// 0 for illegal. It is computed once and never written afterwards.
type machineIndex [numStates][numEvents]uint8

func buildIndex() *machineIndex {
	var ix machineIndex
	for i, t := range transitionTable {
		ix[stateIndex(t.From)][eventIndex(t.Event)] = uint8(i + 1)
	}
	return &ix
}

var lookupIndex = buildIndex()

// lookup returns the table row for (from, event).
func lookup(from patchcore.DeploymentState, ev Event) (Transition, bool) {
	s, e := stateIndex(from), eventIndex(ev)
	if s < 0 || e < 0 {
		return Transition{}, false
	}
	if i := lookupIndex[s][e]; i != 0 {
		return transitionTable[i-1], true
	}
	return Transition{}, false
}

// Item is the state of one patch on one device within a deployment.
type Item struct {
	Device string                    `json:"device"`
	Patch  string                    `json:"patch"`
	State  patchcore.DeploymentState `json:"state"`
	// Attempt counts download/install attempts started (1 for the first).
	Attempt   int `json:"attempt,omitempty"`
	Deferrals int `json:"deferrals,omitempty"`
	Reboots   int `json:"reboots,omitempty"`
	// Version counts the transitions taken; the store uses it to reject
	// stale writes.
	Version uint64    `json:"version"`
	Updated time.Time `json:"updated,omitzero"`
	// NotBefore delays the next step: retry backoff, a deferral, the
	// post-reboot verification.
	NotBefore time.Time `json:"not_before,omitzero"`
	// Reason explains the last failure, block or abort.
	Reason string `json:"reason,omitempty"`
	// Permanent marks a failure that retrying cannot fix.
	Permanent bool `json:"permanent,omitempty"`
	// Blocked marks an open item that can go no further: no maintenance
	// window will ever open for its install (Downloaded, Waiting) or its
	// restart (InstalledPendingReboot); Reason says why. EvBlock sets it,
	// every other transition clears it.
	Blocked bool `json:"blocked,omitempty"`
}

// OpID returns the idempotent operation ID of the item's current attempt of
// an operation ("download", "install"): "deployment/device/patch/op/attempt".
// The executor must treat a repeated ID as the same operation.
func (it Item) OpID(deployment, op string) string {
	return deployment + "/" + it.Device + "/" + it.Patch + "/" + op + "/" + strconv.Itoa(it.Attempt)
}

// Input is one event with the facts its guards check.
type Input struct {
	Event Event
	At    time.Time
	// Reason explains a failure, block, abort or not-applicable verdict.
	Reason string
	// Permanent marks a failure that retrying cannot fix.
	Permanent bool
	// LockHeld and WindowOpen are EvInstall's guards: the device is not
	// busy with another deployment and a maintenance window is open.
	LockHeld   bool
	WindowOpen bool
	// NotBefore is the new delay set by EvRetry (backoff), EvDefer and
	// EvReboot (verification time).
	NotBefore time.Time
}

// Limits are the policy's bounds the guards enforce.
type Limits struct {
	// Retries is how many attempts may follow the first.
	Retries int
	// MaxDeferrals and DeferralDeadline bound EvDefer.
	MaxDeferrals     int
	DeferralDeadline time.Time
	// MaxReboots bounds EvReboot (the reboot-loop guard).
	MaxReboots int
}

// TransitionError reports an illegal transition: an event the table does
// not allow in the current state, or one whose guard fails. It wraps
// patchcore.ErrIllegalTransition.
type TransitionError struct {
	Device, Patch string
	From          patchcore.DeploymentState
	Event         Event
	To            patchcore.DeploymentState
	// Guard is the failed guard's explanation; empty when the table has no
	// such transition.
	Guard string
}

// Error names the item, the states and the event.
func (e *TransitionError) Error() string {
	why := "not in the transition table"
	if e.Guard != "" {
		why = "guard failed: " + e.Guard
	}
	return fmt.Sprintf("device %q patch %q: %s -(%s)-> %s: %s: %s", e.Device, e.Patch, e.From, e.Event, e.To, why, patchcore.ErrIllegalTransition)
}

// Unwrap returns patchcore.ErrIllegalTransition.
func (e *TransitionError) Unwrap() error { return patchcore.ErrIllegalTransition }

func guard(it Item, in Input, lim Limits) string {
	switch in.Event {
	case EvInstall:
		switch {
		case !in.LockHeld:
			return "another deployment holds the device"
		case !in.WindowOpen:
			return "no maintenance window is open"
		case in.At.Before(it.NotBefore):
			return "deferred until " + it.NotBefore.UTC().Format(time.RFC3339)
		}
	case EvDownload:
		if it.State == retrying && in.At.Before(it.NotBefore) {
			return "backing off until " + it.NotBefore.UTC().Format(time.RFC3339)
		}
	case EvRetry:
		if it.Permanent {
			return "the failure is permanent"
		}
		if it.Attempt > lim.Retries {
			return fmt.Sprintf("attempt %d used the %d retries", it.Attempt, lim.Retries)
		}
	case EvGiveUp:
		if !it.Permanent && it.Attempt <= lim.Retries {
			return fmt.Sprintf("attempt %d of %d: retries remain", it.Attempt, lim.Retries+1)
		}
	case EvDefer:
		if it.Deferrals >= lim.MaxDeferrals {
			return fmt.Sprintf("%d of %d deferrals used", it.Deferrals, lim.MaxDeferrals)
		}
		if !lim.DeferralDeadline.IsZero() && !in.At.Before(lim.DeferralDeadline) {
			return "deferral deadline " + lim.DeferralDeadline.UTC().Format(time.RFC3339) + " passed"
		}
	case EvBlock:
		if in.Reason == "" || it.Blocked && in.Reason == it.Reason {
			return "blocked already for the same reason"
		}
	case EvReboot:
		if it.Reboots >= lim.MaxReboots {
			return fmt.Sprintf("reboot-loop guard: %d reboots already", it.Reboots)
		}
	}
	return ""
}

// Fire applies in to it: it looks the (state, event) pair up in the
// transition table, checks the event's guard and returns the new item and
// the alert the transition emits. An illegal transition returns it
// unchanged and a *TransitionError. Fire has no side effects.
func Fire(deployment string, it Item, in Input, lim Limits) (Item, Alert, error) {
	t, ok := lookup(it.State, in.Event)
	if !ok {
		return it, Alert{}, &TransitionError{Device: it.Device, Patch: it.Patch, From: it.State, Event: in.Event, To: eventTarget(in.Event, it.State)}
	}
	if g := guard(it, in, lim); g != "" {
		return it, Alert{}, &TransitionError{Device: it.Device, Patch: it.Patch, From: it.State, Event: in.Event, To: t.To, Guard: g}
	}
	next := it
	next.State = t.To
	next.Version++
	next.Updated = in.At
	next.Blocked = in.Event == EvBlock
	switch in.Event {
	case EvDownload:
		next.Attempt++
		next.NotBefore = time.Time{}
		next.Reason, next.Permanent = "", false
	case EvDownloadFailed, EvInstallFailed:
		next.Reason, next.Permanent = in.Reason, in.Permanent
	case EvRetry:
		next.NotBefore = in.NotBefore
	case EvDefer:
		next.Deferrals++
		next.NotBefore = in.NotBefore
	case EvReboot:
		next.Reboots++
		next.NotBefore = in.NotBefore
	case EvWait:
		// The reason (the deployment in progress) goes to the alert only:
		// an item's Reason in Downloaded or Waiting means blocked.
		next.Reason = ""
	case EvInstall, EvInstalled, EvNeedsReboot, EvVerified:
		next.NotBefore = time.Time{}
		next.Reason = in.Reason
	default:
		next.Reason = in.Reason
	}
	a := Alert{
		ID:         deployment + "/" + it.Device + "/" + it.Patch + "/" + strconv.FormatUint(next.Version, 10),
		Deployment: deployment, Device: it.Device, Patch: it.Patch,
		Kind: t.Alert, Level: t.Level, Event: in.Event, From: it.State, To: t.To,
		Reason: in.Reason, At: in.At,
	}
	return next, a, nil
}
