package deploy

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Frequency says on which days a [Recurrence] occurs.
type Frequency string

// Frequencies.
const (
	// Daily occurs every day.
	Daily Frequency = "daily"
	// Weekly occurs on each of Recurrence.Weekdays.
	Weekly Frequency = "weekly"
	// MonthlyNthWeekday occurs on the Nth Weekday of every month (the 2nd
	// Saturday; Nth -1 is the last one). Months without an Nth (a 5th
	// Monday) are skipped.
	MonthlyNthWeekday Frequency = "monthly_nth_weekday"
	// PatchTuesday occurs OffsetDays after the second Tuesday of every month
	// (Microsoft's release day): OffsetDays 4 is the Saturday after it.
	PatchTuesday Frequency = "patch_tuesday"
)

// maxOffsetDays bounds PatchTuesday offsets: a month away in either direction.
const maxOffsetDays = 31

// maxWindowDuration bounds a window's length.
const maxWindowDuration = 31 * 24 * time.Hour

// searchHorizonDays is how far ahead NextOpening looks before it concludes
// that a window never opens: a little over a year covers every recurrence.
const searchHorizonDays = 400

// TimeOfDay is a wall-clock time in a recurrence's time zone.
type TimeOfDay struct {
	Hour   int `json:"hour"`
	Minute int `json:"minute"`
}

// String formats t as "15:04".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// Recurrence is a wall-clock time that repeats on a calendar rule in an
// IANA time zone. Times that fall into a daylight-saving gap (02:30 on a
// spring-forward night) occur at the instant the clock jumps (03:00 new
// time); times that occur twice (02:30 on a fall-back night) occur at the
// first of the two instants.
type Recurrence struct {
	Frequency Frequency `json:"frequency"`
	// Weekdays are the days of a Weekly recurrence.
	Weekdays []time.Weekday `json:"weekdays,omitempty"`
	// Nth (1 to 5, or -1 for the last) and Weekday select the day of a
	// MonthlyNthWeekday recurrence.
	Nth     int          `json:"nth,omitempty"`
	Weekday time.Weekday `json:"weekday,omitempty"`
	// OffsetDays shifts a PatchTuesday recurrence from the second Tuesday
	// (-31 to 31).
	OffsetDays int `json:"offset_days,omitempty"`
	// At is the wall-clock time of each occurrence.
	At TimeOfDay `json:"at"`
	// Zone is an IANA time zone name ("Europe/Berlin"). Empty means the
	// target device's zone ([Target].Zone), or UTC when that is empty too.
	Zone string `json:"zone,omitempty"`
}

// Validate checks the recurrence's fields, naming the first bad one.
func (r Recurrence) Validate() error {
	switch {
	case r.At.Hour < 0 || r.At.Hour > 23:
		return fmt.Errorf("recurrence: field at.hour: %d not in 0..23: %w", r.At.Hour, patchcore.ErrInvalidInput)
	case r.At.Minute < 0 || r.At.Minute > 59:
		return fmt.Errorf("recurrence: field at.minute: %d not in 0..59: %w", r.At.Minute, patchcore.ErrInvalidInput)
	}
	switch r.Frequency {
	case Daily:
	case Weekly:
		for i, d := range r.Weekdays {
			if d < time.Sunday || d > time.Saturday {
				return fmt.Errorf("recurrence: field weekdays[%d]: %d is no weekday: %w", i, d, patchcore.ErrInvalidInput)
			}
		}
	case MonthlyNthWeekday:
		if r.Nth != -1 && (r.Nth < 1 || r.Nth > 5) {
			return fmt.Errorf("recurrence: field nth: %d not in 1..5 or -1: %w", r.Nth, patchcore.ErrInvalidInput)
		}
		if r.Weekday < time.Sunday || r.Weekday > time.Saturday {
			return fmt.Errorf("recurrence: field weekday: %d is no weekday: %w", r.Weekday, patchcore.ErrInvalidInput)
		}
	case PatchTuesday:
		if r.OffsetDays < -maxOffsetDays || r.OffsetDays > maxOffsetDays {
			return fmt.Errorf("recurrence: field offset_days: %d not in -%d..%d: %w", r.OffsetDays, maxOffsetDays, maxOffsetDays, patchcore.ErrInvalidInput)
		}
	default:
		return fmt.Errorf("recurrence: field frequency: %q is not daily, weekly, monthly_nth_weekday or patch_tuesday: %w", r.Frequency, patchcore.ErrInvalidInput)
	}
	if r.Zone != "" {
		if _, err := time.LoadLocation(r.Zone); err != nil {
			return fmt.Errorf("recurrence: field zone: %q: %v: %w", r.Zone, err, patchcore.ErrInvalidInput)
		}
	}
	return nil
}

