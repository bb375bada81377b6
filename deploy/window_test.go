package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

func TestResolveLocalAcrossDST(t *testing.T) {
	tests := []struct {
		name string
		zone string
		y    int
		m    time.Month
		d    int
		hh   int
		mm   int
		want time.Time
	}{
		{"Berlin ordinary winter day", "Europe/Berlin", 2026, 3, 28, 2, 30, utc(2026, 3, 28, 1, 30)},
		{"Berlin 02:30 on spring-forward day is in the gap: opens at the jump, 03:00 CEST", "Europe/Berlin", 2026, 3, 29, 2, 30, utc(2026, 3, 29, 1, 0)},
		{"Berlin 03:30 after the jump", "Europe/Berlin", 2026, 3, 29, 3, 30, utc(2026, 3, 29, 1, 30)},
		{"Berlin summer day", "Europe/Berlin", 2026, 3, 30, 2, 30, utc(2026, 3, 30, 0, 30)},
		{"Berlin 02:30 on fall-back day occurs twice: the first (CEST)", "Europe/Berlin", 2026, 10, 25, 2, 30, utc(2026, 10, 25, 0, 30)},
		{"Berlin 03:30 on fall-back day (CET)", "Europe/Berlin", 2026, 10, 25, 3, 30, utc(2026, 10, 25, 2, 30)},
		{"New York 02:30 on spring-forward day: 03:00 EDT", "America/New_York", 2026, 3, 8, 2, 30, utc(2026, 3, 8, 7, 0)},
		{"New York 01:59 before the jump", "America/New_York", 2026, 3, 8, 1, 59, utc(2026, 3, 8, 6, 59)},
		{"New York 01:30 on fall-back day: the first (EDT)", "America/New_York", 2026, 11, 1, 1, 30, utc(2026, 11, 1, 5, 30)},
		{"New York 02:30 on fall-back day (EST)", "America/New_York", 2026, 11, 1, 2, 30, utc(2026, 11, 1, 7, 30)},
		{"UTC", "UTC", 2026, 3, 29, 2, 30, utc(2026, 3, 29, 2, 30)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := deploy.ResolveLocal(tc.y, tc.m, tc.d, tc.hh, tc.mm, mustLoc(t, tc.zone))
			if !got.Equal(tc.want) {
				t.Errorf("ResolveLocal = %s (%s), want %s", got.UTC(), got, tc.want)
			}
		})
	}
}

func daily(hh, mm int, zone string, d time.Duration) deploy.Window {
	return deploy.Window{Name: "daily", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: hh, Minute: mm}, Zone: zone}, Duration: patchcore.Duration(d)}
}

