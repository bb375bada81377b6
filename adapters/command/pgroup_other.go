//go:build !unix

package command

import "os/exec"

// setProcessGroup leaves the command as it is where process groups do not exist.
func setProcessGroup(*exec.Cmd) {}
