package feedtest

import (
	"time"

	"github.com/patchcore/sdk/internal/cputime"
)

// cpuTime is the user and system CPU time the process has used; 0 where
// the platform does not say, and Bench then reports no MB/cpu-s.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}
