// Package winget is the patchcore adapter for the Windows Package Manager:
// installed packages from `winget list`, available upgrades from `winget
// upgrade` (pinned packages reported held, from `winget pin list`), and
// installs with `winget upgrade --id ID --exact --silent`, one package at a
// time, the HRESULT winget exits with (APPINSTALLER_CLI_ERROR_*) mapped to
// a per-item result.
//
// winget has no machine-readable listing, so the adapter reads its tables:
// columns come from the header's positions in console cells (wide
// characters count twice), not from the header's words, so it works in any
// display language; progress spinners and escape sequences are removed
// first. winget truncates long names and IDs with "…" to fit its width: a
// truncated ID is reported as it is and cannot be installed by it.
//
// Every command runs through the command.Runner given to New, without a
// shell. The pending-reboot check reads the Windows registry through the
// winreboot.Registry the Options carry.
package winget

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// Options configure an adapter.
type Options struct {
	// Runner runs winget. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Binary is the winget executable; empty means "winget" on the PATH.
	// Under the SYSTEM account winget is not on the PATH: give the full
	// path of winget.exe under C:\Program Files\WindowsApps.
	Binary string
	// Registry is read for a pending restart; nil means winreboot.System().
	Registry winreboot.Registry
	// Source restricts installs and listings to one source ("winget").
	Source string
}

// adapter is the winget adapter. Create it with New.
type adapter struct {
	pm     pm.Runner
	log    hclog.Logger
	bin    string
	reg    winreboot.Registry
	source string
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a winget adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner("winget", opts.Runner, opts.Logger), bin: opts.Binary, reg: opts.Registry, source: opts.Source}
	a.log = a.pm.Log()
	a.pm.Missing = "is not installed or not on the PATH"
	if a.bin == "" {
		a.bin = "winget"
	}
	if a.reg == nil {
		a.reg = winreboot.System()
	}
	return a
}

// Factory is the adapters.Factory for "winget".
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          "winget",
		Version:       adapterVersion,
		Platforms:     []string{"windows"},
		VersionScheme: "dotted",
	})
}

// common are the options every winget call gets: no prompts, source
// agreements accepted (they cannot be answered non-interactively).
func (a *adapter) common() []string {
	args := []string{"--accept-source-agreements", "--disable-interactivity"}
	if a.source != "" {
		args = append(args, "--source", a.source)
	}
	return args
}

func (a *adapter) runCmd(ctx context.Context, args ...string) (command.Result, error) {
	c := command.Command{Name: a.bin, Args: args}
	return a.pm.Query(ctx, c)
}

// exitCode returns the code as the 32-bit HRESULT winget exited with.
func exitCode(res command.Result, err error) (uint32, bool) { return pm.ExitCode32(res, err) }

// query runs a listing command. "No packages found" is an empty listing.
func (a *adapter) query(ctx context.Context, what string, args ...string) ([]wgTable, error) {
	res, err := a.runCmd(ctx, append(args, a.common()...)...)
	code, exited := exitCode(res, err)
	switch {
	case !exited:
		return nil, fmt.Errorf("winget: %s: %w", what, err)
	case code == hrNoApplicationsFound || code == hrUpdateNotApplicable:
		return nil, nil
	case code == hrCommandRequiresAdmin:
		return nil, fmt.Errorf("winget: %s: %w: %s", what, patchcore.ErrPermission, describe(code))
	case code == hrInstallInProgress:
		return nil, fmt.Errorf("winget: %s: %w: %s", what, patchcore.ErrPackageManagerLocked, describe(code))
	case code != 0:
		return nil, fmt.Errorf("winget: %s: %s: %w", what, describe(code), err)
	}
	tables, perr := parseTables(res.Stdout)
	if perr != nil {
		return nil, fmt.Errorf("winget: %s: %w", what, perr)
	}
	return tables, nil
}

// listedPkg is one row of `winget list` or `winget upgrade`.
type listedPkg struct {
	Name      string
	ID        string
	Version   string
	Available string
	Source    string
	// Explicit marks upgrades winget only applies when named (its
	// "require explicit targeting" table).
	Explicit bool
}

