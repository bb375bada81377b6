// Package brew is the patchcore adapter for Homebrew on macOS: installed
// formulae and casks from `brew info --json=v2 --installed`, available
// upgrades from `brew outdated --json=v2` (pinned formulae reported held),
// downloads with `brew fetch` and upgrades with `brew upgrade`, one package
// at a time.
//
// Homebrew refuses to run as root, and agents usually do: set
// Options.User to the account that owns the Homebrew prefix and the
// adapter runs brew through `sudo -u USER -H env ... brew`. Casks carry the
// "cask:" prefix in IDs and package names ("cask:firefox"). Every command
// goes through the command.Runner given to New, never a shell, with
// HOMEBREW_NO_AUTO_UPDATE, HOMEBREW_NO_ANALYTICS and HOMEBREW_NO_ENV_HINTS
// set so output does not depend on the user's settings.
package brew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// Options configure an adapter.
type Options struct {
	// Runner runs brew. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Binary is the brew executable; empty means "brew" on the PATH
	// (/opt/homebrew/bin/brew on Apple silicon, /usr/local/bin/brew on Intel).
	Binary string
	// User, when set, runs brew as that user through sudo (the agent runs as
	// root; Homebrew refuses to).
	User string
	// Greedy includes casks that update themselves (auto_updates, version :latest).
	Greedy bool
}

// adapter is the Homebrew adapter. Create it with New.
type adapter struct {
	pm     pm.Runner
	log    hclog.Logger
	bin    string
	user   string
	greedy bool
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a Homebrew adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner("brew", opts.Runner, opts.Logger), bin: opts.Binary, user: opts.User, greedy: opts.Greedy}
	a.log = a.pm.Log()
	if a.bin == "" {
		a.bin = "brew"
	}
	return a
}

// Factory is the adapters.Factory for "brew".
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          "brew",
		Version:       adapterVersion,
		Platforms:     []string{"macos"},
		VersionScheme: version.Homebrew,
	})
}

// brewEnv is the environment every brew command gets.
func brewEnv() []string {
	return []string{
		"HOMEBREW_NO_AUTO_UPDATE=1", "HOMEBREW_NO_ANALYTICS=1", "HOMEBREW_NO_ENV_HINTS=1",
		"HOMEBREW_NO_COLOR=1", "HOMEBREW_NO_EMOJI=1", "HOMEBREW_NO_INSTALLED_DEPENDENTS_CHECK=1",
	}
}

func (a *adapter) command(args ...string) command.Command {
	if a.user == "" {
		return command.Command{Name: a.bin, Args: args, Env: brewEnv()}
	}
	// sudo resets the environment: pass it through env(1), still without a shell.
	full := append([]string{"-n", "-u", a.user, "-H", "env"}, brewEnv()...)
	full = append(full, a.bin)
	return command.Command{Name: "sudo", Args: append(full, args...)}
}

func (a *adapter) runCmd(ctx context.Context, c command.Command) (command.Result, error) {
	return a.pm.Query(ctx, c)
}

// query runs a read-only brew command and returns its stdout; failures
// become errors wrapping the matching sentinel.
func (a *adapter) query(ctx context.Context, what string, args ...string) ([]byte, error) {
	res, err := a.runCmd(ctx, a.command(args...))
	if err == nil {
		return res.Stdout, nil
	}
	var ee *command.ExitError
	if !errors.As(err, &ee) {
		return nil, fmt.Errorf("brew: %s: %w", what, err)
	}
	if cerr := callError(classify(append(res.Stderr, res.Stdout...), res.ExitCode)); cerr != nil {
		return nil, fmt.Errorf("brew: %s: %w", what, cerr)
	}
	return nil, fmt.Errorf("brew: %s: %w", what, err)
}

// callError turns the outcomes that concern the whole call into errors.
func callError(o brewOutcome, line string) error {
	switch o {
	case outcomeLocked:
		return fmt.Errorf("%w: %s", patchcore.ErrPackageManagerLocked, line)
	case outcomeRoot:
		return fmt.Errorf("%w: %s (set Options.User to the owner of the Homebrew prefix)", patchcore.ErrPermission, line)
	}
	return nil
}

func (a *adapter) installed(ctx context.Context) ([]installedItem, error) {
	out, err := a.query(ctx, "listing installed packages", "info", "--json=v2", "--installed")
	if err != nil {
		return nil, err
	}
	return parseInfo(out)
}

