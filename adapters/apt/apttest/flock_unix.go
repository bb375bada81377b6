//go:build unix

package apttest

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, so parallel test binaries build the
// cached root once.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
