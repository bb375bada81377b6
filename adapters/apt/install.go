package apt

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
)

// nonInteractiveEnv keeps apt, debconf and their helpers from asking questions.
var nonInteractiveEnv = []string{
	"DEBIAN_FRONTEND=noninteractive",
	"APT_LISTCHANGES_FRONTEND=none",
	"NEEDRESTART_MODE=l",
}

// plan is what Install or Download decided for each requested ID.
type plan struct {
	items []adapters.ItemResult
	// names are the packages to hand to apt-get (name or name:arch).
	names []string
	// index maps a name in names to its item.
	index map[string]int
	// candidates maps a name in names to the version it should reach.
	candidates map[string]string
}

// makePlan resolves IDs against the current updates and inventory: an ID
// is a package name ("unzip") or name:arch. Unknown or not installed
// packages are not applicable; up-to-date ones already installed; held ones
// held unless force.
func (a *adapter) makePlan(ctx context.Context, t target, ids []string, force bool, done adapters.ItemStatus) (plan, error) {
	p := plan{index: map[string]int{}, candidates: map[string]string{}}
	ups, err := a.listUpdates(ctx, t)
	if err != nil {
		return p, err
	}
	inst, err := a.installed(ctx, t)
	if err != nil {
		return p, err
	}
	for _, id := range ids {
		item := adapters.ItemResult{ID: id}
		u, found := findUpdate(ups, id)
		switch {
		case id == "" || strings.ContainsAny(id, " \t\n=/") || strings.HasPrefix(id, "-"):
			item.Status = adapters.ItemFailed
			item.Reason = fmt.Sprintf("%q is not a package name", id)
		case !found:
			name, _, _ := strings.Cut(id, ":")
			if v, ok := installedVersion(inst, name); ok {
				item.Status = done
				item.FromVersion, item.ToVersion = v, v
				item.Reason = "no newer candidate: " + name + " " + v + " is the newest version apt offers"
			} else if pm.IsAdvisoryID(id) {
				item = pm.NotInstalled(id, "apt cannot map the advisory "+id+" to packages (apt reports no advisory IDs); name the packages it fixes")
			} else {
				item = pm.NotInstalled(id, "package "+name+" is not installed")
			}
		case u.Held && !force:
			item.Status = adapters.ItemHeld
			item.FromVersion = u.InstalledVersion
			item.Reason = "package " + u.Package + " is on hold (apt-mark hold); not upgraded without force"
		default:
			item.FromVersion, item.ToVersion = u.InstalledVersion, u.AvailableVersion
			if _, dup := p.index[u.ID]; !dup {
				p.index[u.ID] = len(p.items)
				p.names = append(p.names, u.ID)
				p.candidates[u.ID] = u.AvailableVersion
			}
		}
		p.items = append(p.items, item)
	}
	return p, nil
}

func findUpdate(ups []adapters.Update, id string) (adapters.Update, bool) {
	for _, u := range ups {
		if u.ID == id || u.Package+":"+u.Arch == id {
			return u, true
		}
	}
	return adapters.Update{}, false
}

func installedVersion(pkgs []patchcore.Package, name string) (string, bool) {
	for _, p := range pkgs {
		if p.Name == name {
			return p.Version, true
		}
	}
	return "", false
}

// aptGetArgs are the options every installing apt-get call gets.
func (a *adapter) aptGetArgs(t target, force bool) []string {
	args := append(t.aptOptions(),
		"-y", "-q",
		"-o", "Dpkg::Options::=--force-confdef",
		"-o", "Dpkg::Options::=--force-confold",
		"-o", "DPkg::Lock::Timeout="+strconv.Itoa(a.lockWait),
	)
	if !t.host() {
		args = append(args, "-o", "DPkg::Chroot-Directory="+t.root)
	}
	if force {
		args = append(args, "--allow-change-held-packages")
	}
	return args
}

