package dnf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
)

// checkUpdate is one package line of `dnf check-update`.
type checkUpdate struct {
	Name, Arch, EVR, Repo string
}

// parseCheckUpdate parses `dnf -q check-update` (or yum's) output: lines
// "name.arch  [epoch:]version-release  repo", where a long name.arch may
// sit alone on its line with the rest on the next. Parsing stops at the
// "Obsoleting Packages" section; notices dnf prints ("Security: ...") are
// skipped. A line it cannot read is an error naming its number.
func parseCheckUpdate(out []byte) ([]checkUpdate, error) {
	var ups []checkUpdate
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	line := 0
	var pending []string
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "Obsoleting Packages") {
			break
		}
		if strings.HasPrefix(text, "Security:") || strings.HasPrefix(text, "Last metadata expiration") ||
			strings.HasPrefix(text, "Loaded plugins") || strings.HasPrefix(text, "Loading mirror") || strings.HasPrefix(text, "* ") {
			continue
		}
		f := append(pending, strings.Fields(text)...)
		if len(f) < 3 {
			if len(f) == 1 && strings.Contains(f[0], ".") {
				pending = f
				continue
			}
			return nil, fmt.Errorf("check-update line %d: %w: want \"name.arch version repo\", got %q", line, patchcore.ErrInvalidInput, text)
		}
		pending = nil
		if len(f) != 3 {
			return nil, fmt.Errorf("check-update line %d: %w: want 3 fields, got %d in %q", line, patchcore.ErrInvalidInput, len(f), text)
		}
		dot := strings.LastIndexByte(f[0], '.')
		if dot <= 0 || dot == len(f[0])-1 {
			return nil, fmt.Errorf("check-update line %d: %w: %q is not name.arch", line, patchcore.ErrInvalidInput, f[0])
		}
		ups = append(ups, checkUpdate{Name: f[0][:dot], Arch: f[0][dot+1:], EVR: f[1], Repo: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("check-update line %d: %w: %w", line+1, patchcore.ErrTooLarge, err)
	}
	if pending != nil {
		return nil, fmt.Errorf("check-update line %d: %w: %q has no version", line, patchcore.ErrInvalidInput, pending[0])
	}
	return ups, nil
}

// ListUpdates lists the packages `dnf check-update` offers (locked ones
// included, marked Held), each with the advisories of the cached
// updateinfo that ship its candidate: advisory IDs, the most severe
// severity, CVEs, the issued date and a classification (security when any
// advisory is a security one, otherwise the advisory type, bugfix when no
// advisory names it).
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("%s: offline catalog: %w", a.bin, patchcore.ErrUnsupported)
	}
	ups, err := a.listUpdates(ctx, t, req.Refresh)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

func (a *adapter) listUpdates(ctx context.Context, t target, refresh bool) ([]adapters.Update, error) {
	type instResult struct {
		pkgs []rpmmeta.Installed
		err  error
	}
	ch := make(chan instResult, 1)
	go func() {
		p, err := a.installed(ctx, t)
		ch <- instResult{p, err}
	}()
	// Parse the cached updateinfo while dnf runs; when dnf replaces a file
	// meanwhile, the call after it reads that file again.
	prefetched := make(chan struct{})
	if refresh {
		close(prefetched) // dnf is about to replace the metadata
	} else {
		go func() {
			defer close(prefetched)
			_, _ = a.advisories(t)
		}()
	}
	args := append(a.pmArgs(t), "--disableplugin=versionlock")
	if refresh {
		args = append(args, "--refresh")
	}
	args = append(args, "check-update")
	res, err := a.runCmd(ctx, command.Command{Name: a.bin, Args: args})
	inst := <-ch
	<-prefetched
	if errors.Is(inst.err, patchcore.ErrUnsupported) {
		return nil, inst.err // not an rpm system: whatever dnf said is beside the point
	}
	var ee *command.ExitError
	if err != nil && strings.Contains(string(res.Stderr)+string(res.Stdout), "There are no enabled repositories") {
		return nil, t.Unserved(a.bin, "has no enabled repositories: which updates are missing cannot be known")
	}
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode == 100) {
		return nil, a.classify("listing updates with check-update", res, err)
	}
	if inst.err != nil {
		return nil, inst.err
	}
	cu, err := parseCheckUpdate(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.bin, err)
	}
	idx, err := a.advisories(t)
	if err != nil {
		return nil, err
	}
	locks := a.versionlocks(t)
	out := make([]adapters.Update, 0, len(cu))
	for _, c := range cu {
		u := adapters.Update{
			ID: c.Name, Package: c.Name, Arch: c.Arch,
			InstalledVersion: installedEVR(inst.pkgs, c.Name, c.Arch),
			AvailableVersion: c.EVR, Origin: c.Repo,
			Classification: patchcore.ClassBugfix,
			Held:           rpmmeta.Locked(locks, c.Name, c.Name+"-"+c.EVR+"."+c.Arch) || rpmmeta.Locked(locks, c.Name, c.Name+"-0:"+c.EVR+"."+c.Arch),
		}
		if dup := slices.IndexFunc(out, func(o adapters.Update) bool { return o.ID == c.Name }); dup >= 0 {
			u.ID = c.Name + "." + c.Arch
			if out[dup].ID == c.Name {
				out[dup].ID = c.Name + "." + out[dup].Arch
			}
		}
		advs := idx.Lookup(c.Name, c.EVR, c.Arch)
		for i, adv := range advs {
			u.Advisories = append(u.Advisories, adv.ID)
			for _, cve := range adv.CVEs {
				if !slices.Contains(u.CVEs, cve) {
					u.CVEs = append(u.CVEs, cve)
				}
			}
			if sev := patchcore.ParseSeverity(adv.Severity); i == 0 || sev.Compare(u.Severity) > 0 {
				u.Severity = sev
			}
			if cl := adv.Classification(); i == 0 || cl == patchcore.ClassSecurity {
				u.Classification = cl
			}
			if !adv.Issued.IsZero() && (u.Issued.IsZero() || adv.Issued.Before(u.Issued)) {
				u.Issued = adv.Issued
			}
			if u.Title == "" {
				u.Title = adv.Title
			}
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// installedEVR is the newest installed version of name.arch (the latest
// installed, for install-only packages such as the kernel).
func installedEVR(pkgs []rpmmeta.Installed, name, arch string) string {
	var best rpmmeta.Installed
	for _, p := range pkgs {
		if p.Name == name && (p.Arch == arch || arch == "noarch" || p.Arch == "noarch") && !p.InstallTime.Before(best.InstallTime) {
			best = p
		}
	}
	return best.Version
}

// advisories indexes the updateinfo files dnf (or yum) cached for the
// target's repositories, parsing only those that changed since the last call.
func (a *adapter) advisories(t target) (rpmmeta.Index, error) {
	var patterns []string
	if a.bin == "yum" {
		patterns = []string{"/var/cache/yum/*/*/*/*updateinfo.xml*", "/var/cache/yum/*/*updateinfo.xml*"}
	} else {
		patterns = []string{"/var/cache/dnf/*/repodata/*updateinfo.xml*"}
	}
	var files []string
	for _, p := range patterns {
		found, _ := filepath.Glob(t.Path(p))
		files = append(files, found...)
	}
	idx, err := a.updateinfo.Index(files)
	if err != nil {
		return nil, fmt.Errorf("%s: reading cached updateinfo: %w", a.bin, err)
	}
	return idx, nil
}