func TestNextOpening(t *testing.T) {
	tests := []struct {
		name      string
		w         deploy.Window
		after     time.Time
		wantStart time.Time
		wantEnd   time.Time
	}{
		{"Berlin daily 02:30 the night before spring-forward", daily(2, 30, "Europe/Berlin", time.Hour), utc(2026, 3, 27, 12, 0), utc(2026, 3, 28, 1, 30), utc(2026, 3, 28, 2, 30)},
		{"Berlin daily 02:30 on spring-forward day opens at 03:00 CEST", daily(2, 30, "Europe/Berlin", time.Hour), utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)},
		{"Berlin daily 02:30 the day after", daily(2, 30, "Europe/Berlin", time.Hour), utc(2026, 3, 29, 12, 0), utc(2026, 3, 30, 0, 30), utc(2026, 3, 30, 1, 30)},
		{"Berlin daily 02:30 on fall-back day opens once, at the first 02:30", daily(2, 30, "Europe/Berlin", time.Hour), utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)},
		{"New York 22:00 for 8h over fall-back closes at 05:00 EST (elapsed hours)", daily(22, 0, "America/New_York", 8*time.Hour), utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 10, 0)},
		{"New York 22:00 for 8h over spring-forward closes at 07:00 EDT", daily(22, 0, "America/New_York", 8*time.Hour), utc(2026, 3, 7, 12, 0), utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 11, 0)},
		{"open window returns the current opening", daily(23, 0, "UTC", 3*time.Hour), utc(2026, 3, 3, 1, 0), utc(2026, 3, 2, 23, 0), utc(2026, 3, 3, 2, 0)},
		{"start instant is inside", daily(23, 0, "UTC", 3*time.Hour), utc(2026, 3, 2, 23, 0), utc(2026, 3, 2, 23, 0), utc(2026, 3, 3, 2, 0)},
		{"end instant is outside", daily(23, 0, "UTC", 3*time.Hour), utc(2026, 3, 3, 2, 0), utc(2026, 3, 3, 23, 0), utc(2026, 3, 4, 2, 0)},
		{"weekly Sunday 01:30 New York over fall-back", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Sunday},
			At: deploy.TimeOfDay{Hour: 1, Minute: 30}, Zone: "America/New_York"}, Duration: patchcore.Duration(2 * time.Hour)}, utc(2026, 10, 28, 0, 0), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 7, 30)},
		{"weekly Sat+Sun picks Saturday first", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Sunday, time.Saturday},
			At: deploy.TimeOfDay{Hour: 4}, Zone: "UTC"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 2, 0, 0), utc(2026, 3, 7, 4, 0), utc(2026, 3, 7, 5, 0)},
		{"Patch Tuesday March 2026 is the 10th", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, At: deploy.TimeOfDay{Hour: 18}, Zone: "UTC"},
			Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 1, 0, 0), utc(2026, 3, 10, 18, 0), utc(2026, 3, 10, 19, 0)},
		{"Patch Tuesday + 4 days (Saturday) in Berlin", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: 4, At: deploy.TimeOfDay{Hour: 22},
			Zone: "Europe/Berlin"}, Duration: patchcore.Duration(4 * time.Hour)}, utc(2026, 3, 11, 0, 0), utc(2026, 3, 14, 21, 0), utc(2026, 3, 15, 1, 0)},
		{"Patch Tuesday + 25 days crosses into the next month", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: 25, At: deploy.TimeOfDay{Hour: 1},
			Zone: "UTC"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 20, 0, 0), utc(2026, 4, 4, 1, 0), utc(2026, 4, 4, 2, 0)},
		{"Patch Tuesday - 1 day (Monday before)", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: -1, At: deploy.TimeOfDay{Hour: 1},
			Zone: "UTC"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 20, 0, 0), utc(2026, 4, 13, 1, 0), utc(2026, 4, 13, 2, 0)},
		{"5th Friday skips months without one", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.MonthlyNthWeekday, Nth: 5, Weekday: time.Friday,
			At: deploy.TimeOfDay{Hour: 20}, Zone: "UTC"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 2, 1, 0, 0), utc(2026, 5, 29, 20, 0), utc(2026, 5, 29, 21, 0)},
		{"last Sunday of March in Berlin is the spring-forward day", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.MonthlyNthWeekday, Nth: -1, Weekday: time.Sunday,
			At: deploy.TimeOfDay{Hour: 2, Minute: 30}, Zone: "Europe/Berlin"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 1, 0, 0), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)},
		{"2nd Saturday", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.MonthlyNthWeekday, Nth: 2, Weekday: time.Saturday,
			At: deploy.TimeOfDay{Hour: 0}, Zone: "UTC"}, Duration: patchcore.Duration(time.Hour)}, utc(2026, 3, 15, 0, 0), utc(2026, 4, 11, 0, 0), utc(2026, 4, 11, 1, 0)},
		{"NotBefore skips earlier openings", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 1}, Zone: "UTC"},
			Duration: patchcore.Duration(time.Hour), NotBefore: utc(2026, 3, 5, 0, 0)}, utc(2026, 3, 1, 0, 0), utc(2026, 3, 5, 1, 0), utc(2026, 3, 5, 2, 0)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.w.NextOpening(tc.after, "")
			if err != nil {
				t.Fatal(err)
			}
			if !o.Start.Equal(tc.wantStart) || !o.End.Equal(tc.wantEnd) {
				t.Errorf("NextOpening = [%s, %s), want [%s, %s)", o.Start.UTC(), o.End.UTC(), tc.wantStart, tc.wantEnd)
			}
			for _, at := range []struct {
				t    time.Time
				open bool
			}{{tc.wantStart, true}, {tc.wantEnd.Add(-time.Nanosecond), true}, {tc.wantEnd, false}, {tc.wantStart.Add(-time.Nanosecond), false}} {
				o, open, err := tc.w.OpenAt(at.t, "")
				if err != nil || open != at.open || open && !o.Start.Equal(tc.wantStart) {
					t.Errorf("OpenAt(%s) = [%s, %s) %v, %v; want open %v", at.t.UTC(), o.Start.UTC(), o.End.UTC(), open, err, at.open)
				}
			}
		})
	}
}

