//go:build !linux

package pmbench

import (
	"errors"
	"time"
)

// ownCPU is not measured outside Linux: CPU metrics are left out.
func ownCPU() time.Duration { return 0 }

func processCPU(int) (time.Duration, error) {
	return 0, errors.New("process CPU time is read from /proc, which only Linux has")
}
