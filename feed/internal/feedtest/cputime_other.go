//go:build !unix

package feedtest

import "time"

// cpuTime is unknown here; Bench then reports no MB/cpu-s.
func cpuTime() time.Duration { return 0 }
