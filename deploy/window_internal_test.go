package deploy

import (
	"math/rand/v2"
	"testing"
	"time"
)

// occursOnBrute is the definition nextOn must agree with.
func occursOnBrute(r Recurrence, c civil) bool {
	switch r.Frequency {
	case Daily:
		return true
	case Weekly:
		for _, d := range r.Weekdays {
			if d == c.weekday() {
				return true
			}
		}
	case MonthlyNthWeekday:
		d, ok := nthWeekday(c.y, c.m, r.Nth, r.Weekday)
		return ok && d == c.d
	case PatchTuesday:
		for dm := -2; dm <= 2; dm++ {
			n := civilOf(time.Date(c.y, c.m+time.Month(dm), 1, 0, 0, 0, 0, time.UTC))
			if civilOf(PatchTuesdayOf(n.y, n.m).AddDate(0, 0, r.OffsetDays)) == c {
				return true
			}
		}
	}
	return false
}

func TestNextOnMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	freqs := []Frequency{Daily, Weekly, MonthlyNthWeekday, PatchTuesday}
	for range 3000 {
		r := Recurrence{Frequency: freqs[rng.IntN(len(freqs))], Nth: []int{-1, 1, 2, 3, 4, 5}[rng.IntN(6)],
			Weekday: time.Weekday(rng.IntN(7)), OffsetDays: rng.IntN(63) - 31}
		for range rng.IntN(3) {
			r.Weekdays = append(r.Weekdays, time.Weekday(rng.IntN(7)))
		}
		from := civilOf(time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC))
		got, ok := r.nextOn(from)
		want, wantOK := civil{}, false
		for c := from; c.before(from.addDays(searchHorizonDays)); c = c.addDays(1) {
			if occursOnBrute(r, c) {
				want, wantOK = c, true
				break
			}
		}
		if ok != wantOK || got != want {
			t.Fatalf("%+v from %v: nextOn = %v %v, brute force %v %v", r, from, got, ok, want, wantOK)
		}
	}
}
