package csaf

import (
	"time"

	"github.com/patchcore/sdk/internal/cputime"
)

// cpuTime is the CPU time the process has used, for throughput figures
// that do not depend on how busy the machine is.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}
