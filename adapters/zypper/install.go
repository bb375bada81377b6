package zypper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
)

type plan struct {
	items    []adapters.ItemResult
	targets  map[int][]adapters.Update
	packages []string // for zypper update
	patches  []string // for zypper install -t patch
}

func (a *adapter) makePlan(ctx context.Context, t target, ids []string, done adapters.ItemStatus) (plan, []rpmmeta.Installed, error) {
	p := plan{targets: map[int][]adapters.Update{}}
	ups, err := a.listUpdates(ctx, t)
	if err != nil {
		return p, nil, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return p, nil, err
	}
	for i, id := range ids {
		item := adapters.ItemResult{ID: id}
		var need []adapters.Update
		isPatch := false
		for _, u := range ups {
			if u.ID == id || (u.Package != "" && u.Package == id) {
				need = append(need, u)
			} else if slices.Contains(u.Advisories, id) {
				need, isPatch = append(need, u), true
			}
		}
		switch {
		case id == "" || strings.HasPrefix(id, "-") || strings.ContainsAny(id, " \t\n"):
			item.Status, item.Reason = adapters.ItemFailed, fmt.Sprintf("%q is not a package name or patch ID", id)
		case len(need) == 0:
			if slices.ContainsFunc(inst, func(p rpmmeta.Installed) bool { return p.Name == id }) {
				item.Status, item.Reason = done, "no update available: "+id+" is at the newest version the repositories offer"
			} else {
				item = notInstalled(id)
			}
		case slices.ContainsFunc(need, func(u adapters.Update) bool { return u.Held }):
			item.Status, item.Reason = adapters.ItemHeld, "locked in /etc/zypp/locks; remove the lock (zypper removelock) to upgrade it"
		default:
			if len(need) == 1 {
				item.FromVersion, item.ToVersion = need[0].InstalledVersion, need[0].AvailableVersion
			}
			p.targets[i] = need
			if isPatch || need[0].Package == "" {
				p.patches = append(p.patches, id)
			} else {
				p.packages = append(p.packages, id)
			}
		}
		p.items = append(p.items, item)
	}
	return p, inst, nil
}

// Download fetches the packages of the named updates into zypper's cache.
func (a *adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	p, _, err := a.makePlan(ctx, t, req.IDs, adapters.ItemDownloaded)
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	runErr := a.apply(ctx, t, p, true)
	if runErr != nil && isSentinel(runErr) {
		return adapters.DownloadResponse{}, runErr
	}
	for i := range p.targets {
		if runErr != nil {
			p.items[i].Status, p.items[i].Reason = adapters.ItemFailed, runErr.Error()
		} else {
			p.items[i].Status = adapters.ItemDownloaded
		}
	}
	return adapters.DownloadResponse{Items: p.items}, nil
}

// Install upgrades the named packages (zypper update) and applies the
// named patches (zypper install -t patch). Locked packages are reported
// held: zypper's locks are the administrator's, so even Force does not
// lift them. Results are checked against rpm afterwards.
func (a *adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	p, _, err := a.makePlan(ctx, t, req.IDs, adapters.ItemInstalled)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	if len(p.targets) > 0 {
		// From here on the package manager runs to completion.
		txCtx, err := pm.Begin(ctx)
		if err != nil {
			return adapters.InstallResponse{}, err
		}
		runErr := a.apply(txCtx, t, p, false)
		if runErr != nil && isSentinel(runErr) {
			return adapters.InstallResponse{}, runErr
		}
		after, err := a.installed(txCtx, t)
		if err != nil {
			return adapters.InstallResponse{}, err
		}
		for i, need := range p.targets {
			it := &p.items[i]
			var missing []string
			for _, u := range need {
				if u.Package == "" {
					continue
				}
				now := ""
				for _, q := range after {
					if q.Name == u.Package {
						now = q.Version
					}
				}
				if now != u.AvailableVersion {
					missing = append(missing, fmt.Sprintf("%s is at %s, not %s", u.Package, now, u.AvailableVersion))
				}
			}
			if len(missing) == 0 && runErr == nil {
				it.Status = adapters.ItemInstalled
				continue
			}
			it.Status, it.Reason = adapters.ItemFailed, strings.Join(missing, "; ")
			if runErr != nil {
				it.Reason = strings.TrimPrefix(it.Reason+"; "+runErr.Error(), "; ")
			}
		}
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{Items: p.items}, err
		}
	}
	rr, err := a.RebootRequired(ctx, adapters.RebootRequiredRequest{Target: req.Target})
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	return adapters.InstallResponse{Items: p.items, RebootRequired: rr.Required}, nil
}

// apply runs zypper update for the packages and zypper install -t patch
// for the patches of a plan.
func (a *adapter) apply(ctx context.Context, t target, p plan, downloadOnly bool) error {
	var extra []string
	if downloadOnly {
		extra = []string{"--download-only"}
	}
	var errs []error
	if len(p.packages) > 0 {
		args := append([]string{"update", "--auto-agree-with-licenses"}, extra...)
		if _, err := a.zypper(ctx, t, "updating packages", append(args, p.packages...)...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(p.patches) > 0 {
		args := append([]string{"install", "--auto-agree-with-licenses", "-t", "patch"}, extra...)
		if _, err := a.zypper(ctx, t, "applying patches", append(args, p.patches...)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func isSentinel(err error) bool {
	return errors.Is(err, patchcore.ErrPackageManagerLocked) || errors.Is(err, patchcore.ErrPermission) ||
		errors.Is(err, patchcore.ErrUnsupported)
}

// notInstalled is the result for an ID that names neither an installed
// package nor a needed patch.
func notInstalled(id string) adapters.ItemResult {
	if pm.IsAdvisoryID(id) {
		return pm.NotInstalled(id, "no needed patch is the advisory "+id)
	}
	return pm.NotInstalled(id, id+" is neither an installed package nor a needed patch")
}
