//go:build !unix

package adapters

import (
	"os"
	"os/exec"
)

// setProcessGroup does nothing where there are no process groups.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills p.
func killProcessGroup(p *os.Process) { _ = p.Kill() }
