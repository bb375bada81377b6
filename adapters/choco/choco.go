// Package choco is the patchcore adapter for Chocolatey, the Windows
// package manager for third-party applications: the installed packages come
// from `choco list --limit-output`, the available upgrades from `choco
// outdated --limit-output` (pinned packages reported held), and installs
// run `choco upgrade NAME --yes` one package at a time, with the exit code
// (0, 3010 and 1641 reboot, 1603 MSI failure, 2 nothing to do) mapped to a
// per-item result.
//
// Every command runs through the command.Runner given to New, without a
// shell. Parsing and result mapping are plain Go and tested on every OS;
// only the pending-reboot check reads the Windows registry, through the
// winreboot.Registry the Options carry.
package choco

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/patchcore"
)

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// Exit codes of choco and of the installers its packages run.
const (
	// exitNothingToDo is choco's "enhanced" exit code: no package was outdated.
	exitNothingToDo = 2
	// exitRebootInitiated (ERROR_SUCCESS_REBOOT_INITIATED): installed, the installer started a restart.
	exitRebootInitiated = 1641
	// exitRebootRequired (ERROR_SUCCESS_REBOOT_REQUIRED): installed, a restart completes it.
	exitRebootRequired = 3010
	// exitMSIFatal (ERROR_INSTALL_FAILURE): the MSI installer failed.
	exitMSIFatal = 1603
	// exitMSIBusy (ERROR_INSTALL_ALREADY_RUNNING): another MSI installation is in progress.
	exitMSIBusy = 1618
)

// Options configure an adapter.
type Options struct {
	// Runner runs choco. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Binary is the choco executable; empty means "choco" on the PATH.
	Binary string
	// Registry is read for a pending restart; nil means winreboot.System().
	Registry winreboot.Registry
	// Sources, when set, replaces the configured sources (--source).
	Sources []string
}

// adapter is the Chocolatey adapter. Create it with New.
type adapter struct {
	pm      pm.Runner
	log     hclog.Logger
	bin     string
	reg     winreboot.Registry
	sources []string

	mu    sync.Mutex
	major int // choco's major version, 0 until known
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a Chocolatey adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner("choco", opts.Runner, opts.Logger), bin: opts.Binary, reg: opts.Registry, sources: opts.Sources}
	a.log = a.pm.Log()
	if a.bin == "" {
		a.bin = "choco"
	}
	if a.reg == nil {
		a.reg = winreboot.System()
	}
	return a
}

// Factory is the adapters.Factory for "choco".
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          "choco",
		Version:       adapterVersion,
		Platforms:     []string{"windows"},
		VersionScheme: "dotted",
	})
}

func (a *adapter) command(args ...string) command.Command {
	return command.Command{Name: a.bin, Args: args}
}

func (a *adapter) runCmd(ctx context.Context, c command.Command) (command.Result, error) {
	return a.pm.Query(ctx, c)
}

// exitCode returns the command's exit code as Windows reports it: a
// process that exits -1 reads 4294967295 through os/exec on Windows.
func exitCode(res command.Result, err error) (int, bool) {
	code, ok := pm.ExitCode32(res, err)
	return int(int32(code)), ok
}

// query runs a read-only choco command, accepting exit 2 ("nothing
// found", enhanced exit codes) as success.
func (a *adapter) query(ctx context.Context, what string, args ...string) ([]byte, error) {
	res, err := a.runCmd(ctx, a.command(args...))
	code, exited := exitCode(res, err)
	if !exited {
		return nil, fmt.Errorf("choco: %s: %w", what, err)
	}
	if code != 0 && code != exitNothingToDo {
		rep := parseUpgrade(append(res.Stdout, res.Stderr...))
		switch {
		case rep.Locked:
			return nil, fmt.Errorf("choco: %s: %w: %w", what, patchcore.ErrPackageManagerLocked, err)
		case rep.AccessDenied:
			return nil, fmt.Errorf("choco: %s: %w: %w", what, patchcore.ErrPermission, err)
		}
		return nil, fmt.Errorf("choco: %s: %w", what, err)
	}
	return res.Stdout, nil
}

