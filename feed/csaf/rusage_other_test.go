//go:build !unix

package csaf

import "time"

// cpuTime is unknown on this platform; cpu-MB/s is not reported.
func cpuTime() time.Duration { return 0 }