func TestWindowsNeverOpen(t *testing.T) {
	tests := []struct {
		name   string
		w      deploy.Window
		reason string
	}{
		{"zero duration", daily(1, 0, "UTC", 0), "duration is zero"},
		{"weekly without weekdays", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.Weekly}, Duration: patchcore.Duration(time.Hour)}, "names no weekday"},
		{"validity ended", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.Daily}, Duration: patchcore.Duration(time.Hour), NotAfter: utc(2026, 1, 1, 0, 0)}, "valid only until"},
		{"validity ends before the next occurrence", deploy.Window{Recurrence: deploy.Recurrence{Frequency: deploy.MonthlyNthWeekday, Nth: 5, Weekday: time.Friday},
			Duration: patchcore.Duration(time.Hour), NotAfter: utc(2026, 5, 1, 0, 0)}, "no occurrence"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.w.Name = "w"
			_, err := deploy.Windows{tc.w}.NextOpening(utc(2026, 2, 1, 0, 0), "")
			var never *deploy.NeverOpensError
			if !errors.As(err, &never) || !errors.Is(err, patchcore.ErrInvalidInput) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("NextOpening = %v, want a NeverOpensError saying %q", err, tc.reason)
			}
		})
	}
	// One window that opens is enough.
	if _, err := (deploy.Windows{daily(1, 0, "UTC", 0), daily(2, 0, "UTC", time.Hour)}).NextOpening(t0, ""); err != nil {
		t.Errorf("a set with one good window: %v", err)
	}
}

func TestWindowUsesTargetZone(t *testing.T) {
	w := daily(2, 30, "", time.Hour)
	ws := deploy.Windows{w}
	o, err := ws.NextOpening(utc(2026, 3, 28, 12, 0), "Europe/Berlin")
	if err != nil || !o.Start.Equal(utc(2026, 3, 29, 1, 0)) {
		t.Fatalf("Berlin target: %v %v", o, err)
	}
	if wo, err := w.NextOpening(utc(2026, 3, 28, 12, 0), "Europe/Berlin"); err != nil || !wo.Start.Equal(o.Start) || !wo.End.Equal(o.End) {
		t.Errorf("Window.NextOpening with the Berlin target = %v %v, want the set's %v", wo, err, o)
	}
	o, err = ws.NextOpening(utc(2026, 3, 28, 12, 0), "")
	if err != nil || !o.Start.Equal(utc(2026, 3, 29, 2, 30)) {
		t.Fatalf("no zone means UTC: %v %v", o, err)
	}
	if _, _, err := ws[0].OpenAt(t0, "Mars/Olympus"); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("Window.OpenAt with a bad zone: %v", err)
	}
	if _, err := ws[0].NextOpening(t0, "Mars/Olympus"); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("Window.NextOpening with a bad zone: %v", err)
	}
	if _, _, err := ws.OpenAt(t0, "Mars/Olympus"); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Fatalf("bad zone: %v", err)
	}
}

func TestWindowValidate(t *testing.T) {
	bad := []deploy.Window{
		daily(24, 0, "UTC", time.Hour),
		daily(1, 60, "UTC", time.Hour),
		daily(1, 0, "Nowhere/City", time.Hour),
		daily(1, 0, "UTC", -time.Hour),
		daily(1, 0, "UTC", 32*24*time.Hour),
		{Recurrence: deploy.Recurrence{Frequency: "hourly"}, Duration: patchcore.Duration(time.Hour)},
		{Recurrence: deploy.Recurrence{Frequency: deploy.MonthlyNthWeekday, Nth: 6}, Duration: patchcore.Duration(time.Hour)},
		{Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: 40}, Duration: patchcore.Duration(time.Hour)},
		{Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{7}}, Duration: patchcore.Duration(time.Hour)},
		{Recurrence: deploy.Recurrence{Frequency: deploy.Daily}, Duration: patchcore.Duration(time.Hour), NotBefore: t0, NotAfter: t0},
	}
	for i, w := range bad {
		if err := w.Validate(); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("%d: Validate(%+v) = %v, want ErrInvalidInput", i, w, err)
		}
	}
	if err := daily(2, 30, "Europe/Berlin", time.Hour).Validate(); err != nil {
		t.Error(err)
	}
}

func TestPatchTuesdayOf(t *testing.T) {
	want := map[time.Month]int{1: 13, 2: 10, 3: 10, 4: 14, 5: 12, 6: 9, 7: 14, 8: 11, 9: 8, 10: 13, 11: 10, 12: 8}
	for m, d := range want {
		if got := deploy.PatchTuesdayOf(2026, m); got.Day() != d || got.Weekday() != time.Tuesday {
			t.Errorf("2026-%02d: %s, want day %d", m, got, d)
		}
	}
}

