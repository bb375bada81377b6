//go:build unix

package adapters

import (
	"os"
	"time"
)

// parentGone returns a channel closed when this process's parent changes
// (the host died and the process was re-parented), checked every interval.
func parentGone(interval time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	ppid := os.Getppid()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for range t.C {
			if os.Getppid() != ppid {
				close(ch)
				return
			}
		}
	}()
	return ch
}
