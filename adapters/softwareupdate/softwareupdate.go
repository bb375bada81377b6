// Package softwareupdate is the patchcore adapter for Apple's software
// updates on macOS: `softwareupdate --list` for the available updates
// (recommended flag, restart or shut-down action, size), `--download` and
// `--install` by label, one at a time and never with --restart (the
// deployment decides when to restart), and sw_vers for the platform.
//
// Every command runs through the command.Runner given to New, without a
// shell, with LC_ALL=C. Parsing and result mapping are plain Go tested on
// every OS.
package softwareupdate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
)

// adapterVersion is the adapter's own version.
const adapterVersion = "0.1.0"

// Options configure an adapter.
type Options struct {
	// Runner runs softwareupdate, sw_vers and uname. Nil means command.OS{}.
	Runner command.Runner
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Binary is the softwareupdate executable; empty means /usr/sbin/softwareupdate.
	Binary string
}

// adapter is the softwareupdate adapter. Create it with New.
type adapter struct {
	pm  pm.Runner
	log hclog.Logger
	bin string

	mu sync.Mutex
	// restartFor lists updates this adapter installed that asked for a restart.
	restartFor []string
}

var _ adapters.Adapter = (*adapter)(nil)

// New returns a softwareupdate adapter configured by opts.
func New(opts Options) adapters.Adapter {
	a := &adapter{pm: pm.NewRunner("softwareupdate", opts.Runner, opts.Logger), bin: opts.Binary}
	a.log = a.pm.Log()
	a.pm.Missing = "not found; is this macOS?"
	if a.bin == "" {
		a.bin = "/usr/sbin/softwareupdate"
	}
	return a
}

// Factory is the adapters.Factory for "softwareupdate".
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Runner: env.Runner, Logger: env.Logger}), nil
}

// Info describes the adapter. It runs no command.
func (a *adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return pm.Info(ctx, adapters.InfoResponse{
		Name:          "softwareupdate",
		Version:       adapterVersion,
		Platforms:     []string{"macos"},
		VersionScheme: "dotted",
	})
}

func (a *adapter) runCmd(ctx context.Context, name string, args ...string) (command.Result, error) {
	c := command.Command{Name: name, Args: args}
	return a.pm.Query(ctx, c)
}

// output runs a read-only command and returns stdout and stderr together
// (softwareupdate splits its report between them).
func (a *adapter) output(ctx context.Context, what, name string, args ...string) ([]byte, error) {
	res, err := a.runCmd(ctx, name, args...)
	if err != nil {
		rep := parseInstall(append(slices.Clone(res.Stderr), res.Stdout...))
		if rep.NeedsAuth {
			return nil, fmt.Errorf("softwareupdate: %s: %w: %w", what, patchcore.ErrPermission, err)
		}
		return nil, fmt.Errorf("softwareupdate: %s: %w", what, err)
	}
	return append(slices.Clone(res.Stdout), res.Stderr...), nil
}

func checkTarget(what string, t adapters.Target) error {
	if t.Root != "" {
		return fmt.Errorf("softwareupdate: %s: alternate root %q: %w", what, t.Root, patchcore.ErrUnsupported)
	}
	return nil
}

