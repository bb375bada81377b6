package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// adapterVersion is this adapter's own version.
const adapterVersion = "0.1.0"

// hello is the adapter. It keeps no state between calls: everything is read
// from the directory each time, so Inventory and ListUpdates are
// deterministic and safe to call concurrently.
type hello struct {
	// defaultRoot is the running "system": $HELLO_ROOT, or the state
	// directory in the user's configuration directory.
	defaultRoot string
	// fromEnv reports that $HELLO_ROOT named defaultRoot.
	fromEnv bool
	log     hclog.Logger
	semver  version.Scheme
}

var (
	_ adapters.Adapter     = (*hello)(nil)
	_ adapters.Uninstaller = (*hello)(nil)
)

// newAdapter is the Factory: it reads $HELLO_ROOT and runs no command, so it
// is cheap and never fails. Package managers that run commands take
// env.Runner and use nothing else.
//
// Without $HELLO_ROOT the running system's state lives in DefaultRoot, as
// a real package manager keeps its database in a fixed place; while that
// directory does not exist, nothing is installed and nothing is available.
func newAdapter(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	h := &hello{log: env.Logger, semver: version.SemverScheme()}
	if root := os.Getenv("HELLO_ROOT"); root != "" {
		h.defaultRoot, h.fromEnv = root, true
	} else if root, err := defaultRoot(); err == nil {
		h.defaultRoot = root
	}
	return h, nil
}

// defaultRoot is the state directory used without $HELLO_ROOT:
// hello-adapter in the user's configuration directory
// ($XDG_CONFIG_HOME or ~/.config on Linux).
func defaultRoot() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "hello-adapter"), nil
}

func (h *hello) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return adapters.InfoResponse{
		Name:            "hello",
		Version:         adapterVersion,
		ProtocolVersion: adapters.ProtocolVersion,
		Platforms:       []string{"linux", "darwin", "windows"},
		VersionScheme:   version.Semver,
		Capabilities:    []adapters.Capability{adapters.CapAlternateRoot, adapters.CapUninstall},
	}, nil
}

// root resolves the directory a request acts on.
func (h *hello) root(ctx context.Context, t adapters.Target) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	root := t.Root
	if root == "" {
		root = h.defaultRoot
		if root == "" {
			return "", fmt.Errorf("hello: no root: no user configuration directory for the default state; set HELLO_ROOT or Target.Root: %w", patchcore.ErrInvalidInput)
		}
		if !h.fromEnv {
			// The default state directory need not exist yet: then the
			// system has nothing installed and an empty repository.
			if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
				h.log.Debug("state directory does not exist yet: nothing installed", "root", root)
				return root, nil
			}
		}
	}
	fi, err := os.Stat(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("hello: root %s: %w", root, patchcore.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return "", fmt.Errorf("hello: root %s: %w", root, patchcore.ErrPermission)
	case err != nil:
		return "", fmt.Errorf("hello: root %s: %w", root, err)
	case !fi.IsDir():
		return "", fmt.Errorf("hello: root %s is not a directory: %w", root, patchcore.ErrInvalidInput)
	}
	return root, nil
}

// installed reads installed/: name -> version, and the names sorted.
func (h *hello) installed(root string) (map[string]string, []string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "installed"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("hello: reading %s: %w", filepath.Join(root, "installed"), err)
	}
	vers := map[string]string{}
	var names []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(root, "installed", e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("hello: reading %s: %w", filepath.Join(root, "installed", e.Name()), err)
		}
		vers[e.Name()] = strings.TrimSpace(string(b))
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return vers, names, nil
}

// newest returns the highest version of name in repo/, or "" when there is none.
func (h *hello) newest(root, name string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "repo", name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hello: reading %s: %w", filepath.Join(root, "repo", name), err)
	}
	best := ""
	for _, e := range entries {
		if _, err := h.semver.Parse(e.Name()); err != nil {
			h.log.Warn("ignoring repository entry that is not a semver version", "package", name, "entry", e.Name())
			continue
		}
		if best == "" {
			best = e.Name()
			continue
		}
		if c, _ := h.semver.Compare(e.Name(), best); c > 0 {
			best = e.Name()
		}
	}
	return best, nil
}