// majorVersion returns choco's major version, asking `choco --version`
// once per adapter.
func (a *adapter) majorVersion(ctx context.Context) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.major != 0 {
		return a.major, nil
	}
	out, err := a.query(ctx, "reading its version", "--version")
	if err != nil {
		return 0, err
	}
	v := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(v, '\n'); i >= 0 {
		v = strings.TrimSpace(v[i+1:])
	}
	major, _, _ := strings.Cut(v, ".")
	n, perr := strconv.Atoi(major)
	if perr != nil || n <= 0 {
		return 0, fmt.Errorf("choco --version printed %q: %w", v, patchcore.ErrUnknownVersion)
	}
	a.major = n
	return n, nil
}

func (a *adapter) sourceArgs() []string {
	if len(a.sources) == 0 {
		return nil
	}
	return []string{"--source", strings.Join(a.sources, ";")}
}

// installed lists the local packages.
func (a *adapter) installed(ctx context.Context) ([]localPkg, error) {
	major, err := a.majorVersion(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"list", "--limit-output"}
	if major < 2 {
		args = []string{"list", "--local-only", "--limit-output"}
	}
	out, err := a.query(ctx, "listing installed packages", args...)
	if err != nil {
		return nil, err
	}
	pkgs, err := parseList(out)
	if err != nil {
		return nil, fmt.Errorf("choco: listing installed packages: %w", err)
	}
	return pkgs, nil
}

// pinned returns the names of pinned packages.
func (a *adapter) pinned(ctx context.Context) (map[string]bool, error) {
	out, err := a.query(ctx, "listing pins", "pin", "list", "--limit-output")
	if err != nil {
		return nil, err
	}
	pins, err := parseList(out)
	if err != nil {
		return nil, fmt.Errorf("choco: listing pins: %w", err)
	}
	m := make(map[string]bool, len(pins))
	for _, p := range pins {
		m[strings.ToLower(p.Name)] = true
	}
	return m, nil
}

// outdated lists the packages with a newer version in the sources.
func (a *adapter) outdated(ctx context.Context) ([]outdatedPkg, error) {
	args := append([]string{"outdated", "--limit-output", "--ignore-unfound"}, a.sourceArgs()...)
	out, err := a.query(ctx, "listing outdated packages", args...)
	if err != nil {
		return nil, err
	}
	pkgs, err := parseOutdated(out)
	if err != nil {
		return nil, fmt.Errorf("choco: listing outdated packages: %w", err)
	}
	return pkgs, nil
}

// Inventory lists the Chocolatey packages installed, pinned ones Held.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if req.Root != "" {
		return adapters.InventoryResponse{}, fmt.Errorf("choco: alternate root %q: %w", req.Root, patchcore.ErrUnsupported)
	}
	start := time.Now()
	pkgs, err := a.installed(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	pins, err := a.pinned(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inv := patchcore.Inventory{
		Platform:    patchcore.Platform{Family: patchcore.FamilyWindows, Distro: "windows"},
		Packages:    make([]patchcore.Package, 0, len(pkgs)),
		CollectedAt: start.UTC(),
	}
	for _, p := range pkgs {
		inv.Packages = append(inv.Packages, patchcore.Package{
			Name: p.Name, Version: p.Version, Ecosystem: patchcore.EcosystemChocolatey, Held: pins[strings.ToLower(p.Name)],
		})
	}
	slices.SortFunc(inv.Packages, func(x, y patchcore.Package) int { return strings.Compare(x.Name, y.Name) })
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// ListUpdates lists outdated packages; the update ID is the package name.
// Chocolatey queries its sources live, so Refresh changes nothing.
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if req.Root != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("choco: alternate root %q: %w", req.Root, patchcore.ErrUnsupported)
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("choco: offline catalog: %w", patchcore.ErrUnsupported)
	}
	out, err := a.outdated(ctx)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	ups := make([]adapters.Update, 0, len(out))
	for _, o := range out {
		if o.Available == o.Current {
			continue // not found in the sources: choco echoes the installed version
		}
		ups = append(ups, adapters.Update{
			ID: o.Name, Package: o.Name, InstalledVersion: o.Current, AvailableVersion: o.Available,
			Origin: "chocolatey", Classification: patchcore.ClassOther, Held: o.Pinned, Reboot: patchcore.RebootMay,
		})
	}
	slices.SortFunc(ups, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

// Download is not offered: `choco download` needs a licensed edition.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.DownloadResponse{}, err
	}
	return adapters.DownloadResponse{}, fmt.Errorf("choco: download without install needs Chocolatey for Business: %w", patchcore.ErrUnsupported)
}