// TestInstallAtSpringForwardWindow runs a deployment whose weekly window
// (Sunday 02:30 Berlin) falls into the spring-forward gap: the install
// happens at 03:00 CEST, not an hour late and not never.
func TestInstallAtSpringForwardWindow(t *testing.T) {
	h := newHarness(t, nil)
	h.clock.Set(utc(2026, 3, 27, 10, 0)) // Friday
	w := deploy.Window{Name: "sunday", Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Sunday},
		At: deploy.TimeOfDay{Hour: 2, Minute: 30}}, Duration: patchcore.Duration(30 * time.Minute)}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: []deploy.Target{{Device: "berlin", Zone: "Europe/Berlin"}, {Device: "ny", Zone: "America/New_York"}},
		Policy: deploy.Policy{Windows: deploy.Windows{w}}})
	installs := map[string]time.Time{}
	h.inst.OnEffect = func(e deploytestEffect) error {
		if e.Kind == "install" {
			installs[e.Op.Device] = h.clock.Now()
		}
		return nil
	}
	h.drive("dep", 20)
	if got, want := installs["berlin"], utc(2026, 3, 29, 1, 0); !got.Equal(want) {
		t.Errorf("berlin installed at %s, want %s (03:00 CEST)", got, want)
	}
	// New York had its spring-forward on March 8; 02:30 EDT = 06:30 UTC.
	if got, want := installs["ny"], utc(2026, 3, 29, 6, 30); !got.Equal(want) {
		t.Errorf("ny installed at %s, want %s", got, want)
	}
}

// TestScheduledRebootAcrossFallBack: the restart is scheduled for 01:30
// device time on the New York fall-back night and happens once, at the
// first 01:30.
func TestScheduledRebootAcrossFallBack(t *testing.T) {
	h := newHarness(t, map[string]deploytestBehavior{"ny/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}})
	h.clock.Set(utc(2026, 10, 31, 20, 0))
	var reboots []time.Time
	h.inst.OnEffect = func(e deploytestEffect) error {
		if e.Kind == "reboot" {
			reboots = append(reboots, h.clock.Now())
		}
		return nil
	}
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: []deploy.Target{{Device: "ny", Zone: "America/New_York"}},
		Policy: deploy.Policy{Reboot: deploy.RebootPolicy{Timing: deploy.RebootTimingScheduled, At: deploy.TimeOfDay{Hour: 1, Minute: 30}}}})
	res := h.drive("dep", 20)
	if !res.Done || len(reboots) != 1 || !reboots[0].Equal(utc(2026, 11, 1, 5, 30)) {
		t.Fatalf("done %v, reboots %v, want one at 2026-11-01 05:30 UTC", res.Done, reboots)
	}
}

func TestRebootDeferredToNextWindow(t *testing.T) {
	h := newHarness(t, map[string]deploytestBehavior{"d/P1": {Install: []deploy.OpResult{{Outcome: deploy.OutcomeRebootRequired}}}})
	var reboots []time.Time
	h.inst.OnEffect = func(e deploytestEffect) error {
		if e.Kind == "reboot" {
			reboots = append(reboots, h.clock.Now())
		}
		return nil
	}
	// Window every day 09:00-10:00 UTC; t0 is Monday 09:00.
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d"),
		Policy: deploy.Policy{Windows: deploy.Windows{daily(9, 0, "UTC", time.Hour)}, Reboot: deploy.RebootPolicy{Timing: deploy.RebootTimingNextWindow}}})
	h.drive("dep", 20)
	if len(reboots) != 1 || !reboots[0].Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("reboots %v, want one at the next window %s", reboots, t0.Add(24*time.Hour))
	}
}

func TestScheduleNext(t *testing.T) {
	r := &deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: 7, At: deploy.TimeOfDay{Hour: 20}, Zone: "America/New_York"}
	got, err := deploy.Schedule{Kind: deploy.Recurring, Recurrence: r}.Next(t0)
	if err != nil || !got.Equal(utc(2026, 3, 18, 0, 0)) { // March 17 20:00 EDT
		t.Fatalf("Next = %s, %v", got, err)
	}
	if got, _ := (deploy.Schedule{}).Next(t0); !got.Equal(t0) {
		t.Errorf("on demand = %s", got)
	}
	if _, err := (deploy.Schedule{Kind: "sometimes"}).Next(t0); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("bad kind: %v", err)
	}
	_ = context.Background
}