// parseSwVers reads `sw_vers` ("ProductName:\tmacOS", "ProductVersion:\t14.4.1",
// "BuildVersion:\t23E224") into a Platform.
func parseSwVers(out []byte) (patchcore.Platform, error) {
	p := patchcore.Platform{Family: patchcore.FamilyDarwin, Distro: "macos"}
	err := scanLines(out, func(_ int, raw string) error {
		k, v, ok := strings.Cut(raw, ":")
		if !ok {
			return nil
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "ProductName":
			p.ProductName = v
		case "ProductVersion":
			p.Version = v
		case "BuildVersion":
			p.Build = v
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if p.Version == "" {
		return p, fmt.Errorf("sw_vers: %w: no ProductVersion", patchcore.ErrInvalidInput)
	}
	return p, nil
}

// history returns the updates softwareupdate installed.
func (a *adapter) history(ctx context.Context) ([]historyEntry, error) {
	out, err := a.output(ctx, "reading the install history", a.bin, "--history")
	if err != nil {
		return nil, err
	}
	h, err := parseHistory(out)
	if err != nil {
		return nil, fmt.Errorf("softwareupdate: reading the install history: %w", err)
	}
	return h, nil
}

// Inventory reports the platform (sw_vers, uname -m) and, as packages, the
// updates softwareupdate installed (--history, newest version of each name).
func (a *adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := checkTarget("inventory", req.Target); err != nil {
		return adapters.InventoryResponse{}, err
	}
	start := time.Now()
	out, err := a.output(ctx, "reading the OS version", "sw_vers")
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	plat, err := parseSwVers(out)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	arch, err := a.output(ctx, "reading the architecture", "uname", "-m")
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	plat.Arch = strings.TrimSpace(string(arch))
	hist, err := a.history(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	newest := map[string]string{}
	for _, h := range hist {
		if h.Version != "" && newerDotted(h.Version, newest[h.Name]) {
			newest[h.Name] = h.Version
		}
	}
	inv := patchcore.Inventory{Platform: plat, Packages: make([]patchcore.Package, 0, len(newest)), CollectedAt: start.UTC()}
	for name, v := range newest {
		inv.Packages = append(inv.Packages, patchcore.Package{Name: name, Version: v, Ecosystem: patchcore.EcosystemMacOS})
	}
	slices.SortFunc(inv.Packages, func(x, y patchcore.Package) int { return strings.Compare(x.Name, y.Name) })
	a.mu.Lock()
	inv.PendingReboot = len(a.restartFor) > 0
	a.mu.Unlock()
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// newerDotted reports a > b comparing dot-separated numbers, falling back
// to string order for parts that are not numbers; any a beats an empty b.
func newerDotted(a, b string) bool {
	if b == "" {
		return true
	}
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y string
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if len(x) != len(y) && isDigits(x) && isDigits(y) {
			return len(strings.TrimLeft(x, "0")) > len(strings.TrimLeft(y, "0"))
		}
		if x != y {
			return x > y
		}
	}
	return false
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// list runs softwareupdate --list.
func (a *adapter) list(ctx context.Context) ([]swItem, error) {
	out, err := a.output(ctx, "listing updates", a.bin, "--list")
	if err != nil {
		return nil, err
	}
	items, err := parseList(out)
	if err != nil {
		return nil, fmt.Errorf("softwareupdate: listing updates: %w", err)
	}
	return items, nil
}

// classify maps an update to a patchcore classification: Rapid and
// Background Security Responses and security updates are security, macOS
// releases (cumulative, like a rollup) are update_rollup, Command Line Tools
// and Xcode are tools, the rest (Safari, firmware, apps) other.
func classify(it swItem) patchcore.Classification {
	t := strings.ToLower(it.Title + " " + it.Label)
	switch {
	case strings.Contains(t, "security response") || strings.Contains(t, "security update"):
		return patchcore.ClassSecurity
	case strings.HasPrefix(strings.ToLower(it.Title), "macos") || strings.HasPrefix(strings.ToLower(it.Label), "macos"):
		return patchcore.ClassUpdateRollup
	case strings.Contains(t, "command line tools") || strings.Contains(t, "xcode"):
		return patchcore.ClassTool
	}
	return patchcore.ClassOther
}

// toUpdate turns a listed item into an adapters.Update, ID being the label.
func toUpdate(it swItem) adapters.Update {
	u := adapters.Update{
		ID: it.Label, AvailableVersion: it.Version, Title: it.Title, Origin: "apple",
		Classification: classify(it), Size: it.Size, Reboot: patchcore.RebootNever,
	}
	if it.Action == "restart" || it.Action == "shut down" {
		u.Reboot = patchcore.RebootRequired
	}
	if !it.Recommended {
		u.Origin = "apple (not recommended)"
	}
	return u
}

// ListUpdates lists what softwareupdate offers. softwareupdate always asks
// Apple (or the configured catalog), so Refresh changes nothing.
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if err := checkTarget("listing updates", req.Target); err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("softwareupdate: offline catalog: %w", patchcore.ErrUnsupported)
	}
	items, err := a.list(ctx)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	ups := make([]adapters.Update, 0, len(items))
	for _, it := range items {
		ups = append(ups, toUpdate(it))
	}
	slices.SortFunc(ups, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	ups = slices.CompactFunc(ups, func(x, y adapters.Update) bool { return x.ID == y.ID })
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

// validLabel reports whether a label may be passed to softwareupdate.
func validLabel(l string) bool {
	return l != "" && !strings.HasPrefix(l, "-") && len(l) <= 512 &&
		!strings.ContainsFunc(l, func(r rune) bool { return r < ' ' || r == 0x7f })
}

// installedAlready finds a history entry matching a label: labels are
// "Name-Version" or "NameVersion..." for the names history shows.
func installedAlready(label string, hist []historyEntry) (historyEntry, bool) {
	for _, h := range hist {
		if h.Name == "" || h.Version == "" {
			continue
		}
		// "Command Line Tools for Xcode-15.3" (name-version) or
		// "macOS Sonoma 14.4-23E214" (title-build, the title holding the version).
		if label == h.Name+"-"+h.Version || label == h.Name+h.Version ||
			(strings.HasPrefix(label, h.Name+"-") && strings.HasSuffix(h.Name, " "+h.Version)) {
			return h, true
		}
	}
	return historyEntry{}, false
}

// resolve splits the requested labels into those softwareupdate offers now
// and results for the rest (already installed per the history, or unknown).
func (a *adapter) resolve(ctx context.Context, ids []string) (map[string]swItem, map[string]adapters.ItemResult, error) {
	items, err := a.list(ctx)
	if err != nil {
		return nil, nil, err
	}
	offered := map[string]swItem{}
	for _, it := range items {
		offered[it.Label] = it
	}
	done := map[string]adapters.ItemResult{}
	var hist []historyEntry
	for _, id := range ids {
		if _, ok := offered[id]; ok {
			continue
		}
		if !validLabel(id) {
			done[id] = adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a softwareupdate label"}
			continue
		}
		if hist == nil {
			if hist, err = a.history(ctx); err != nil {
				return nil, nil, err
			}
		}
		if h, ok := installedAlready(id, hist); ok {
			done[id] = adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, ToVersion: h.Version, Reason: "already installed (" + h.Date + ")"}
			continue
		}
		done[id] = adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "softwareupdate does not offer this update"}
	}
	return offered, done, nil
}

// Download stages each update with `softwareupdate --download LABEL`.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	if err := checkTarget("download", req.Target); err != nil {
		return adapters.DownloadResponse{}, err
	}
	offered, done, err := a.resolve(ctx, req.IDs)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	var resp adapters.DownloadResponse
	for _, id := range req.IDs {
		if r, ok := done[id]; ok {
			resp.Items = append(resp.Items, r)
			continue
		}
		if err := ctx.Err(); err != nil {
			return adapters.DownloadResponse{}, err
		}
		res, err := a.runCmd(ctx, a.bin, "--download", id)
		item, cerr := stepResult(id, offered[id], "download", res, err)
		if cerr != nil {
			return adapters.DownloadResponse{}, cerr
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

// Install installs each update with `softwareupdate --install LABEL
// --agree-to-license`, one at a time, never restarting: an update whose
// action is restart (or that says so) is ItemInstalledPendingReboot.
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := checkTarget("install", req.Target); err != nil {
		return adapters.InstallResponse{}, err
	}
	offered, done, err := a.resolve(ctx, req.IDs)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	var resp adapters.InstallResponse
	for _, id := range req.IDs {
		if r, ok := done[id]; ok {
			resp.Items = append(resp.Items, r)
			continue
		}
		// Once started, softwareupdate runs to its end whatever ctx says.
		res, err := a.pm.Transaction(ctx, command.Command{Name: a.bin, Args: []string{"--install", id, "--agree-to-license"}})
		if err != nil && ctx.Err() != nil {
			return adapters.InstallResponse{}, err
		}
		item, cerr := stepResult(id, offered[id], "install", res, err)
		if cerr != nil {
			return adapters.InstallResponse{}, cerr
		}
		if item.Status == adapters.ItemInstalledPendingReboot {
			resp.RebootRequired = true
			a.mu.Lock()
			a.restartFor = append(a.restartFor, id)
			a.mu.Unlock()
		}
		resp.Items = append(resp.Items, item)
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{}, err
		}
	}
	return resp, nil
}

// stepResult maps the outcome of `softwareupdate --download` or
// `--install` for one label. An update that needs credentials is an error
// wrapping patchcore.ErrPermission; a command that did not run is an error.
func stepResult(id string, it swItem, step string, res command.Result, err error) (adapters.ItemResult, error) {
	var ee *command.ExitError
	if err != nil && !errors.As(err, &ee) {
		return adapters.ItemResult{}, fmt.Errorf("softwareupdate: %s %s: %w", step, id, err)
	}
	rep := parseInstall(append(slices.Clone(res.Stdout), res.Stderr...))
	item := adapters.ItemResult{ID: id}
	switch {
	case rep.NeedsAuth:
		return adapters.ItemResult{}, fmt.Errorf("softwareupdate: %s %s: %w: %s", step, id, patchcore.ErrPermission, rep.Failed)
	case rep.NoSuchUpdate:
		item.Status, item.Reason = adapters.ItemNotApplicable, "softwareupdate does not offer this update"
	case res.ExitCode != 0 || rep.Failed != "":
		item.Status, item.Reason = adapters.ItemFailed, fmt.Sprintf("softwareupdate --%s exit %d", step, res.ExitCode)
		if rep.Failed != "" {
			item.Reason += ": " + rep.Failed
		}
	case step == "download":
		item.Status = adapters.ItemDownloaded
	case rep.Restart || it.Action == "restart" || it.Action == "shut down":
		item.Status, item.ToVersion = adapters.ItemInstalledPendingReboot, it.Version
		item.Reason = "installed; a restart completes it"
	default:
		item.Status, item.ToVersion = adapters.ItemInstalled, it.Version
	}
	return item, nil
}

// RebootRequired reports a restart pending for updates this adapter
// installed since it started. macOS keeps no pending-restart flag that other
// tools set, so updates installed by others are not seen.
func (a *adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	if err := checkTarget("reboot check", req.Target); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var resp adapters.RebootRequiredResponse
	for _, l := range a.restartFor {
		resp.Required = true
		resp.Reasons = append(resp.Reasons, "installed "+l+", which asks for a restart")
	}
	return resp, nil
}