func (a *adapter) outdated(ctx context.Context) ([]outdatedItem, error) {
	args := []string{"outdated", "--json=v2"}
	if a.greedy {
		args = append(args, "--greedy")
	}
	out, err := a.query(ctx, "listing outdated packages", args...)
	if err != nil {
		return nil, err
	}
	return parseOutdated(out)
}

func checkTarget(what string, t adapters.Target) error {
	if t.Root != "" {
		return fmt.Errorf("brew: %s: alternate root %q: %w", what, t.Root, patchcore.ErrUnsupported)
	}
	return nil
}

// Inventory lists the installed formulae and casks.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := checkTarget("inventory", req.Target); err != nil {
		return adapters.InventoryResponse{}, err
	}
	start := time.Now()
	items, err := a.installed(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inv := patchcore.Inventory{
		Platform:    patchcore.Platform{Family: patchcore.FamilyDarwin, Distro: "macos"},
		Packages:    make([]patchcore.Package, 0, len(items)),
		CollectedAt: start.UTC(),
	}
	for _, it := range items {
		name := it.Name
		if it.Cask {
			name = caskPrefix + name
		}
		inv.Packages = append(inv.Packages, patchcore.Package{Name: name, Version: it.Version, Ecosystem: patchcore.EcosystemHomebrew, Held: it.Pinned})
	}
	slices.SortFunc(inv.Packages, func(x, y patchcore.Package) int { return strings.Compare(x.Name, y.Name) })
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// ListUpdates lists outdated formulae and casks. Refresh runs `brew
// update` first.
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if err := checkTarget("listing updates", req.Target); err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("brew: offline catalog: %w", patchcore.ErrUnsupported)
	}
	if req.Refresh {
		if _, err := a.query(ctx, "refreshing the taps", "update", "--quiet"); err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
	}
	items, err := a.outdated(ctx)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	ups := make([]adapters.Update, 0, len(items))
	for _, it := range items {
		u := adapters.Update{
			ID: it.ID(), Package: it.ID(), AvailableVersion: it.CurrentVersion, Held: it.Pinned,
			Origin: "homebrew/core", Classification: patchcore.ClassOther, Reboot: patchcore.RebootNever,
		}
		if it.Cask {
			u.Origin = "homebrew/cask"
		}
		u.InstalledVersion = newestVersion(it.InstalledVersions)
		ups = append(ups, u)
	}
	slices.SortFunc(ups, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

// splitID returns the brew arguments naming an ID: "--formula curl" or
// "--cask firefox"; ok is false for IDs brew must not see.
func splitID(id string) (kind, name string, ok bool) {
	kind, name = "--formula", id
	if n, isCask := strings.CutPrefix(id, caskPrefix); isCask {
		kind, name = "--cask", n
	}
	if name == "" || strings.HasPrefix(name, "-") || len(name) > 256 || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '\'' || r == '\\'
	}) {
		return "", "", false
	}
	return kind, name, true
}