// Download fetches the candidate packages of the named updates into apt's
// archive cache without installing them.
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
		args := append(a.aptGetArgs(t, false), "--download-only", "--no-remove", "install", "--only-upgrade")
		args = append(args, p.names...)
		res, err := a.runCmd(ctx, command.Command{Name: "apt-get", Args: args, Env: nonInteractiveEnv})
		if err := classifyAptError("downloading with apt-get", res, err); err != nil {
			if ctx.Err() != nil || aptSigns().Locked(res) || res.ExitCode == 0 {
				return adapters.DownloadResponse{}, err
			}
			for _, n := range p.names {
				it := &p.items[p.index[n]]
				it.Status, it.Reason = adapters.ItemFailed, "apt-get --download-only failed (exit "+strconv.Itoa(res.ExitCode)+"): "+firstErrorLine(string(res.Stderr))
			}
			return adapters.DownloadResponse{Items: p.items}, nil
		}
		for _, n := range p.names {
			p.items[p.index[n]].Status = adapters.ItemDownloaded
		}
	}
	return adapters.DownloadResponse{Items: p.items}, nil
}

// Install upgrades the named packages to their candidate versions with
// apt-get install --only-upgrade, never removing packages. Each ID gets a
// result: installed (also when it was already up to date), held (on hold
// and not forced), not applicable (not installed), or failed with apt's
// reason. When dpkg was interrupted earlier, Install repairs it with
// dpkg --configure -a and tries once more. Once apt-get has started,
// cancelling ctx lets the transaction finish before Install returns
// ctx.Err().
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
		res, runErr := a.aptInstall(txCtx, t, p.names, req.Force)
		if runErr != nil && strings.Contains(string(res.Stderr)+string(res.Stdout), "dpkg --configure -a") {
			a.log.Warn("dpkg was interrupted; repairing with dpkg --configure -a", "root", t.root)
			if err := a.repair(txCtx, t); err != nil {
				return adapters.InstallResponse{}, err
			}
			res, runErr = a.aptInstall(txCtx, t, p.names, req.Force)
		}
		if runErr != nil {
			out := string(res.Stderr) + "\n" + string(res.Stdout)
			if aptSigns().Locked(res) || res.ExitCode == 0 {
				return adapters.InstallResponse{}, classifyAptError("installing with apt-get", res, runErr)
			}
			a.log.Error("apt-get install failed", "exit", res.ExitCode, "error", firstErrorLine(out))
		}
		after, err := a.installed(txCtx, t)
		if err != nil {
			return adapters.InstallResponse{}, err
		}
		for _, n := range p.names {
			it := &p.items[p.index[n]]
			name, _, _ := strings.Cut(n, ":")
			now, _ := installedVersion(after, name)
			if now == p.candidates[n] {
				it.Status = adapters.ItemInstalled
				continue
			}
			it.Status = adapters.ItemFailed
			it.Reason = fmt.Sprintf("%s is at %s after apt-get, not %s", name, now, p.candidates[n])
			if runErr != nil {
				it.Reason += fmt.Sprintf(" (apt-get exit %d: %s)", res.ExitCode, firstErrorLine(string(res.Stderr)+"\n"+string(res.Stdout)))
			}
		}
		if err := ctx.Err(); err != nil {
			return adapters.InstallResponse{Items: p.items}, err
		}
	}
	reboot, _, err := rebootRequired(t)
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	for i := range p.items {
		if reboot && p.items[i].Status == adapters.ItemInstalled && p.items[i].FromVersion != p.items[i].ToVersion {
			p.items[i].Status = adapters.ItemInstalledPendingReboot
		}
	}
	return adapters.InstallResponse{Items: p.items, RebootRequired: reboot}, nil
}

// aptInstall runs apt-get install --only-upgrade for names.
func (a *adapter) aptInstall(ctx context.Context, t target, names []string, force bool) (command.Result, error) {
	args := append(a.aptGetArgs(t, force), "--no-remove", "install", "--only-upgrade")
	args = append(args, names...)
	return a.runCmd(ctx, command.Command{Name: "apt-get", Args: args, Env: nonInteractiveEnv})
}

// repair finishes an interrupted dpkg run with dpkg --configure -a.
func (a *adapter) repair(ctx context.Context, t target) error {
	var args []string
	if !t.host() {
		args = append(args, "--root="+t.root)
	}
	args = append(args, "--force-confdef", "--force-confold", "--configure", "-a")
	res, err := a.runCmd(ctx, command.Command{Name: "dpkg", Args: args, Env: nonInteractiveEnv})
	return classifyAptError("repairing with dpkg --configure -a", res, err)
}