// Truncated reports an ID winget cut short with "…".
func (l listedPkg) Truncated() bool { return strings.HasSuffix(l.ID, ellipsis) }

// tableRows maps tables to listedPkg rows. Columns are found by their English
// names when the header has them, by position otherwise (Name, Id,
// Version, then Available and Source when there are five columns, or
// Source when the fourth column holds source names).
func tableRows(tables []wgTable) []listedPkg {
	var out []listedPkg
	for ti, t := range tables {
		name, id, ver := t.Column("Name"), t.Column("Id"), t.Column("Version")
		avail, src := t.Column("Available"), t.Column("Source")
		if id < 0 || ver < 0 {
			name, id, ver, avail, src = 0, 1, 2, -1, -1
			switch len(t.Header) {
			case 4:
				if looksLikeSources(t, 3) {
					src = 3
				} else {
					avail = 3
				}
			case 5:
				avail, src = 3, 4
			}
		}
		cell := func(row []string, i int) string {
			if i < 0 || i >= len(row) {
				return ""
			}
			return row[i]
		}
		for _, r := range t.Rows {
			l := listedPkg{Name: cell(r, name), ID: cell(r, id), Version: cell(r, ver), Available: cell(r, avail), Source: cell(r, src), Explicit: ti > 0}
			if l.ID != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

func looksLikeSources(t wgTable, col int) bool {
	for _, r := range t.Rows {
		if col < len(r) && r[col] != "" && r[col] != "winget" && r[col] != "msstore" {
			return false
		}
	}
	return true
}

func (a *adapter) listed(ctx context.Context) ([]listedPkg, error) {
	t, err := a.query(ctx, "listing installed packages", "list")
	if err != nil {
		return nil, err
	}
	return tableRows(t), nil
}

func (a *adapter) upgradable(ctx context.Context) ([]listedPkg, error) {
	t, err := a.query(ctx, "listing upgrades", "upgrade", "--include-pinned")
	if err != nil {
		return nil, err
	}
	return tableRows(t), nil
}

// resolveTruncated replaces IDs winget truncated with "…" in upgrade rows
// by the full ID of the one installed package whose ID starts with the
// kept prefix and whose version matches; IDs it cannot resolve stay as
// they are.
func resolveTruncated(rows, installed []listedPkg) []listedPkg {
	out := slices.Clone(rows)
	for i, r := range out {
		if !r.Truncated() {
			continue
		}
		prefix := strings.TrimSuffix(r.ID, ellipsis)
		var match []listedPkg
		for _, in := range installed {
			if !in.Truncated() && strings.HasPrefix(in.ID, prefix) && in.Version == r.Version {
				match = append(match, in)
			}
		}
		if len(match) == 1 {
			out[i].ID = match[0].ID
		}
	}
	return out
}

func (a *adapter) pins(ctx context.Context) (map[string]bool, error) {
	t, err := a.query(ctx, "listing pins", "pin", "list")
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, l := range tableRows(t) {
		m[strings.ToLower(l.ID)] = true
	}
	return m, nil
}

func checkTarget(what string, t adapters.Target) error {
	if t.Root != "" {
		return fmt.Errorf("winget: %s: alternate root %q: %w", what, t.Root, patchcore.ErrUnsupported)
	}
	return nil
}

// Inventory lists what `winget list` shows: packages from its sources and
// the Add/Remove Programs and MSIX entries it matched or not (IDs such as
// "ARP\Machine\X64\..." for those), pinned ones Held.
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := checkTarget("inventory", req.Target); err != nil {
		return adapters.InventoryResponse{}, err
	}
	start := time.Now()
	rows, err := a.listed(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	pins, err := a.pins(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inv := patchcore.Inventory{
		Platform:    patchcore.Platform{Family: patchcore.FamilyWindows, Distro: "windows"},
		Packages:    make([]patchcore.Package, 0, len(rows)),
		CollectedAt: start.UTC(),
	}
	for _, r := range rows {
		inv.Packages = append(inv.Packages, patchcore.Package{Name: r.ID, Version: r.Version, Ecosystem: patchcore.EcosystemWinget, Held: pins[strings.ToLower(r.ID)]})
	}
	slices.SortFunc(inv.Packages, func(x, y patchcore.Package) int {
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		return strings.Compare(x.Version, y.Version)
	})
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// ListUpdates lists `winget upgrade --include-pinned`; the update ID is
// the package identifier. Refresh runs `winget source update` first.
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if err := checkTarget("listing updates", req.Target); err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("winget: offline catalog: %w", patchcore.ErrUnsupported)
	}
	if req.Refresh {
		if _, err := a.query(ctx, "updating sources", "source", "update"); err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
	}
	rows, err := a.upgradable(ctx)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if slices.ContainsFunc(rows, listedPkg.Truncated) {
		installed, err := a.listed(ctx)
		if err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
		rows = resolveTruncated(rows, installed)
	}
	pins, err := a.pins(ctx)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	ups := make([]adapters.Update, 0, len(rows))
	for _, r := range rows {
		if r.Available == "" {
			continue
		}
		origin := r.Source
		if origin == "" {
			origin = "winget"
		}
		ups = append(ups, adapters.Update{
			ID: r.ID, Package: r.ID, Title: r.Name, InstalledVersion: r.Version, AvailableVersion: r.Available,
			Origin: origin, Classification: patchcore.ClassOther, Held: pins[strings.ToLower(r.ID)], Reboot: patchcore.RebootMay,
		})
	}
	slices.SortFunc(ups, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	ups = slices.CompactFunc(ups, func(x, y adapters.Update) bool { return x.ID == y.ID })
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

// validID reports whether id may be passed to winget --id.
func validID(id string) bool {
	return id != "" && !strings.HasPrefix(id, "-") && len(id) <= 512 &&
		!strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r == 0x7f || r == '"' })
}

// Download saves each package's installer with `winget download` (winget
// 1.6 and later) to the account's Downloads folder.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	if err := checkTarget("download", req.Target); err != nil {
		return adapters.DownloadResponse{}, err
	}
	var resp adapters.DownloadResponse
	for _, id := range req.IDs {
		if err := ctx.Err(); err != nil {
			return adapters.DownloadResponse{}, err
		}
		if item, bad := refuse(id); bad {
			resp.Items = append(resp.Items, item)
			continue
		}
		args := append([]string{"download", "--id", id, "--exact", "--accept-package-agreements"}, a.common()...)
		res, err := a.runCmd(ctx, args...)
		code, exited := exitCode(res, err)
		if !exited {
			return adapters.DownloadResponse{}, fmt.Errorf("winget: downloading %s: %w", id, err)
		}
		item, cerr := itemResult(id, code, res.Stdout)
		if cerr != nil {
			return adapters.DownloadResponse{}, fmt.Errorf("winget: downloading %s: %w", id, cerr)
		}
		if item.Status == adapters.ItemInstalled {
			item.Status, item.Reason = adapters.ItemDownloaded, ""
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

func refuse(id string) (adapters.ItemResult, bool) {
	switch {
	case !validID(id):
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a winget package identifier"}, true
	case strings.HasSuffix(id, ellipsis):
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "winget truncated this identifier in its table output; install it by its full identifier"}, true
	}
	return adapters.ItemResult{}, false
}

// Install upgrades each named package with `winget upgrade --id ID
// --exact --silent`, one at a time. A package already at its newest
// version is ItemInstalled without running anything; a pinned package is
// ItemHeld unless Force, which adds --include-pinned (a blocking pin still
// refuses, and that is reported held).
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := checkTarget("install", req.Target); err != nil {
		return adapters.InstallResponse{}, err
	}
	installed, err := a.listed(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	upgradable, err := a.upgradable(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	pins, err := a.pins(ctx)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	have := map[string]listedPkg{}
	for _, l := range installed {
		have[strings.ToLower(l.ID)] = l
	}
	newer := map[string]listedPkg{}
	for _, l := range resolveTruncated(upgradable, installed) {
		if l.Available != "" {
			newer[strings.ToLower(l.ID)] = l
		}
	}
	var resp adapters.InstallResponse
	for _, id := range req.IDs {
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{}, err
		}
		key := strings.ToLower(id)
		cur, isInstalled := have[key]
		up, isOutdated := newer[key]
		item, bad := refuse(id)
		switch {
		case bad:
		case isInstalled && !isOutdated:
			item = adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, FromVersion: cur.Version, ToVersion: cur.Version,
				Reason: "already installed at the newest version " + cur.Version}
		case pins[key] && !req.Force:
			item = adapters.ItemResult{ID: id, Status: adapters.ItemHeld, FromVersion: cur.Version, Reason: "pinned (winget pin); install with Force to upgrade"}
		default:
			args := []string{"upgrade", "--id", id, "--exact", "--silent", "--accept-package-agreements"}
			if pins[key] {
				args = append(args, "--include-pinned")
			}
			// Once started, winget runs to its end whatever ctx says.
			res, err := a.pm.Transaction(ctx, command.Command{Name: a.bin, Args: append(args, a.common()...)})
			code, exited := exitCode(res, err)
			if !exited {
				return adapters.InstallResponse{}, fmt.Errorf("winget: upgrading %s: %w", id, err)
			}
			var cerr error
			item, cerr = itemResult(id, code, res.Stdout)
			if cerr != nil {
				return adapters.InstallResponse{}, fmt.Errorf("winget: upgrading %s: %w", id, cerr)
			}
			item.FromVersion = cur.Version
			if item.Status == adapters.ItemInstalled || item.Status == adapters.ItemInstalledPendingReboot {
				if item.ToVersion == "" {
					item.ToVersion = up.Available
				}
			}
			if err := ctx.Err(); err != nil {
				return adapters.InstallResponse{}, err
			}
		}
		if item.Status == adapters.ItemInstalledPendingReboot {
			resp.RebootRequired = true
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

// itemResult maps winget's exit code (an HRESULT) for one package to the
// item's result; out is winget's output, whose last line explains a
// failure. Another installation in progress and missing administrator
// rights are errors for the whole call.
func itemResult(id string, code uint32, out []byte) (adapters.ItemResult, error) {
	item := adapters.ItemResult{ID: id}
	switch code {
	case 0:
		item.Status = adapters.ItemInstalled
	case hrUpdateNotApplicable, hrPackageAlreadyInstalled, hrInstallAlreadyInstalled, hrUpgradeVersionNotNewer:
		item.Status, item.Reason = adapters.ItemInstalled, "already installed: "+describe(code)
	case hrInstallDowngrade:
		item.Status, item.Reason = adapters.ItemInstalled, "a newer version is installed: "+describe(code)
	case hrInstallRebootToFinish, hrInstallRebootInitiated, exitRebootRequired, exitRebootInitiated:
		item.Status, item.Reason = adapters.ItemInstalledPendingReboot, "installed; a restart completes it: "+describe(code)
	case hrNoApplicationsFound:
		item.Status, item.Reason = adapters.ItemNotApplicable, "no installed package matches: "+describe(code)
	case hrPackageIsPinned:
		item.Status, item.Reason = adapters.ItemHeld, "a blocking pin prevents the upgrade: "+describe(code)
	case hrInstallInProgress, exitMSIBusy:
		return item, fmt.Errorf("%w: %s", patchcore.ErrPackageManagerLocked, describe(code))
	case hrCommandRequiresAdmin:
		return item, fmt.Errorf("%w: %s", patchcore.ErrPermission, describe(code))
	default:
		item.Status, item.Reason = adapters.ItemFailed, "winget upgrade "+describe(code)
		if l := lastLine(out); l != "" {
			item.Reason += ": " + l
		}
	}
	return item, nil
}

// lastLine returns the last non-empty line of winget's cleaned output.
func lastLine(out []byte) string {
	lines, err := cleanLines(out)
	if err != nil {
		return ""
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" && !isRule(s) {
			return s
		}
	}
	return ""
}

// RebootRequired reads the registry signals of a pending restart.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := checkTarget("reboot check", req.Target); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	required, reasons, err := winreboot.Check(ctx, a.reg)
	if err != nil {
		return adapters.RebootRequiredResponse{}, fmt.Errorf("winget: %w", err)
	}
	return adapters.RebootRequiredResponse{Required: required, Reasons: reasons}, nil
}
