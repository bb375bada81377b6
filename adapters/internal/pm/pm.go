// Package pm is the skeleton the package-manager adapters share: the
// runner through which they run commands (logged, a missing program
// reported as patchcore.ErrUnsupported, and transactions that a
// cancellation does not interrupt), the Info answer, and the reading of
// exit codes.
package pm

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

// Runner runs one adapter's commands.
type Runner struct {
	// Adapter names the adapter in messages ("choco").
	Adapter string
	// Missing is said of a program that is not found; empty means "is not
	// installed on this machine".
	Missing string
	run     command.Runner
	log     hclog.Logger
}

// NewRunner returns the runner of the adapter named adapter, running
// commands through r (nil means command.OS{}) and logging to log (nil
// discards).
func NewRunner(adapter string, r command.Runner, log hclog.Logger) Runner {
	if r == nil {
		r = command.OS{}
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return Runner{Adapter: adapter, run: r, log: log}
}

// Log returns the adapter's logger.
func (r Runner) Log() hclog.Logger { return r.log }

// Query runs a command that changes nothing: cancelling ctx stops it.
func (r Runner) Query(ctx context.Context, c command.Command) (command.Result, error) {
	r.log.Debug("running", "command", c.String())
	res, err := r.run.Run(ctx, c)
	r.log.Debug("finished", "command", c.String(), "duration", res.Duration, "exit", res.ExitCode)
	if err != nil && errors.Is(err, exec.ErrNotFound) {
		missing := r.Missing
		if missing == "" {
			missing = "is not installed on this machine"
		}
		return res, fmt.Errorf("%s: %s %s (%w): %w", r.Adapter, c.Name, missing, patchcore.ErrUnsupported, err)
	}
	return res, err
}

// Transaction runs a command that changes the system (an install, an
// upgrade, a pin). When ctx has already ended nothing starts and ctx's
// error is returned; once the command has started it runs to completion
// whatever ctx says, because killing a package manager mid-transaction
// can leave the system half changed. The caller reports a cancellation
// that came meanwhile after the command, with Cancelled.
func (r Runner) Transaction(ctx context.Context, c command.Command) (command.Result, error) {
	tctx, err := Begin(ctx)
	if err != nil {
		return command.Result{}, fmt.Errorf("%s: %s not started: %w", r.Adapter, c, err)
	}
	return r.Query(tctx, c)
}

// Begin starts a transaction of several commands: it returns ctx's error
// when ctx has already ended, and otherwise the context the transaction's
// commands run under, which keeps ctx's values but neither its
// cancellation nor its deadline.
func Begin(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// Info fills in the parts of an Info answer every adapter gives the same
// way (the protocol version) and fails when ctx has ended: Info runs no
// command.
func Info(ctx context.Context, info adapters.InfoResponse) (adapters.InfoResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.InfoResponse{}, err
	}
	info.ProtocolVersion = adapters.ProtocolVersion
	return info, nil
}

// ExitCode32 returns the exit code of a command that ran to completion
// as the 32-bit value Windows reports (an HRESULT such as 0x8A15002B, or
// 3010), whether os/exec gave it as a negative int32 or as a uint32; ok is
// false when the command did not run to completion.
func ExitCode32(res command.Result, err error) (code uint32, ok bool) {
	var ee *command.ExitError
	if errors.As(err, &ee) {
		return uint32(ee.ExitCode), true
	}
	if err != nil {
		return 0, false
	}
	return uint32(res.ExitCode), true
}

// NotInstalled is the result for a requested ID that Install installs
// nothing for: a package that is not installed, or an ID the adapter cannot
// map to packages. It is never a success: the status is ItemNotApplicable
// and the reason begins "not installed: ".
func NotInstalled(id, reason string) adapters.ItemResult {
	return adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "not installed: " + reason}
}

// advisoryID matches the shapes of vendor advisory IDs: DSA-5678-1,
// DLA-3456-1, USN-6000-1, RHSA-2024:1234, ALSA-2024:1234, FEDORA-2024-1a2b3c,
// FEDORA-EPEL-2024-…, SUSE-SU-2024:1234-1, openSUSE-SU-2024:0001-1, ALAS-2024-001.
var advisoryID = regexp.MustCompile(`^(?:DSA|DLA|DTSA|USN|RHSA|RHBA|RHEA|ALSA|ALBA|ALEA|RLSA|RLBA|RLEA|ELSA|ELBA|ELEA|CESA|ALAS\d*|FEDORA(?:-EPEL)?|SUSE|openSUSE)-[0-9A-Za-z][0-9A-Za-z:._-]*$`)

// IsAdvisoryID reports whether id has the shape of a vendor advisory ID
// rather than a package name.
func IsAdvisoryID(id string) bool { return advisoryID.MatchString(id) }

// Signs are how a package manager says, in its output or exit code, that
// another process holds its lock or that it lacks privileges.
type Signs struct {
	// LockCodes are exit codes that mean the lock is held (dnf's 200).
	LockCodes []int
	// Lock and Permission are messages the output contains.
	Lock       []string
	Permission []string
}

// Locked reports whether the output or exit code of res says the lock is held.
func (s Signs) Locked(res command.Result) bool {
	return slices.Contains(s.LockCodes, res.ExitCode) || matchLine(res, s.Lock) != ""
}

// Classify turns the failure err of a command (res is what it printed)
// into the call's error: one wrapping patchcore.ErrPackageManagerLocked or
// ErrPermission, quoting the line that says so, when the signs show it, and
// err otherwise, prefixed with the adapter's name and what was being done
// ("installing"). A nil err gives nil.
func (s Signs) Classify(adapter, what string, res command.Result, err error) error {
	if err == nil {
		return nil
	}
	if line := matchLine(res, s.Lock); line != "" || slices.Contains(s.LockCodes, res.ExitCode) {
		return fmt.Errorf("%s: %s: %w: %s", adapter, what, patchcore.ErrPackageManagerLocked, orExit(line, res))
	}
	if line := matchLine(res, s.Permission); line != "" {
		return fmt.Errorf("%s: %s: %w: %s", adapter, what, patchcore.ErrPermission, line)
	}
	return fmt.Errorf("%s: %s: %w", adapter, what, err)
}

// matchLine returns the first line of res's stderr, then stdout, that
// holds one of msgs, trimmed; "" when none does.
func matchLine(res command.Result, msgs []string) string {
	for _, out := range [][]byte{res.Stderr, res.Stdout} {
		for _, line := range strings.Split(string(out), "\n") {
			for _, m := range msgs {
				if strings.Contains(line, m) {
					return strings.TrimSpace(line)
				}
			}
		}
	}
	return ""
}

func orExit(line string, res command.Result) string {
	if line != "" {
		return line
	}
	return fmt.Sprintf("exit status %d", res.ExitCode)
}
