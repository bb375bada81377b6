//go:build !unix

package debian

import "time"

// cpuTime is unknown on this platform; cpu-MB/s is not reported.
func cpuTime() time.Duration { return 0 }
