//go:build linux

package adapters

import (
	"os/exec"
	"syscall"
)

// setParentDeathSignal asks the kernel to send the plugin SIGTERM when the
// host dies, so Serve drains and exits instead of being orphaned.
func setParentDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
}
