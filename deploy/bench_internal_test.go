package deploy

import (
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/cputime"
	"github.com/patchcore/sdk/patchcore"
)

// BenchmarkNextOpening is one window computation (the weekend window and
// the Patch Tuesday one, Berlin zone loaded), what Plan and the runner pay
// per device and zone. It runs inside the package because the exported
// Window.NextOpening loads the zone on every call, which Plan and the
// runner do once per zone.
func BenchmarkNextOpening(b *testing.B) {
	ws := Windows{
		{Name: "weekend", Recurrence: Recurrence{Frequency: Weekly, Weekdays: []time.Weekday{time.Saturday, time.Sunday}, At: TimeOfDay{Hour: 2, Minute: 30}}, Duration: patchcore.Duration(3 * time.Hour)},
		{Name: "patch-tuesday+4", Recurrence: Recurrence{Frequency: PatchTuesday, OffsetDays: 4, At: TimeOfDay{Hour: 22}}, Duration: patchcore.Duration(4 * time.Hour)},
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	start, _ := cputime.Process()
	n := 0
	for b.Loop() {
		n++
		for _, w := range ws {
			if _, err := w.nextOpeningIn(t0, loc); err != nil {
				b.Fatal(err)
			}
		}
	}
	end, _ := cputime.Process()
	b.ReportMetric(float64(end-start)/float64(n), "cpu-ns/op")
}