// Location loads the recurrence's zone, falling back to targetZone and then UTC.
func (r Recurrence) Location(targetZone string) (*time.Location, error) {
	name := r.Zone
	if name == "" {
		name = targetZone
	}
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("loading time zone %q: %v: %w", name, err, patchcore.ErrInvalidInput)
	}
	return loc, nil
}

// civil is a calendar date without a zone.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// addDays returns the date n days after c (n may be negative).
func (c civil) addDays(n int) civil {
	return civilOf(time.Date(c.y, c.m, c.d+n, 0, 0, 0, 0, time.UTC))
}

func (c civil) weekday() time.Weekday {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, time.UTC).Weekday()
}

func (c civil) before(o civil) bool {
	if c.y != o.y {
		return c.y < o.y
	}
	if c.m != o.m {
		return c.m < o.m
	}
	return c.d < o.d
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nthWeekday returns the day of month of the nth (or last, n = -1) weekday
// wd in y-m, and false when the month has no such day.
func nthWeekday(y int, m time.Month, n int, wd time.Weekday) (int, bool) {
	if n == -1 {
		last := daysIn(y, m)
		wl := time.Date(y, m, last, 0, 0, 0, 0, time.UTC).Weekday()
		return last - (int(wl)-int(wd)+7)%7, true
	}
	w1 := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()
	day := 1 + (int(wd)-int(w1)+7)%7 + 7*(n-1)
	return day, day <= daysIn(y, m)
}

// PatchTuesdayOf returns the date of the second Tuesday of y-m (Microsoft's
// monthly security release day) as midnight UTC.
func PatchTuesdayOf(y int, m time.Month) time.Time {
	d, _ := nthWeekday(y, m, 2, time.Tuesday)
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// nextOn returns the first local date on or after c with an occurrence,
// looking at most searchHorizonDays ahead.
func (r Recurrence) nextOn(c civil) (civil, bool) {
	switch r.Frequency {
	case Daily:
		return c, true
	case Weekly:
		wd := c.weekday()
		best := -1
		for _, d := range r.Weekdays {
			if k := (int(d) - int(wd) + 7) % 7; best < 0 || k < best {
				best = k
			}
		}
		if best < 0 {
			return civil{}, false
		}
		return c.addDays(best), true
	case MonthlyNthWeekday, PatchTuesday:
		// Months in order give occurrences in order; a PatchTuesday offset
		// may move the occurrence of an earlier month into c's month.
		for dm := -2; dm <= searchHorizonDays/28; dm++ {
			y, m := c.y, c.m+time.Month(dm)
			var o civil
			if r.Frequency == PatchTuesday {
				o = civilOf(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)) // normalise the month
				o = civilOf(PatchTuesdayOf(o.y, o.m).AddDate(0, 0, r.OffsetDays))
			} else {
				n := civilOf(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC))
				d, ok := nthWeekday(n.y, n.m, r.Nth, r.Weekday)
				if !ok {
					continue
				}
				o = civil{n.y, n.m, d}
			}
			if !o.before(c) {
				return o, true
			}
		}
	}
	return civil{}, false
}

// ResolveLocal returns the instant at which the wall clock in loc reads
// y-m-d hh:mm. In a daylight-saving gap it returns the instant the clock
// jumps over the gap; when the wall time occurs twice it returns the first.
func ResolveLocal(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, hh, mm, 0, 0, time.UTC).Unix()
	guess := time.Date(y, m, d, hh, mm, 0, 0, loc)
	_, offBefore := guess.Add(-12 * time.Hour).Zone()
	_, offAfter := guess.Add(12 * time.Hour).Zone()
	if offBefore == offAfter {
		return time.Unix(wall-int64(offBefore), 0).In(loc)
	}
	var best time.Time
	for _, off := range [2]int{offBefore, offAfter} {
		t := time.Unix(wall-int64(off), 0).In(loc)
		ty, tm, td := t.Date()
		if ty == y && tm == m && td == d && t.Hour() == hh && t.Minute() == mm {
			if best.IsZero() || t.Before(best) {
				best = t
			}
		}
	}
	if !best.IsZero() {
		return best
	}
	// A gap: both readings are invalid. The earlier instant still lies in
	// the old zone, whose end is the jump.
	early := min(wall-int64(offBefore), wall-int64(offAfter))
	_, end := time.Unix(early, 0).In(loc).ZoneBounds()
	return end.In(loc)
}

