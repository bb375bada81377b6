package approve

import (
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/cputime"
)

// cpuClock measures the process's CPU time (user + system, every thread),
// so that a benchmark on a shared machine can report throughput per CPU
// second rather than per wall-clock second.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock {
	d, _ := cputime.Process()
	return cpuClock{d}
}

// report adds a "devices/cpu-s" metric where the platform reports CPU time.
func (c cpuClock) report(b *testing.B, devices float64) {
	now, ok := cputime.Process()
	if d := now - c.start; ok && d > 0 {
		b.ReportMetric(devices/d.Seconds(), "devices/cpu-s")
	}
}
