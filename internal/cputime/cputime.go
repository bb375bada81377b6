// Package cputime reads the CPU time this process has used. Benchmarks
// report it beside wall time, because on a shared, loaded machine wall time
// per operation overstates the cost of the code under test.
package cputime

import "time"

// Process returns the user plus system CPU time used by this process so far,
// and false where the platform does not say (then the duration is 0).
func Process() (time.Duration, bool) { return process() }
