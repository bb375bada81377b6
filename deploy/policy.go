package deploy

import (
	"fmt"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Defaults applied by Policy.WithDefaults.
const (
	DefaultRetries       = 3
	DefaultBackoff       = 5 * time.Minute
	DefaultMaxBackoff    = time.Hour
	DefaultPurgeAfter    = 72 * time.Hour
	DefaultMaxReboots    = 3
	DefaultRebootGrace   = 5 * time.Minute
	DefaultDeferralRetry = time.Hour
	DefaultPollInterval  = time.Minute
)

// ScheduleKind says when a deployment starts.
type ScheduleKind string

// Schedule kinds.
const (
	// OnDemand starts the deployment as soon as it is created.
	OnDemand ScheduleKind = "on_demand"
	// AtTime starts it at Schedule.At.
	AtTime ScheduleKind = "at"
	// Recurring starts it at the next occurrence of Schedule.Recurrence; a
	// server creates one deployment per occurrence (see Schedule.Next).
	Recurring ScheduleKind = "recurring"
)

// Schedule says when a deployment starts.
type Schedule struct {
	Kind       ScheduleKind `json:"kind"`
	At         time.Time    `json:"at,omitzero"`
	Recurrence *Recurrence  `json:"recurrence,omitempty"`
}

// Next returns the first start at or after t. On demand starts at t.
func (s Schedule) Next(t time.Time) (time.Time, error) {
	switch s.Kind {
	case "", OnDemand:
		return t, nil
	case AtTime:
		if s.At.Before(t) {
			return t, nil
		}
		return s.At, nil
	case Recurring:
		if s.Recurrence == nil {
			return time.Time{}, fmt.Errorf("schedule: field recurrence: missing for a recurring schedule: %w", patchcore.ErrInvalidInput)
		}
		// A recurrence is a window of one minute.
		w := Window{Name: "schedule", Recurrence: *s.Recurrence, Duration: patchcore.Duration(time.Minute)}
		loc, err := s.Recurrence.Location("")
		if err != nil {
			return time.Time{}, err
		}
		o, err := w.nextOpeningIn(t, loc)
		if err != nil {
			return time.Time{}, err
		}
		if o.Start.Before(t) {
			return t, nil
		}
		return o.Start, nil
	}
	return time.Time{}, fmt.Errorf("schedule: field kind: %q is not on_demand, at or recurring: %w", s.Kind, patchcore.ErrInvalidInput)
}

// RebootOption is a deployment policy's choice whether a device restarts
// after installing. It is not patchcore.RebootBehavior, which says whether
// a patch needs a restart (patchcore.RebootNever: it never does); so that
// the two do not read alike, deploy's constants carry their type's name.
type RebootOption string

// Reboot options.
const (
	// RebootOptionIfRequired restarts when an install reports that it needs one.
	RebootOptionIfRequired RebootOption = "if_required"
	// RebootOptionNever never restarts; patches stay pending until the user
	// restarts and a rescan confirms them.
	RebootOptionNever RebootOption = "never"
	// RebootOptionAlways restarts after every install cycle.
	RebootOptionAlways RebootOption = "always"
)

// RebootTiming says when the restart happens.
type RebootTiming string

// Reboot timings.
const (
	// RebootTimingEndOfCycle restarts right after the device's installs, while
	// the window is still open; if it has closed, at the next window.
	RebootTimingEndOfCycle RebootTiming = "end_of_cycle"
	// RebootTimingScheduled restarts at the next RebootPolicy.At in the device's
	// zone (or the policy's windows' zone).
	RebootTimingScheduled RebootTiming = "scheduled"
	// RebootTimingNextWindow defers the restart to the next maintenance window
	// after the one the installs ran in.
	RebootTimingNextWindow RebootTiming = "next_window"
)

// RebootPolicy configures restarts and the reboot-loop guard.
type RebootPolicy struct {
	Option RebootOption `json:"option"`
	Timing RebootTiming `json:"timing"`
	// At is the wall-clock time of a scheduled restart; Zone its IANA zone
	// (empty: the device's zone).
	At   TimeOfDay `json:"at,omitzero"`
	Zone string    `json:"zone,omitempty"`
	// MaxReboots stops restarting a device after this many restarts for the
	// same deployment while patches still wait for one (default 3): the
	// patches become Unknown instead of looping.
	MaxReboots int `json:"max_reboots,omitempty"`
	// Grace is how long after a restart the verification rescan runs (default 5m).
	Grace patchcore.Duration `json:"grace,omitempty"`
}

// Deferral lets the user postpone installs and restarts.
type Deferral struct {
	// MaxCount is how often a user may defer (0: never).
	MaxCount int `json:"max_count,omitempty"`
	// Within is the deadline, counted from the deployment's start, after
	// which no deferral is accepted (0: only MaxCount limits).
	Within patchcore.Duration `json:"within,omitempty"`
	// RetryAfter is how long a deferral postpones (default 1h).
	RetryAfter patchcore.Duration `json:"retry_after,omitempty"`
}

// RetryPolicy configures retries after a failed download or install.
type RetryPolicy struct {
	// Retries is the number of retries after the first attempt (default 3;
	// set Disabled for none).
	Retries  int  `json:"retries,omitempty"`
	Disabled bool `json:"disabled,omitempty"`
	// Backoff is the wait before the first retry, doubled for each further
	// one up to MaxBackoff (defaults 5m and 1h).
	Backoff    patchcore.Duration `json:"backoff,omitempty"`
	MaxBackoff patchcore.Duration `json:"max_backoff,omitempty"`
}

// Delay returns the backoff before retry number n (1-based).
func (r RetryPolicy) Delay(n int) time.Duration {
	d, top := time.Duration(r.Backoff), time.Duration(r.MaxBackoff)
	for i := 1; i < n && d < top; i++ {
		d *= 2
	}
	return min(d, top)
}

// Step is a pre- or post-install step the caller's [StepRunner] runs on the
// device (stop a service, take a snapshot, run a health check).
type Step struct {
	// Name identifies the step within its phase: it is part of the step's
	// operation ID, so the pre-steps' names must differ from each other,
	// and the post-steps' (a pre- and a post-step may share one).
	Name string `json:"name"`
	// Action is opaque to deploy: the StepRunner interprets it.
	Action string `json:"action"`
	// ContinueOnError lets the cycle go on when the step fails. A failed
	// pre-step otherwise fails the install attempt.
	ContinueOnError bool `json:"continue_on_error,omitempty"`
}

// Threshold is an error budget: it is exceeded when more than Count
// devices fail, or more than Percent of a stage's devices. Zero fields are
// ignored; a zero Threshold never halts.
type Threshold struct {
	Count   int     `json:"count,omitempty"`
	Percent float64 `json:"percent,omitempty"`
}

// Exceeded reports whether failed out of total devices exceeds t.
func (t Threshold) Exceeded(failed, total int) bool {
	if t.Count > 0 && failed > t.Count {
		return true
	}
	if t.Percent > 0 && total > 0 && float64(failed)*100 > t.Percent*float64(total) {
		return true
	}
	return false
}

// Rollout orders the devices into stages: rings (in the order of Rings,
// matching Target.Ring) or waves (percentages of the devices). A stage
// starts only when every device of the previous stage has settled and the
// error threshold was not exceeded; once exceeded, the deployment halts.
type Rollout struct {
	// Rings lists ring names in rollout order. Devices whose ring is not
	// listed form a last stage.
	Rings []string `json:"rings,omitempty"`
	// Waves splits the devices, in target order, into consecutive stages of
	// these percentages (the last wave takes the rest). Ignored when Rings is set.
	Waves []float64 `json:"waves,omitempty"`
	// MaxConcurrency limits how many devices are in progress at once (0: no limit).
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// ErrorThreshold halts the rollout, per stage.
	ErrorThreshold Threshold `json:"error_threshold,omitzero"`
}

// Policy is how a deployment runs.
type Policy struct {
	Schedule Schedule     `json:"schedule,omitzero"`
	Windows  Windows      `json:"windows,omitempty"`
	Reboot   RebootPolicy `json:"reboot,omitzero"`
	Deferral Deferral     `json:"deferral,omitzero"`
	Retry    RetryPolicy  `json:"retry,omitzero"`
	// PurgeAfter aborts the open items of a device that has not answered
	// for this long (default 72h).
	PurgeAfter patchcore.Duration `json:"purge_after,omitempty"`
	PreSteps   []Step             `json:"pre_steps,omitempty"`
	PostSteps  []Step             `json:"post_steps,omitempty"`
	Rollout    Rollout            `json:"rollout,omitzero"`
	// PollInterval is how soon a waiting device (another deployment in
	// progress, device unreachable) is tried again (default 1m).
	PollInterval patchcore.Duration `json:"poll_interval,omitempty"`
}

// WithDefaults returns p with every unset field at its default.
func (p Policy) WithDefaults() Policy {
	if p.Schedule.Kind == "" {
		p.Schedule.Kind = OnDemand
	}
	if p.Reboot.Option == "" {
		p.Reboot.Option = RebootOptionIfRequired
	}
	if p.Reboot.Timing == "" {
		p.Reboot.Timing = RebootTimingEndOfCycle
	}
	if p.Reboot.MaxReboots == 0 {
		p.Reboot.MaxReboots = DefaultMaxReboots
	}
	if p.Reboot.Grace == 0 {
		p.Reboot.Grace = patchcore.Duration(DefaultRebootGrace)
	}
	if p.Deferral.RetryAfter == 0 {
		p.Deferral.RetryAfter = patchcore.Duration(DefaultDeferralRetry)
	}
	if p.Retry.Disabled {
		p.Retry.Retries = 0
	} else if p.Retry.Retries == 0 {
		p.Retry.Retries = DefaultRetries
	}
	if p.Retry.Backoff == 0 {
		p.Retry.Backoff = patchcore.Duration(DefaultBackoff)
	}
	if p.Retry.MaxBackoff == 0 {
		p.Retry.MaxBackoff = max(patchcore.Duration(DefaultMaxBackoff), p.Retry.Backoff)
	}
	if p.PurgeAfter == 0 {
		p.PurgeAfter = patchcore.Duration(DefaultPurgeAfter)
	}
	if p.PollInterval == 0 {
		p.PollInterval = patchcore.Duration(DefaultPollInterval)
	}
	return p
}

// Validate checks the policy, naming the first bad field.
func (p Policy) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("policy: field %s: %s: %w", field, fmt.Sprintf(format, args...), patchcore.ErrInvalidInput)
	}
	switch p.Schedule.Kind {
	case "", OnDemand, AtTime:
	case Recurring:
		if p.Schedule.Recurrence == nil {
			return bad("schedule.recurrence", "missing for a recurring schedule")
		}
		if err := p.Schedule.Recurrence.Validate(); err != nil {
			return fmt.Errorf("policy: field schedule: %w", err)
		}
	default:
		return bad("schedule.kind", "%q is not on_demand, at or recurring", p.Schedule.Kind)
	}
	for i, w := range p.Windows {
		if err := w.Validate(); err != nil {
			return fmt.Errorf("policy: field windows[%d]: %w", i, err)
		}
	}
	switch p.Reboot.Option {
	case "", RebootOptionIfRequired, RebootOptionNever, RebootOptionAlways:
	default:
		return bad("reboot.option", "%q is not never, if_required or always", p.Reboot.Option)
	}
	switch p.Reboot.Timing {
	case "", RebootTimingEndOfCycle, RebootTimingNextWindow:
	case RebootTimingScheduled:
		if p.Reboot.At.Hour < 0 || p.Reboot.At.Hour > 23 || p.Reboot.At.Minute < 0 || p.Reboot.At.Minute > 59 {
			return bad("reboot.at", "%s is no time of day", p.Reboot.At)
		}
	default:
		return bad("reboot.timing", "%q is not end_of_cycle, scheduled or next_window", p.Reboot.Timing)
	}
	if p.Reboot.Zone != "" {
		if _, err := time.LoadLocation(p.Reboot.Zone); err != nil {
			return bad("reboot.zone", "%q: %v", p.Reboot.Zone, err)
		}
	}
	switch {
	case p.Reboot.MaxReboots < 0:
		return bad("reboot.max_reboots", "%d is negative", p.Reboot.MaxReboots)
	case p.Reboot.Grace < 0:
		return bad("reboot.grace", "%s is negative", p.Reboot.Grace)
	case p.Deferral.MaxCount < 0:
		return bad("deferral.max_count", "%d is negative", p.Deferral.MaxCount)
	case p.Deferral.Within < 0:
		return bad("deferral.within", "%s is negative", p.Deferral.Within)
	case p.Deferral.RetryAfter < 0:
		return bad("deferral.retry_after", "%s is negative", p.Deferral.RetryAfter)
	case p.Retry.Retries < 0:
		return bad("retry.retries", "%d is negative", p.Retry.Retries)
	case p.Retry.Backoff < 0:
		return bad("retry.backoff", "%s is negative", p.Retry.Backoff)
	case p.Retry.MaxBackoff < 0:
		return bad("retry.max_backoff", "%s is negative", p.Retry.MaxBackoff)
	case p.PurgeAfter < 0:
		return bad("purge_after", "%s is negative", p.PurgeAfter)
	case p.PollInterval < 0:
		return bad("poll_interval", "%s is negative", p.PollInterval)
	case p.Rollout.MaxConcurrency < 0:
		return bad("rollout.max_concurrency", "%d is negative", p.Rollout.MaxConcurrency)
	case p.Rollout.ErrorThreshold.Count < 0:
		return bad("rollout.error_threshold.count", "%d is negative", p.Rollout.ErrorThreshold.Count)
	case p.Rollout.ErrorThreshold.Percent < 0 || p.Rollout.ErrorThreshold.Percent > 100:
		return bad("rollout.error_threshold.percent", "%g not in 0..100", p.Rollout.ErrorThreshold.Percent)
	}
	for i, w := range p.Rollout.Waves {
		if w <= 0 || w > 100 {
			return bad(fmt.Sprintf("rollout.waves[%d]", i), "%g not in (0, 100]", w)
		}
	}
	for _, ph := range []struct {
		field string
		steps []Step
	}{{"pre_steps", p.PreSteps}, {"post_steps", p.PostSteps}} {
		seen := make(map[string]int, len(ph.steps))
		for i, s := range ph.steps {
			field := fmt.Sprintf("%s[%d].name", ph.field, i)
			if s.Name == "" {
				return bad(field, "empty")
			}
			if j, dup := seen[s.Name]; dup {
				return bad(field, "%q names %s[%d] too; a step's name identifies it within its phase", s.Name, ph.field, j)
			}
			seen[s.Name] = i
		}
	}
	return nil
}

// limits are the guard parameters of the state machine.
func (p Policy) limits(start time.Time) Limits {
	l := Limits{Retries: p.Retry.Retries, MaxDeferrals: p.Deferral.MaxCount, MaxReboots: p.Reboot.MaxReboots}
	if p.Deferral.Within > 0 {
		l.DeferralDeadline = start.Add(time.Duration(p.Deferral.Within))
	}
	return l
}

// hasSteps reports whether the policy has pre- or post-steps.
func (p Policy) hasSteps() bool { return len(p.PreSteps)+len(p.PostSteps) > 0 }