// Download fetches each package's bottle or cask artifact with `brew fetch`.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	if err := checkTarget("download", req.Target); err != nil {
		return adapters.DownloadResponse{}, err
	}
	var resp adapters.DownloadResponse
	for _, id := range req.IDs {
		if err := ctx.Err(); err != nil {
			return adapters.DownloadResponse{}, err
		}
		kind, name, ok := splitID(id)
		if !ok {
			resp.Items = append(resp.Items, adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a Homebrew formula or cask name"})
			continue
		}
		res, err := a.runCmd(ctx, a.command("fetch", kind, name))
		item, cerr := fetchResult(id, res, err)
		if cerr != nil {
			return adapters.DownloadResponse{}, fmt.Errorf("brew: fetching %s: %w", id, cerr)
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

func fetchResult(id string, res command.Result, err error) (adapters.ItemResult, error) {
	var ee *command.ExitError
	if err != nil && !errors.As(err, &ee) {
		return adapters.ItemResult{}, err
	}
	o, line := classify(append(res.Stderr, res.Stdout...), res.ExitCode)
	if cerr := callError(o, line); cerr != nil {
		return adapters.ItemResult{}, cerr
	}
	switch o {
	case outcomeNoSuchPackage:
		return adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: line}, nil
	case outcomeFailed:
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: fmt.Sprintf("brew fetch exit %d: %s", res.ExitCode, line)}, nil
	}
	return adapters.ItemResult{ID: id, Status: adapters.ItemDownloaded}, nil
}

// Install upgrades each named formula or cask with `brew upgrade`, one at
// a time. A package already at its newest version is ItemInstalled without
// running anything; a pinned formula is ItemHeld unless Force, which
// unpins, upgrades and pins it again. Homebrew never asks for a restart.
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := checkTarget("install", req.Target); err != nil {
		return adapters.InstallResponse{}, err
	}
	installed, err := a.installed(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	outdated, err := a.outdated(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	have := map[string]installedItem{}
	for _, it := range installed {
		id := it.Name
		if it.Cask {
			id = caskPrefix + id
		}
		have[id] = it
	}
	newer := map[string]outdatedItem{}
	for _, it := range outdated {
		newer[it.ID()] = it
	}
	var resp adapters.InstallResponse
	for _, id := range req.IDs {
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{}, err
		}
		kind, name, ok := splitID(id)
		cur, isInstalled := have[id]
		up, isOutdated := newer[id]
		item := adapters.ItemResult{ID: id, FromVersion: cur.Version}
		switch {
		case !ok:
			item = adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a Homebrew formula or cask name"}
		case !isInstalled:
			item.Status, item.Reason = adapters.ItemNotApplicable, "not installed"
		case !isOutdated:
			item.Status, item.ToVersion = adapters.ItemInstalled, cur.Version
			item.Reason = "already installed at the newest version " + cur.Version
		case up.Pinned && !req.Force:
			item.Status, item.Reason = adapters.ItemHeld, "pinned (brew pin); install with Force to upgrade"
		default:
			item, err = a.upgrade(ctx, id, kind, name, up.Pinned)
			if err != nil {
				return adapters.InstallResponse{}, err
			}
			item.FromVersion = cur.Version
			if item.Status == adapters.ItemInstalled && item.ToVersion == "" {
				item.ToVersion = up.CurrentVersion
			}
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

func (a *adapter) upgrade(ctx context.Context, id, kind, name string, pinned bool) (adapters.ItemResult, error) {
	// Unpinning, upgrading and pinning again are one transaction: once
	// begun it runs to its end whatever ctx says.
	tctx, err := pm.Begin(ctx)
	if err != nil {
		return adapters.ItemResult{}, err
	}
	if pinned {
		if _, err := a.query(tctx, "unpinning "+name, "unpin", name); err != nil {
			return adapters.ItemResult{}, err
		}
		defer func() {
			if _, err := a.query(tctx, "pinning "+name+" again", "pin", name); err != nil {
				a.log.Error("could not restore pin", "formula", name, "error", err)
			}
		}()
	}
	res, err := a.runCmd(tctx, a.command("upgrade", kind, name))
	var ee *command.ExitError
	if err != nil && !errors.As(err, &ee) {
		return adapters.ItemResult{}, fmt.Errorf("brew: upgrading %s: %w", id, err)
	}
	item, cerr := upgradeResult(id, res.ExitCode, append(res.Stderr, res.Stdout...))
	if cerr != nil {
		return adapters.ItemResult{}, fmt.Errorf("brew: upgrading %s: %w", id, cerr)
	}
	if err := ctx.Err(); err != nil {
		return adapters.ItemResult{}, err
	}
	return item, nil
}

// upgradeResult maps the exit code and output of `brew upgrade` for one
// package to its result. A lock held by another brew and running as root
// are errors for the whole call.
func upgradeResult(id string, exitCode int, out []byte) (adapters.ItemResult, error) {
	o, line := classify(out, exitCode)
	if err := callError(o, line); err != nil {
		return adapters.ItemResult{}, err
	}
	item := adapters.ItemResult{ID: id}
	switch o {
	case outcomeOK:
		item.Status = adapters.ItemInstalled
	case outcomeAlreadyInstalled:
		item.Status, item.Reason = adapters.ItemInstalled, "already installed: "+line
	case outcomeNotInstalled, outcomeNoSuchPackage:
		item.Status, item.Reason = adapters.ItemNotApplicable, line
	case outcomePinned:
		item.Status, item.Reason = adapters.ItemHeld, line
	default:
		item.Status, item.Reason = adapters.ItemFailed, fmt.Sprintf("brew upgrade exit %d: %s", exitCode, line)
	}
	return item, nil
}

// RebootRequired always answers false: Homebrew packages never need a
// restart of the machine.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	if err := checkTarget("reboot check", req.Target); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	return adapters.RebootRequiredResponse{}, nil
}
