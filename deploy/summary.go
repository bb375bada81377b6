package deploy

import (
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Aggregate is a deployment's overall state, derived from its status and
// its items' states.
type Aggregate string

// Aggregate states.
const (
	// AggregateScheduled: the schedule has not started it yet.
	AggregateScheduled Aggregate = "scheduled"
	// AggregateRunning: items are in progress.
	AggregateRunning Aggregate = "running"
	// AggregatePendingReboot: every item is done or waits for a restart.
	AggregatePendingReboot Aggregate = "pending_reboot"
	// AggregateBlocked: every item is terminal or blocked, and some are
	// blocked: no maintenance window will ever open for their install or
	// restart (Summary.Blocked counts them, their Reason says why).
	AggregateBlocked Aggregate = "blocked"
	// AggregateHalted: a stage exceeded the error threshold.
	AggregateHalted Aggregate = "halted"
	// AggregateCancelled: cancelled by an operator.
	AggregateCancelled Aggregate = "cancelled"
	// AggregateCompleted: every item is terminal without error.
	AggregateCompleted Aggregate = "completed"
	// AggregateCompletedWithErrors: every item is terminal, some failed,
	// were aborted or ended Unknown.
	AggregateCompletedWithErrors Aggregate = "completed_with_errors"
)

// Summary is a deployment's aggregate state and counts.
type Summary struct {
	Deployment string                            `json:"deployment"`
	State      Aggregate                         `json:"state"`
	Counts     map[patchcore.DeploymentState]int `json:"counts"`
	Items      int                               `json:"items"`
	Devices    int                               `json:"devices"`
	// FailedDevices counts devices with an item FailedFinal, Aborted or Unknown.
	FailedDevices int `json:"failed_devices"`
	// Blocked counts open items that are blocked (Item.Blocked): no
	// maintenance window will ever open for their install or restart.
	Blocked int    `json:"blocked"`
	Reason  string `json:"reason,omitempty"`
}

// isError reports a terminal state that counts against the error threshold.
func isError(s patchcore.DeploymentState) bool {
	return s == patchcore.DeployFailedFinal || s == patchcore.DeployAborted || s == patchcore.DeployUnknown
}

// Summarize computes d's aggregate state at now from its items (grouped
// by device, as Store.Items returns them).
func Summarize(d Deployment, items []Item, now time.Time) Summary {
	s := Summary{Deployment: d.ID, Counts: map[patchcore.DeploymentState]int{}, Items: len(items), Reason: d.StatusReason}
	open, blocked, pendingOnly, allPosted := 0, 0, true, true
	prev, prevFailed := "", false
	for i, it := range items {
		if i == 0 || it.Device != prev {
			s.Devices++
			prev, prevFailed = it.Device, false
		}
		s.Counts[it.State]++
		if isError(it.State) && !prevFailed {
			s.FailedDevices++
			prevFailed = true
		}
		if !it.State.Terminal() {
			open++
			if it.Blocked {
				blocked++
			} else if it.State != patchcore.DeployInstalledPendingReboot {
				pendingOnly = false
			}
		}
		if it.State != patchcore.DeployPosted {
			allPosted = false
		}
	}
	s.Blocked = blocked
	switch {
	case d.Status == StatusCancelled:
		s.State = AggregateCancelled
	case d.Status == StatusHalted:
		s.State = AggregateHalted
	case open == 0 && s.FailedDevices == 0:
		s.State = AggregateCompleted
	case open == 0:
		s.State = AggregateCompletedWithErrors
	case allPosted && now.Before(d.Start):
		s.State = AggregateScheduled
	case open == blocked:
		s.State = AggregateBlocked
	case pendingOnly:
		s.State = AggregatePendingReboot
	default:
		s.State = AggregateRunning
	}
	return s
}
