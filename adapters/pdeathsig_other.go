//go:build !linux

package adapters

import "os/exec"

// setParentDeathSignal does nothing where the kernel has no parent-death
// signal; Serve's parent watchdog covers Unix systems.
func setParentDeathSignal(*exec.Cmd) {}
