// Package apt is the patchcore adapter for Debian and Ubuntu: it reads the
// installed packages with dpkg-query, the available updates with apt, and
// installs updates with apt-get, on the running system or on an alternate
// root directory (a chroot, a mounted image).
//
// Every command runs through the command.Runner given to New, without a
// shell, with LC_ALL=C and DEBIAN_FRONTEND=noninteractive, so tests can
// substitute recorded output and output parses the same on every machine.
//
// Updates whose candidate version comes from a security pocket
// ("bookworm-security", "jammy-security") are classified
// patchcore.ClassSecurity. Packages on hold (apt-mark hold, dpkg
// selections) are reported as held and never upgraded unless the request
// says Force. A dpkg or apt lock held by another process is an error wrapping
// patchcore.ErrPackageManagerLocked.
package apt

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
)

// name is the adapter's short name, as Info reports it and the host's
// built-in registry knows it.
const name = "apt"

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// Options configure an adapter. The zero value runs commands on this
// machine and discards log output.
type Options struct {
	// Runner runs apt, apt-get, dpkg and dpkg-query. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output (the commands run, their durations).
	// Nil discards it. Adapters never write to stdout.
	Logger hclog.Logger
	// LockTimeoutSeconds makes apt-get wait this long for the dpkg lock
	// (DPkg::Lock::Timeout) before Install reports
	// patchcore.ErrPackageManagerLocked; 0 fails at once.
	LockTimeoutSeconds int
	// ProcRoot is where the running kernel's release is read from
	// (ProcRoot/sys/kernel/osrelease); empty means /proc. Tests set it.
	ProcRoot string
}

// adapter is the apt adapter. Create it with New; it is safe for
// concurrent use, but apt itself serialises installs with its lock.
type adapter struct {
	pm       pm.Runner
	log      hclog.Logger
	lockWait int
	procRoot string
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns an apt adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner(name, opts.Runner, opts.Logger), lockWait: opts.LockTimeoutSeconds, procRoot: opts.ProcRoot}
	a.log = a.pm.Log()
	if a.procRoot == "" {
		a.procRoot = "/proc"
	}
	return a
}

// Factory is the adapters.Factory the host's built-in registry and
// adapters.Serve call: an apt adapter running its commands through
// env.Runner and logging to env.Logger.
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          name,
		Version:       adapterVersion,
		Platforms:     []string{"debian", "ubuntu"},
		VersionScheme: "deb",
		Capabilities:  []adapters.Capability{adapters.CapAlternateRoot},
	})
}

// target is a resolved request target: the root directory and the
// options that point apt and dpkg at it.
type target struct {
	root string // "" or "/" for the running system, otherwise an absolute path
}

// resolveTarget checks t.Root: empty means the running system; otherwise it
// must be a readable directory holding a dpkg database.
func resolveTarget(t adapters.Target) (target, error) {
	if t.Root == "" || t.Root == "/" {
		if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
			return target{}, fmt.Errorf("apt: this machine is not a system apt serves (no dpkg database: %v): %w", err, patchcore.ErrUnsupported)
		}
		return target{}, nil
	}
	root, err := filepath.Abs(t.Root)
	if err != nil {
		return target{}, fmt.Errorf("apt: root %q: %w: %v", t.Root, patchcore.ErrInvalidInput, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return target{}, fmt.Errorf("apt: root %s: %w: %w", root, patchcore.ErrInvalidInput, err)
	}
	if !fi.IsDir() {
		return target{}, fmt.Errorf("apt: root %s: %w: not a directory", root, patchcore.ErrInvalidInput)
	}
	rt := target{root: root}
	if _, err := os.Stat(rt.path("/var/lib/dpkg/status")); err != nil {
		return target{}, fmt.Errorf("apt: root %s is not a system apt serves (no dpkg database: %v): %w", root, err, patchcore.ErrUnsupported)
	}
	return rt, nil
}

// checkSources refuses a target with no package source configured: what
// it lacks cannot be known, and "no updates" would be a false answer.
func (t target) checkSources() error {
	files := []string{t.path("/etc/apt/sources.list")}
	for _, pattern := range []string{"/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
		m, _ := filepath.Glob(t.path(pattern))
		files = append(files, m...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				return nil
			}
		}
	}
	what := "this machine"
	if !t.host() {
		what = "root " + t.root
	}
	return fmt.Errorf("apt: %s has no package sources (nothing in /etc/apt/sources.list or sources.list.d): which updates are missing cannot be known: %w", what, patchcore.ErrUnsupported)
}

// host reports whether the target is the running system.
func (t target) host() bool { return t.root == "" }

// path returns p (absolute, as on the target system) inside the target.
func (t target) path(p string) string {
	if t.host() {
		return p
	}
	return filepath.Join(t.root, p)
}

// aptOptions are the -o options that make apt, apt-get and apt-cache act
// on the target.
func (t target) aptOptions() []string {
	if t.host() {
		return nil
	}
	return []string{
		"-o", "Dir=" + t.root,
		"-o", "Dir::State::status=" + t.path("/var/lib/dpkg/status"),
	}
}

// dpkgOptions are the options that make dpkg and dpkg-query act on the target.
func (t target) dpkgOptions() []string {
	if t.host() {
		return nil
	}
	return []string{"--admindir=" + t.path("/var/lib/dpkg")}
}

// runCmd runs c, logging it, and turns a missing program into a clear error.
func (a *adapter) runCmd(ctx context.Context, c command.Command) (command.Result, error) {
	return a.pm.Query(ctx, c)
}

// aptSigns are how apt and dpkg say another process holds the lock, or
// that they lack privileges.
func aptSigns() pm.Signs {
	return pm.Signs{
		Lock: []string{"Could not get lock", "Unable to acquire the dpkg frontend lock",
			"dpkg status database is locked by another process", "is another process using it?"},
		Permission: []string{"Permission denied", "are you root?"},
	}
}

// classifyAptError maps apt and dpkg failures onto patchcore sentinels:
// a lock held by another process, or missing privileges.
func classifyAptError(what string, res command.Result, err error) error {
	return aptSigns().Classify(name, what, res, err)
}

// firstErrorLine returns the first "E: " or "dpkg: error" line of out, or
// its first non-empty line.
func firstErrorLine(out string) string {
	var first string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "E: ") || strings.HasPrefix(l, "dpkg: error") {
			return l
		}
		if first == "" {
			first = l
		}
	}
	return first
}