// Window is a recurring maintenance window: installs and reboots happen
// only while one of a policy's windows is open. A window opens at each
// occurrence of its Recurrence and stays open for Duration of elapsed time
// (so a 22:00 window of 8 hours closes at 05:00 on a fall-back night).
type Window struct {
	Name       string `json:"name,omitempty"`
	Recurrence `json:"recurrence"`
	// Duration is how long each opening lasts (up to 31 days). A zero
	// duration never opens.
	Duration patchcore.Duration `json:"duration"`
	// NotBefore and NotAfter, when set, limit the openings to those that
	// start within [NotBefore, NotAfter).
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
}

// Opening is one occurrence of a window: open from Start (inclusive) to
// End (exclusive).
type Opening struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Contains reports whether t lies within the opening.
func (o Opening) Contains(t time.Time) bool { return !t.Before(o.Start) && t.Before(o.End) }

// NeverOpensError reports a maintenance window with no opening at or after
// a given time; installs that need it are blocked. It wraps
// patchcore.ErrInvalidInput.
type NeverOpensError struct {
	Window string
	After  time.Time
	Reason string
}

// Error says which window never opens and why.
func (e *NeverOpensError) Error() string {
	return fmt.Sprintf("maintenance window %q never opens: %s", e.Window, e.Reason)
}

// Unwrap returns patchcore.ErrInvalidInput.
func (e *NeverOpensError) Unwrap() error { return patchcore.ErrInvalidInput }

// Validate checks the window's fields, naming the first bad one.
func (w Window) Validate() error {
	if err := w.Recurrence.Validate(); err != nil {
		return fmt.Errorf("window %q: %w", w.Name, err)
	}
	if w.Duration < 0 || time.Duration(w.Duration) > maxWindowDuration {
		return fmt.Errorf("window %q: field duration: %s not in 0..%s: %w", w.Name, w.Duration, maxWindowDuration, patchcore.ErrInvalidInput)
	}
	if !w.NotBefore.IsZero() && !w.NotAfter.IsZero() && !w.NotBefore.Before(w.NotAfter) {
		return fmt.Errorf("window %q: field not_after: %s is not after not_before %s: %w", w.Name,
			w.NotAfter.Format(time.RFC3339), w.NotBefore.Format(time.RFC3339), patchcore.ErrInvalidInput)
	}
	return nil
}

func (w Window) valid(start time.Time) bool {
	return (w.NotBefore.IsZero() || !start.Before(w.NotBefore)) && (w.NotAfter.IsZero() || start.Before(w.NotAfter))
}

func (w Window) openingOn(c civil, loc *time.Location) Opening {
	s := ResolveLocal(c.y, c.m, c.d, w.At.Hour, w.At.Minute, loc)
	return Opening{Start: s, End: s.Add(time.Duration(w.Duration))}
}

// OpenAt reports whether the window is open at t, and the opening that
// contains t. targetZone is the device's IANA zone, which a recurrence
// without a zone of its own follows (empty: UTC); a zone that does not
// load is an error wrapping patchcore.ErrInvalidInput.
func (w Window) OpenAt(t time.Time, targetZone string) (Opening, bool, error) {
	loc, err := w.Location(targetZone)
	if err != nil {
		return Opening{}, false, fmt.Errorf("window %q: %w", w.Name, err)
	}
	o, ok := w.openingIn(t, loc)
	return o, ok, nil
}

// openingIn returns the opening that contains t, if the window is open at
// t, with the window's zone loaded as loc.
func (w Window) openingIn(t time.Time, loc *time.Location) (Opening, bool) {
	if w.Duration <= 0 {
		return Opening{}, false
	}
	local := t.In(loc)
	// Openings that may contain t start at most Duration (plus a day of
	// zone slack) before it.
	first := civilOf(local.Add(-time.Duration(w.Duration))).addDays(-1)
	last := civilOf(local)
	var found Opening
	ok := false
	for c := first; !last.before(c); c = c.addDays(1) {
		var more bool
		if c, more = w.nextOn(c); !more || last.before(c) {
			break
		}
		o := w.openingOn(c, loc)
		if o.Contains(t) && w.valid(o.Start) {
			if !ok || o.Start.Before(found.Start) {
				found, ok = o, true
			}
		}
	}
	return found, ok
}

// NextOpening returns the opening that contains after, or else the first
// one that starts after it. targetZone is as for OpenAt. A window with no
// such opening (zero duration, a weekly window without weekdays, NotAfter
// passed) returns a *NeverOpensError that says why.
func (w Window) NextOpening(after time.Time, targetZone string) (Opening, error) {
	loc, err := w.Location(targetZone)
	if err != nil {
		return Opening{}, fmt.Errorf("window %q: %w", w.Name, err)
	}
	return w.nextOpeningIn(after, loc)
}

