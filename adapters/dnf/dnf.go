// Package dnf is the patchcore adapter for dnf and yum systems (RHEL,
// Rocky, AlmaLinux, CentOS, Fedora, Amazon Linux): the installed packages
// come from rpm --queryformat (epoch and module stream included), the
// available updates from `dnf check-update`, and their advisories (ID,
// type, severity, CVEs, issued date) from the updateinfo.xml files dnf
// caches for each repository. Packages pinned with versionlock are reported
// held and are never upgraded unless the request says Force, whether or
// not the versionlock plugin is installed.
//
// Every command runs through the command.Runner given to New, without a
// shell, with LC_ALL=C; dnf gets exit_on_lock, so a package-manager lock
// held by another process is patchcore.ErrPackageManagerLocked instead of
// a wait without end.
package dnf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
)

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// Options configure an adapter.
type Options struct {
	// Runner runs dnf (or yum) and rpm. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Binary is the package manager: "dnf" (the default) or "yum".
	Binary string
	// ProcRoot is where the running kernel and boot time are read from; empty means /proc.
	ProcRoot string
}

// adapter is the dnf/yum adapter. Create it with New.
type adapter struct {
	pm       pm.Runner
	log      hclog.Logger
	bin      string
	procRoot string
	// updateinfo keeps the parsed updateinfo files between ListUpdates calls.
	updateinfo *rpmmeta.UpdateInfoCache
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a dnf (or yum) adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{bin: opts.Binary, procRoot: opts.ProcRoot, updateinfo: &rpmmeta.UpdateInfoCache{}}
	if a.bin == "" {
		a.bin = "dnf"
	}
	a.pm = pm.NewRunner(a.bin, opts.Runner, opts.Logger)
	a.log = a.pm.Log()
	if a.procRoot == "" {
		a.procRoot = "/proc"
	}
	return a
}

// Factory is the adapters.Factory for "dnf": commands run through
// env.Runner, logs go to env.Logger.
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// YumFactory is the adapters.Factory for "yum" (RHEL/CentOS 7, Amazon Linux 2).
func YumFactory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger, Binary: "yum"}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          a.bin,
		Version:       adapterVersion,
		Platforms:     []string{"rhel", "rocky", "almalinux", "centos", "fedora", "amzn", "ol"},
		VersionScheme: "rpm",
		Capabilities:  []adapters.Capability{adapters.CapAlternateRoot, adapters.CapAdvisories},
	})
}

// target is a resolved request target.
type target = rpmmeta.Root

func resolveTarget(t adapters.Target) (target, error) {
	return rpmmeta.ResolveRoot("dnf", t.Root)
}

// osRelease reads the target's os-release ("" values when absent).
func osRelease(t target) map[string]string {
	m := map[string]string{}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := os.ReadFile(t.Path(p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok || strings.HasPrefix(k, "#") {
				continue
			}
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			} else {
				v = strings.Trim(v, `'"`)
			}
			m[k] = v
		}
		return m
	}
	return m
}

// pmArgs are the options every dnf/yum call gets: quiet, never waiting on
// another process's lock, and pointed at the target.
func (a *adapter) pmArgs(t target) []string {
	args := []string{"-q"}
	if a.bin == "dnf" {
		args = append(args, "--setopt=exit_on_lock=True")
	}
	if !t.Host() {
		args = append(args, "--installroot="+t.Dir, "--setopt=reposdir="+t.Path("/etc/yum.repos.d"))
		if v := osRelease(t)["VERSION_ID"]; v != "" {
			args = append(args, "--releasever="+v)
		}
	}
	return args
}

func (a *adapter) runCmd(ctx context.Context, c command.Command) (command.Result, error) {
	return a.pm.Query(ctx, c)
}

