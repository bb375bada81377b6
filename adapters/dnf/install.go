package dnf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
)

// plan resolves IDs (package names, name.arch, or advisory IDs) against
// the current updates.
type plan struct {
	items []adapters.ItemResult
	// targets maps a requested item index to the updates it needs.
	targets map[int][]adapters.Update
	// names are the packages to hand to dnf.
	names []string
	// exclude are the locked packages dnf must not touch.
	exclude []string
}

func (a *adapter) makePlan(ctx context.Context, t target, ids []string, force bool, done adapters.ItemStatus) (plan, error) {
	p := plan{targets: map[int][]adapters.Update{}}
	ups, err := a.listUpdates(ctx, t, false)
	if err != nil {
		return p, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return p, err
	}
	if !force {
		for _, u := range ups {
			if u.Held {
				p.exclude = append(p.exclude, u.Package)
			}
		}
	}
	for i, id := range ids {
		item := adapters.ItemResult{ID: id}
		var need []adapters.Update
		for _, u := range ups {
			if u.ID == id || u.Package == id || u.Package+"."+u.Arch == id || slices.Contains(u.Advisories, id) {
				need = append(need, u)
			}
		}
		switch {
		case id == "" || strings.HasPrefix(id, "-") || strings.ContainsAny(id, " \t\n"):
			item.Status, item.Reason = adapters.ItemFailed, fmt.Sprintf("%q is not a package name or advisory ID", id)
		case len(need) == 0:
			if slices.ContainsFunc(inst, func(p rpmmeta.Installed) bool { return p.Name == id }) {
				item.Status, item.Reason = done, "no update available: "+id+" is at the newest version the repositories offer"
			} else {
				item = notInstalled(id)
			}
		default:
			var held []string
			for _, u := range need {
				if u.Held && !force {
					held = append(held, u.Package)
				}
			}
			if len(held) > 0 {
				item.Status, item.Reason = adapters.ItemHeld, "locked by versionlock: "+strings.Join(held, ", ")+"; not upgraded without force"
				break
			}
			if len(need) == 1 {
				item.FromVersion, item.ToVersion = need[0].InstalledVersion, need[0].AvailableVersion
			}
			p.targets[i] = need
			for _, u := range need {
				n := u.Package + "." + u.Arch
				if !slices.Contains(p.names, n) {
					p.names = append(p.names, n)
				}
			}
		}
		p.items = append(p.items, item)
	}
	return p, nil
}

// Download fetches the packages of the named updates into dnf's cache.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	p, err := a.makePlan(ctx, t, req.IDs, false, adapters.ItemDownloaded)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	if len(p.names) > 0 {
		res, err := a.upgrade(ctx, t, p, true)
		if err != nil {
			if e := a.classify("downloading", res, err); isSentinel(e) {
				return adapters.DownloadResponse{}, e
			}
		}
		for i := range p.targets {
			if err != nil {
				p.items[i].Status, p.items[i].Reason = adapters.ItemFailed, fmt.Sprintf("%s --downloadonly failed (exit %d): %s", a.bin, res.ExitCode, firstLine(string(res.Stderr)))
			} else {
				p.items[i].Status = adapters.ItemDownloaded
			}
		}
	}
	return adapters.DownloadResponse{Items: p.items}, nil
}

// Install upgrades the named packages, or the packages of the named
// advisories, with one dnf upgrade transaction; locked packages are
// excluded unless the request says Force. Each ID gets a result checked
// against rpm afterwards. Once dnf has started, cancelling ctx lets the
// transaction finish before Install returns ctx.Err().
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	p, err := a.makePlan(ctx, t, req.IDs, req.Force, adapters.ItemInstalled)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	if len(p.names) > 0 {
		// From here on the package manager runs to completion.
		txCtx, err := pm.Begin(ctx)
		if err != nil {
			return adapters.InstallResponse{}, err
		}
		res, runErr := a.upgrade(txCtx, t, p, false)
		if runErr != nil {
			if e := a.classify("installing", res, runErr); isSentinel(e) {
				return adapters.InstallResponse{}, e
			}
		}
		after, err := a.installed(txCtx, t)
		if err != nil {
			return adapters.InstallResponse{}, err
		}
		for i, need := range p.targets {
			it := &p.items[i]
			var missing []string
			for _, u := range need {
				if now := installedEVR(after, u.Package, u.Arch); now != u.AvailableVersion {
					missing = append(missing, fmt.Sprintf("%s is at %s, not %s", u.Package, now, u.AvailableVersion))
				}
			}
			if len(missing) == 0 {
				it.Status = adapters.ItemInstalled
				continue
			}
			it.Status, it.Reason = adapters.ItemFailed, strings.Join(missing, "; ")
			if runErr != nil {
				it.Reason += fmt.Sprintf(" (%s exit %d: %s)", a.bin, res.ExitCode, firstLine(string(res.Stderr)+string(res.Stdout)))
			}
		}
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{Items: p.items}, err
		}
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	reboot, _ := a.rebootReasons(t, inst)
	return adapters.InstallResponse{Items: p.items, RebootRequired: reboot}, nil
}

// upgrade runs dnf upgrade (or --downloadonly) for the plan's packages.
func (a *adapter) upgrade(ctx context.Context, t target, p plan, downloadOnly bool) (command.Result, error) {
	args := append(a.pmArgs(t), "-y")
	if len(p.exclude) == 0 {
		// Locks were lifted by force (or there are none): let dnf's own
		// versionlock plugin, where installed, not veto what was asked.
		args = append(args, "--disableplugin=versionlock")
	}
	for _, x := range p.exclude {
		args = append(args, "--exclude="+x)
	}
	if downloadOnly {
		args = append(args, "--downloadonly")
	}
	args = append(args, "upgrade")
	args = append(args, p.names...)
	return a.runCmd(ctx, command.Command{Name: a.bin, Args: args})
}

// isSentinel reports an error that must be returned as the call's error
// (a lock, missing privileges, a missing program) rather than per item.
func isSentinel(err error) bool {
	return errors.Is(err, patchcore.ErrPackageManagerLocked) || errors.Is(err, patchcore.ErrPermission) ||
		errors.Is(err, patchcore.ErrUnsupported)
}

// notInstalled is the result for an ID that names neither an installed
// package nor an advisory with a pending update.
func notInstalled(id string) adapters.ItemResult {
	if pm.IsAdvisoryID(id) {
		return pm.NotInstalled(id, "no pending update belongs to the advisory "+id)
	}
	return pm.NotInstalled(id, id+" is neither an installed package nor an advisory with a pending update")
}
