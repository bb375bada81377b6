//go:build linux

package adapters

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks the kernel to send the plugin SIGTERM when the
// host dies, so Serve drains and exits instead of being orphaned.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
