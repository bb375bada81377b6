package deploytest_test

import (
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy/deploytest"
)

func TestClockAfter(t *testing.T) {
	t0 := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	c := deploytest.NewClock(t0)
	ch := c.After(time.Hour)
	now := c.After(0)
	select {
	case <-now:
	default:
		t.Fatal("After(0) did not fire at once")
	}
	c.Advance(59 * time.Minute)
	select {
	case <-ch:
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Minute)
	select {
	case got := <-ch:
		if !got.Equal(t0.Add(time.Hour)) {
			t.Fatalf("fired with %s", got)
		}
	default:
		t.Fatal("did not fire")
	}
	c.Set(t0) // never backwards
	if !c.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("clock went back to %s", c.Now())
	}
}
