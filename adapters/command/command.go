// Package command runs package-manager commands for adapters: without a
// shell, with LC_ALL=C so output parses the same on every machine, and through
// a Runner interface that adapters take in their constructors so tests can
// substitute recorded output.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Command is one program invocation. Name is looked up with exec.LookPath
// unless it contains a path separator; Args never pass through a shell.
type Command struct {
	Name string
	Args []string
	// Env is added to the runner's environment (KEY=VALUE).
	Env   []string
	Dir   string
	Stdin []byte
}

// String renders the command for messages ("apt-get -s upgrade").
func (c Command) String() string {
	return strings.TrimSpace(c.Name + " " + strings.Join(c.Args, " "))
}

// Result is what a finished command produced.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	Duration time.Duration
}

// Runner runs commands. Run returns the Result of a command that ran to
// completion together with an *ExitError when it exited non-zero, so callers
// that expect particular exit codes (dnf check-update's 100, an installer's
// 3010) can inspect them with errors.As. Any other error means the command
// could not be started or was stopped by ctx.
type Runner interface {
	Run(ctx context.Context, cmd Command) (Result, error)
}

// ExitError reports a command that exited with a non-zero status.
type ExitError struct {
	Command  string
	ExitCode int
	// Stderr is the end of the command's standard error, for the message.
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s: exit status %d", e.Command, e.ExitCode)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// OS runs commands as child processes of this one. The zero value is ready
// to use. Every command gets LC_ALL=C and LANG=C on top of the process
// environment and Env; cancelling the context kills the command's whole
// process group (on Unix), and WaitDelay bounds how long its pipes may stay
// open after that.
type OS struct {
	// Env is added to every command's environment.
	Env []string
	// WaitDelay bounds the wait for output after the process is killed; 0 means 5 s.
	WaitDelay time.Duration
}

// Run implements Runner.
func (r OS) Run(ctx context.Context, c Command) (Result, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = append(os.Environ(), r.Env...)
	cmd.Env = append(cmd.Env, c.Env...)
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANG=C")
	cmd.Dir = c.Dir
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = r.WaitDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = 5 * time.Second
	}
	setProcessGroup(cmd)
	start := time.Now()
	err := cmd.Run()
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Duration: time.Since(start)}
	if err == nil {
		return res, nil
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("running %s: %w", c, ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		res.ExitCode = ee.ExitCode()
		return res, &ExitError{Command: c.String(), ExitCode: res.ExitCode, Stderr: lastLines(res.Stderr, 5)}
	}
	return res, fmt.Errorf("running %s: %w", c, err)
}

// lastLines returns the last n non-empty lines of b, joined by "; ".
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
