//go:build unix

package approve

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the process's CPU time (user + system, every thread),
// so that a benchmark on a shared machine can report throughput per CPU
// second rather than per wall-clock second.
type cpuClock struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{cpuNow()} }

// report adds a "devices/cpu-s" metric.
func (c cpuClock) report(b *testing.B, devices float64) {
	if d := cpuNow() - c.start; d > 0 {
		b.ReportMetric(devices/d.Seconds(), "devices/cpu-s")
	}
}
