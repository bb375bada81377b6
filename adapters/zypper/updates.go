package zypper

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
	"github.com/patchcore/sdk/patchcore"
)

// ListUpdates lists package updates (with the patches that ship them),
// needed patches no package update carries, and locked packages that have
// a newer version (Held).
func (a *adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	t, err := resolveTarget(req.Target)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	if req.OfflineCatalog != "" {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("zypper: offline catalog: %w", patchcore.ErrUnsupported)
	}
	if req.Refresh {
		if _, err := a.zypper(ctx, t, "refreshing repositories", "refresh"); err != nil {
			return adapters.ListUpdatesResponse{}, err
		}
	}
	ups, err := a.listUpdates(ctx, t)
	if err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

func (a *adapter) listUpdates(ctx context.Context, t target) ([]adapters.Update, error) {
	if _, err := a.installed(ctx, t); err != nil {
		return nil, err // not an rpm system: no answer, rather than "no updates"
	}
	// Parse the cached updateinfo while zypper runs; a file zypper
	// replaces meanwhile is read again by the call after it.
	prefetched := make(chan struct{})
	go func() {
		defer close(prefetched)
		_, _ = a.advisories(t)
	}()
	// One zypper run lists both the package updates and the needed
	// patches (what list-updates and list-patches print), loading the
	// repositories once instead of twice.
	res, err := a.zypper(ctx, t, "listing updates and patches", "--xmlout", "list-updates", "--type", "package", "--type", "patch")
	<-prefetched
	if err != nil {
		return nil, err
	}
	if out := string(res.Stdout); strings.Contains(out, "No repositories defined") || strings.Contains(out, `status="no-update-repositories"`) {
		return nil, t.Unserved("zypper", "has no repositories: which updates are missing cannot be known")
	}
	doc, err := parseXML(res.Stdout)
	if err != nil {
		return nil, err
	}
	patches := map[string]xmlUpdate{}
	for _, p := range doc.Updates {
		if p.Kind == "patch" {
			patches[p.Name] = p
		}
	}
	idx, err := a.advisories(t)
	if err != nil {
		return nil, err
	}
	var out []adapters.Update
	used := map[string]bool{}
	for _, u := range doc.Updates {
		if u.Kind != "package" {
			continue
		}
		up := adapters.Update{
			ID: u.Name, Package: u.Name, Arch: u.Arch,
			InstalledVersion: u.EditionOld, AvailableVersion: u.Edition,
			Origin: u.Source.Alias, Title: strings.TrimSpace(u.Summary), Classification: patchcore.ClassBugfix,
		}
		for i, adv := range idx.Lookup(u.Name, u.Edition, u.Arch) {
			used[adv.ID] = true
			applyPatch(&up, adv.ID, patches[adv.ID], *adv, i == 0)
		}
		out = append(out, up)
	}
	for id, p := range patches {
		if used[id] || p.Status != "needed" {
			continue
		}
		up := adapters.Update{ID: id, Origin: p.Source.Alias, Title: strings.TrimSpace(p.Summary)}
		applyPatch(&up, id, p, rpmmeta.Advisory{}, true)
		out = append(out, up)
	}
	held, err := a.heldUpdates(ctx, t)
	if err != nil {
		return nil, err
	}
	out = append(out, held...)
	slices.SortFunc(out, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	return out, nil
}

// applyPatch adds a patch's facts to an update: zypper's patch listing
// (category, severity, CVEs, date) first, the cached updateinfo otherwise.
func applyPatch(up *adapters.Update, id string, p xmlUpdate, adv rpmmeta.Advisory, first bool) {
	up.Advisories = append(up.Advisories, id)
	category, severity := p.Category, p.Severity
	if category == "" {
		category = adv.Type
	}
	if severity == "" {
		severity = adv.Severity
	}
	cl := rpmmeta.Advisory{Type: category}.Classification()
	if first || cl == patchcore.ClassSecurity {
		up.Classification = cl
	}
	if sev := patchcore.ParseSeverity(severity); first || sev.Compare(up.Severity) > 0 {
		up.Severity = sev
	}
	cves := slices.Clone(adv.CVEs) // adv's slices are shared with the updateinfo cache
	for _, is := range p.Issues {
		if is.Type == "cve" {
			cves = append(cves, is.ID)
		}
	}
	for _, c := range cves {
		if !slices.Contains(up.CVEs, c) {
			up.CVEs = append(up.CVEs, c)
		}
	}
	issued := adv.Issued
	if issued.IsZero() && p.IssueDate.TimeT > 0 {
		issued = time.Unix(p.IssueDate.TimeT, 0).UTC()
	}
	if !issued.IsZero() && (up.Issued.IsZero() || issued.Before(up.Issued)) {
		up.Issued = issued
	}
	if p.Restart == "true" {
		up.Reboot = patchcore.RebootRequired
	}
	if up.Title == "" {
		up.Title = adv.Title
	}
}

// advisories indexes the updateinfo files zypper cached per repository,
// parsing only those that changed since the last call.
func (a *adapter) advisories(t target) (rpmmeta.Index, error) {
	files, _ := filepath.Glob(t.Path("/var/cache/zypp/raw/*/repodata/*updateinfo.xml*"))
	idx, err := a.updateinfo.Index(files)
	if err != nil {
		return nil, fmt.Errorf("zypper: reading cached updateinfo: %w", err)
	}
	return idx, nil
}

// heldUpdates finds locked packages with a newer version in a repository:
// zypper leaves them out of list-updates.
func (a *adapter) heldUpdates(ctx context.Context, t target) ([]adapters.Update, error) {
	locks := a.locks(t)
	if len(locks) == 0 {
		return nil, nil
	}
	args := append([]string{"--xmlout", "search", "-s", "-t", "package", "--match-exact"}, locks...)
	res, err := a.zypper(ctx, t, "searching locked packages", args...)
	if err != nil {
		if res.ExitCode == 104 { // ZYPPER_EXIT_INF_CAP_NOT_FOUND: none of them exists
			return nil, nil
		}
		return nil, err
	}
	doc, err := parseXML(res.Stdout)
	if err != nil {
		return nil, err
	}
	var out []adapters.Update
	for _, name := range locks {
		var inst, best string
		var arch, repo string
		for _, s := range doc.Found {
			if s.Name != name {
				continue
			}
			if s.Status == "installed" {
				inst = s.Edition
				continue
			}
			if best == "" || newer(s.Edition, best) {
				best, arch, repo = s.Edition, s.Arch, s.Repository
			}
		}
		if inst != "" && best != "" && newer(best, inst) {
			out = append(out, adapters.Update{ID: name, Package: name, Arch: arch, InstalledVersion: inst,
				AvailableVersion: best, Origin: repo, Classification: patchcore.ClassBugfix, Held: true})
		}
	}
	return out, nil
}

// newer reports a > b in rpm order; unparsable versions are never newer.
func newer(a, b string) bool {
	c, err := rpmScheme.Compare(a, b)
	return err == nil && c > 0
}
