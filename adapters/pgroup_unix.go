//go:build unix

package adapters

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup starts the plugin in a process group of its own, so that
// killing it kills the helpers it started too.
func setProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killProcessGroup kills p's process group, and p itself should the group
// be gone.
func killProcessGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