// validID reports whether id can be passed to choco as a package name: it
// must not look like an option or hold spaces or separators.
func validID(id string) bool {
	if id == "" || strings.HasPrefix(id, "-") || strings.HasPrefix(id, "/") || len(id) > 256 {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r <= ' ' || r == '|' || r == ';' || r == '"' || r == '\'' || r == 0x7f
	})
}

// Install upgrades (or installs) each named package with `choco upgrade
// NAME --yes`, one at a time. A package already at its latest version is
// ItemInstalled without running anything; a pinned package is ItemHeld
// unless Force, which unpins, upgrades and pins it again.
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if req.Root != "" {
		return adapters.InstallResponse{}, fmt.Errorf("choco: alternate root %q: %w", req.Root, patchcore.ErrUnsupported)
	}
	installed, err := a.installed(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	outdated, err := a.outdated(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	pins, err := a.pinned(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	have := map[string]localPkg{}
	for _, p := range installed {
		have[strings.ToLower(p.Name)] = p
	}
	newer := map[string]outdatedPkg{}
	for _, o := range outdated {
		if o.Available != o.Current {
			newer[strings.ToLower(o.Name)] = o
		}
	}
	var resp adapters.InstallResponse
	for _, id := range req.IDs {
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{}, err
		}
		key := strings.ToLower(id)
		o, isOutdated := newer[key]
		cur, isInstalled := have[key]
		item := adapters.ItemResult{ID: id}
		switch {
		case !validID(id):
			item.Status, item.Reason = adapters.ItemFailed, "not a Chocolatey package name"
		case isInstalled && !isOutdated:
			item.Status, item.FromVersion, item.ToVersion = adapters.ItemInstalled, cur.Version, cur.Version
			item.Reason = "already installed at the latest version " + cur.Version
		case pins[key] && !req.Force:
			item.Status, item.FromVersion = adapters.ItemHeld, cur.Version
			item.Reason = "pinned (choco pin); install with Force to upgrade"
		default:
			item, err = a.upgrade(ctx, id, pins[key])
			if err != nil {
				return adapters.InstallResponse{}, err
			}
			if item.FromVersion == "" && isInstalled {
				item.FromVersion = cur.Version
			}
			if item.ToVersion == "" && isOutdated && (item.Status == adapters.ItemInstalled || item.Status == adapters.ItemInstalledPendingReboot) {
				item.ToVersion = o.Available
			}
		}
		if item.Status == adapters.ItemInstalledPendingReboot {
			resp.RebootRequired = true
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

// upgrade runs choco upgrade for one package (unpinning and pinning it
// again around the upgrade when it is pinned) and maps the outcome.
func (a *adapter) upgrade(ctx context.Context, id string, pinned bool) (adapters.ItemResult, error) {
	// Unpinning, upgrading and pinning again are one transaction: once
	// begun it runs to its end whatever ctx says (the pin is the user's
	// policy, and choco killed mid-upgrade leaves a half-installed package).
	tctx, err := pm.Begin(ctx)
	if err != nil {
		return adapters.ItemResult{}, err
	}
	if pinned {
		if _, err := a.query(tctx, "unpinning "+id, "pin", "remove", "--name", id); err != nil {
			return adapters.ItemResult{}, err
		}
		defer func() {
			if _, err := a.query(tctx, "pinning "+id+" again", "pin", "add", "--name", id); err != nil {
				a.log.Error("could not restore pin", "package", id, "error", err)
			}
		}()
	}
	args := append([]string{"upgrade", id, "--yes", "--no-progress"}, a.sourceArgs()...)
	res, err := a.runCmd(tctx, a.command(args...))
	code, exited := exitCode(res, err)
	if !exited {
		return adapters.ItemResult{}, fmt.Errorf("choco: upgrading %s: %w", id, err)
	}
	item, callErr := upgradeResult(id, code, parseUpgrade(append(res.Stdout, res.Stderr...)))
	if callErr != nil {
		return adapters.ItemResult{}, fmt.Errorf("choco: upgrading %s: %w", id, callErr)
	}
	if err := ctx.Err(); err != nil {
		// The transaction finished; report the cancellation now.
		return adapters.ItemResult{}, err
	}
	return item, nil
}

// upgradeResult maps the exit code and output of `choco upgrade ID` to the
// item's result. Lock and permission problems are errors for the whole
// call (wrapping patchcore.ErrPackageManagerLocked or ErrPermission), not
// item results.
func upgradeResult(id string, code int, rep upgradeReport) (adapters.ItemResult, error) {
	item := adapters.ItemResult{ID: id}
	key := strings.ToLower(id)
	lookup := func(m map[string]string) (string, bool) {
		for k, v := range m {
			if strings.ToLower(k) == key {
				return v, true
			}
		}
		return "", false
	}
	notFound := slices.ContainsFunc(rep.NotFound, func(n string) bool { return strings.ToLower(n) == key })
	failure, failed := lookup(rep.Failures)
	_, reboot := lookup(rep.Reboot)
	latest, isLatest := lookup(rep.Latest)
	switch {
	case rep.Locked || code == exitMSIBusy:
		return item, fmt.Errorf("%w (exit %d)", patchcore.ErrPackageManagerLocked, code)
	case rep.AccessDenied:
		return item, fmt.Errorf("%w: cannot write Chocolatey's folders; run elevated (exit %d)", patchcore.ErrPermission, code)
	case notFound:
		item.Status, item.Reason = adapters.ItemNotApplicable, "package not found in the configured sources"
	case code == exitRebootRequired || code == exitRebootInitiated || (reboot && !failed):
		item.Status = adapters.ItemInstalledPendingReboot
		item.Reason = fmt.Sprintf("installed; a restart completes it (exit %d)", code)
		if code == exitRebootInitiated {
			item.Reason = "installed; the installer started a restart (exit 1641)"
		}
	case failed || (code != 0 && code != exitNothingToDo):
		item.Status = adapters.ItemFailed
		item.Reason = fmt.Sprintf("choco upgrade exit %d", code)
		if code == exitMSIFatal {
			item.Reason += " (MSI fatal error 1603)"
		}
		if failure != "" {
			item.Reason += ": " + failure
		}
	case isLatest:
		item.Status, item.FromVersion, item.ToVersion = adapters.ItemInstalled, latest, latest
		item.Reason = "already installed at the latest version " + latest
	case code == exitNothingToDo:
		item.Status, item.Reason = adapters.ItemInstalled, "nothing to upgrade (exit 2)"
	default:
		item.Status = adapters.ItemInstalled
	}
	return item, nil
}

// RebootRequired reads the registry signals of a pending restart.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if req.Root != "" {
		return adapters.RebootRequiredResponse{}, fmt.Errorf("choco: alternate root %q: %w", req.Root, patchcore.ErrUnsupported)
	}
	required, reasons, err := winreboot.Check(ctx, a.reg)
	if err != nil {
		return adapters.RebootRequiredResponse{}, fmt.Errorf("choco: %w", err)
	}
	return adapters.RebootRequiredResponse{Required: required, Reasons: reasons}, nil
}
