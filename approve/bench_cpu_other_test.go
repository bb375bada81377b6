//go:build !unix

package approve

import "testing"

type cpuClock struct{}

func startCPU() cpuClock { return cpuClock{} }

// report does nothing where getrusage is not available.
func (cpuClock) report(*testing.B, float64) {}