func (h *hello) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	start := time.Now()
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	vers, names, err := h.installed(root)
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	inv := patchcore.Inventory{
		Platform:      patchcore.Platform{Family: "linux", Distro: "hello"},
		Packages:      make([]patchcore.Package, 0, len(names)),
		PendingReboot: exists(filepath.Join(root, "reboot-required")),
		CollectedAt:   start,
	}
	for _, n := range names {
		inv.Packages = append(inv.Packages, patchcore.Package{Name: n, Version: vers[n], Ecosystem: "hello"})
	}
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

func (h *hello) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	vers, names, err := h.installed(root)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	var r adapters.ListUpdatesResponse
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
		best, err := h.newest(root, n)
		if err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
		if best == "" {
			continue
		}
		if c, err := h.semver.Compare(best, vers[n]); err != nil || c <= 0 {
			continue
		}
		r.Updates = append(r.Updates, adapters.Update{
			ID: n, Package: n, InstalledVersion: vers[n], AvailableVersion: best,
			Origin: "hello-repo", Classification: patchcore.ClassBugfix, Reboot: patchcore.RebootNever,
		})
	}
	return r, nil
}

func (h *hello) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	r := adapters.DownloadResponse{Items: make([]adapters.ItemResult, 0, len(req.IDs))}
	for _, id := range req.IDs {
		best, err := h.newest(root, id)
		switch {
		case err != nil:
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: err.Error()})
		case best == "":
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "no such package in the repository"})
		default:
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemDownloaded, ToVersion: best})
		}
	}
	return r, nil
}

// Install installs the newest repository version of each named package. A
// package already at that version succeeds with ItemInstalled. The lock is
// checked before anything changes; once writing starts, a cancelled context
// does not interrupt the transaction.
func (h *hello) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	if exists(filepath.Join(root, "lock")) {
		return adapters.InstallResponse{}, fmt.Errorf("hello: %s exists: %w", filepath.Join(root, "lock"), patchcore.ErrPackageManagerLocked)
	}
	vers, _, err := h.installed(root)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	r := adapters.InstallResponse{Items: make([]adapters.ItemResult, 0, len(req.IDs))}
	for _, id := range req.IDs {
		r.Items = append(r.Items, h.installOne(root, id, vers[id]))
	}
	return r, nil
}

func (h *hello) installOne(root, id, current string) adapters.ItemResult {
	if id == "" || strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a package name"}
	}
	best, err := h.newest(root, id)
	switch {
	case err != nil:
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: err.Error()}
	case best == "" && current != "":
		return adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, Reason: "already installed; not in the repository", FromVersion: current, ToVersion: current}
	case best == "":
		return adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "no such package in the repository"}
	}
	if c, err := h.semver.Compare(best, current); current != "" && err == nil && c <= 0 {
		return adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, Reason: "already the newest version", FromVersion: current, ToVersion: current}
	}
	if err := os.MkdirAll(filepath.Join(root, "installed"), 0o755); err != nil {
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: err.Error()}
	}
	if err := os.WriteFile(filepath.Join(root, "installed", id), []byte(best+"\n"), 0o644); err != nil {
		return adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: err.Error()}
	}
	h.log.Info("installed", "package", id, "from", current, "to", best)
	return adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, FromVersion: current, ToVersion: best}
}

// Uninstall removes installed packages (CapUninstall). A package that is not
// installed is not applicable, not an error.
func (h *hello) Uninstall(ctx context.Context, req adapters.UninstallRequest) (adapters.UninstallResponse, error) {
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.UninstallResponse{}, err
	}
	vers, _, err := h.installed(root)
	if err != nil {
		return adapters.UninstallResponse{}, err
	}
	var r adapters.UninstallResponse
	for _, id := range req.IDs {
		cur, ok := vers[id]
		if !ok {
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "not installed"})
			continue
		}
		if err := os.Remove(filepath.Join(root, "installed", id)); err != nil {
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: err.Error()})
			continue
		}
		r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemRemoved, FromVersion: cur})
	}
	return r, nil
}

func (h *hello) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	root, err := h.root(ctx, req.Target)
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	if exists(filepath.Join(root, "reboot-required")) {
		return adapters.RebootRequiredResponse{Required: true, Reasons: []string{"reboot-required flag file"}}, nil
	}
	return adapters.RebootRequiredResponse{}, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