// classify maps dnf/yum/rpm failures onto patchcore sentinels.
func (a *adapter) classify(what string, res command.Result, err error) error {
	return pm.Signs{
		LockCodes:  []int{200},
		Lock:       []string{"already locked by", "Another app is currently holding the yum lock", "can't create transaction lock"},
		Permission: []string{"This command has to be run with superuser privileges", "Permission denied"},
	}.Classify(a.bin, what, res, err)
}

func firstLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "Error") || strings.HasPrefix(l, "error:") {
			return l
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// installed runs rpm -qa on the target; a target whose rpm database is
// empty is refused (patchcore.ErrUnsupported).
func (a *adapter) installed(ctx context.Context, t target) ([]rpmmeta.Installed, error) {
	return rpmmeta.ListInstalled(ctx, a.pm, t)
}

// Inventory lists the installed rpms, the platform from os-release, the
// running kernel (running system only) and whether a reboot is pending.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	start := time.Now()
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	locks := a.versionlocks(t)
	inv := patchcore.Inventory{Platform: a.platform(t), CollectedAt: start.UTC()}
	for _, p := range inst {
		pk := p.Package
		for _, l := range locks {
			if l.Name == pk.Name && !l.Exclude {
				pk.Held = true
			}
		}
		inv.Packages = append(inv.Packages, pk)
	}
	inv.PendingReboot, _ = a.rebootReasons(t, inst)
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

func (a *adapter) platform(t target) patchcore.Platform {
	osr := osRelease(t)
	p := patchcore.Platform{Family: patchcore.FamilyLinux, Distro: osr["ID"], Version: osr["VERSION_ID"]}
	if t.Host() {
		if b, err := os.ReadFile(filepath.Join(a.procRoot, "sys/kernel/osrelease")); err == nil {
			p.Kernel = strings.TrimSpace(string(b))
		}
	}
	return p
}

// versionlocks reads the dnf and yum versionlock lists of the target.
func (a *adapter) versionlocks(t target) []rpmmeta.Lock {
	var locks []rpmmeta.Lock
	for _, p := range []string{"/etc/dnf/plugins/versionlock.list", "/etc/yum/pluginconf.d/versionlock.list"} {
		if b, err := os.ReadFile(t.Path(p)); err == nil {
			locks = append(locks, rpmmeta.ParseVersionlock(b)...)
		}
	}
	return locks
}

// rebootPackages are the packages whose update needs a restart, as
// dnf needs-restarting -r lists them.
var rebootPackages = []string{"kernel", "kernel-core", "kernel-rt", "kernel-rt-core", "glibc", "linux-firmware",
	"systemd", "udev", "openssl-libs", "gnutls", "dbus", "dbus-broker", "dbus-daemon"}

// rebootReasons compares the install time of the packages that need a
// restart with the boot time. On an alternate root there is no boot to
// compare with, so nothing is pending.
func (a *adapter) rebootReasons(t target, inst []rpmmeta.Installed) (bool, []string) {
	if !t.Host() {
		return false, nil
	}
	boot, err := a.bootTime()
	if err != nil {
		a.log.Warn("cannot read the boot time", "error", err)
		return false, nil
	}
	var reasons []string
	for _, p := range inst {
		if slices.Contains(rebootPackages, p.Name) && p.InstallTime.After(boot) {
			reasons = append(reasons, p.Name+" "+p.Version+" installed "+p.InstallTime.Format(time.RFC3339)+" after boot")
		}
	}
	return len(reasons) > 0, reasons
}

func (a *adapter) bootTime() (time.Time, error) {
	b, err := os.ReadFile(filepath.Join(a.procRoot, "stat"))
	if err != nil {
		return time.Time{}, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("btime %q: %w", v, err)
			}
			return time.Unix(n, 0), nil
		}
	}
	return time.Time{}, errors.New("no btime line in stat")
}

// RebootRequired reports whether a package that needs a restart was
// installed after the last boot.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	req2, reasons := a.rebootReasons(t, inst)
	return adapters.RebootRequiredResponse{Required: req2, Reasons: reasons}, nil
}