// nextOpeningIn is NextOpening with the window's zone loaded as loc.
func (w Window) nextOpeningIn(after time.Time, loc *time.Location) (Opening, error) {
	never := func(reason string) error {
		return &NeverOpensError{Window: w.Name, After: after, Reason: reason}
	}
	switch {
	case w.Duration <= 0:
		return Opening{}, never("its duration is zero")
	case w.Frequency == Weekly && len(w.Weekdays) == 0:
		return Opening{}, never("it is weekly but names no weekday")
	case !w.NotAfter.IsZero() && !after.Before(w.NotAfter):
		return Opening{}, never("it is valid only until " + w.NotAfter.UTC().Format(time.RFC3339))
	}
	if o, ok := w.openingIn(after, loc); ok {
		return o, nil
	}
	c := civilOf(after.In(loc))
	horizon := c.addDays(searchHorizonDays)
	for !horizon.before(c) {
		var ok bool
		if c, ok = w.nextOn(c); !ok || horizon.before(c) {
			break
		}
		o := w.openingOn(c, loc)
		if o.Start.After(after) && w.valid(o.Start) {
			return o, nil
		}
		if !w.NotAfter.IsZero() && !o.Start.Before(w.NotAfter) {
			break
		}
		c = c.addDays(1)
	}
	return Opening{}, never(fmt.Sprintf("no occurrence of its %s recurrence within %d days", w.Frequency, searchHorizonDays))
}

// Windows is a policy's set of maintenance windows. An empty set is always
// open.
type Windows []Window

// zoned is a window with its zone loaded.
type zoned struct {
	w   Window
	loc *time.Location
}

// OpenAt reports whether any window is open at t, and until when.
// targetZone is as for Window.OpenAt. An empty set is always open (End is
// the zero time).
func (ws Windows) OpenAt(t time.Time, targetZone string) (Opening, bool, error) {
	zs, err := ws.zoned(targetZone)
	if err != nil {
		return Opening{}, false, err
	}
	o, ok := openAt(zs, t)
	return o, ok, nil
}

// NextOpening returns the earliest opening of any window that contains
// after or starts after it; targetZone is as for Window.OpenAt. When none
// ever opens it returns the windows'
// *NeverOpensError reasons joined. An empty set returns an opening that
// starts at after and never ends (zero End).
func (ws Windows) NextOpening(after time.Time, targetZone string) (Opening, error) {
	zs, err := ws.zoned(targetZone)
	if err != nil {
		return Opening{}, err
	}
	return nextOpening(zs, after)
}

func (ws Windows) zoned(targetZone string) ([]zoned, error) {
	return ws.zonedWith(nil, targetZone)
}

// zones caches loaded time zones: time.LoadLocation parses the zone file
// on every call.
type zones struct {
	mu sync.Mutex
	m  map[string]*time.Location
}

func (z *zones) load(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if loc, ok := z.m[name]; ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("loading time zone %q: %v: %w", name, err, patchcore.ErrInvalidInput)
	}
	if z.m == nil {
		z.m = map[string]*time.Location{}
	}
	z.m[name] = loc
	return loc, nil
}

// zonedWith loads the windows' zones through cache (nil: no cache).
func (ws Windows) zonedWith(cache *zones, targetZone string) ([]zoned, error) {
	zs := make([]zoned, len(ws))
	for i, w := range ws {
		var loc *time.Location
		var err error
		if cache == nil {
			loc, err = w.Location(targetZone)
		} else {
			name := w.Zone
			if name == "" {
				name = targetZone
			}
			loc, err = cache.load(name)
		}
		if err != nil {
			return nil, fmt.Errorf("window %q: %w", w.Name, err)
		}
		zs[i] = zoned{w, loc}
	}
	return zs, nil
}

func openAt(zs []zoned, t time.Time) (Opening, bool) {
	if len(zs) == 0 {
		return Opening{Start: t}, true
	}
	var best Opening
	ok := false
	for _, z := range zs {
		if o, open := z.w.openingIn(t, z.loc); open && (!ok || o.End.After(best.End)) {
			best, ok = o, true
		}
	}
	return best, ok
}

func nextOpening(zs []zoned, after time.Time) (Opening, error) {
	if len(zs) == 0 {
		return Opening{Start: after}, nil
	}
	var best Opening
	var errs []error
	ok := false
	for _, z := range zs {
		o, err := z.w.nextOpeningIn(after, z.loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok || o.Start.Before(best.Start) {
			best, ok = o, true
		}
	}
	if !ok {
		return Opening{}, errors.Join(errs...)
	}
	return best, nil
}
