package detect

import (
	"github.com/patchcore/sdk/patchcore"
)

// Result is detection's snapshot of one device: a finding per patch that
// concerns it, sorted by patch ID, the count of every state (including
// findings left out by ActionableOnly and NotApplicable patches without a
// finding), and whether the catalog covers the device at all (Coverage):
// a Result whose Coverage is not Covered is Unknown, never clean.
//
// Findings is nil when the Engine was built with Lazy; AllFindings,
// ActionableFindings, Finding and Diff work either way. The Evidence
// slices, CVEs and Fix of findings may be shared with other Results and
// with the catalog: treat them as read-only.
type Result struct {
	DeviceID string              `json:"device_id,omitempty"`
	Platform patchcore.Platform  `json:"platform"`
	Findings []patchcore.Finding `json:"findings"`
	Counts   Counts              `json:"counts"`
	Coverage Coverage            `json:"coverage"`

	lz *lazy
}

// lazy is what a Result needs to build its findings on demand: the
// device's verdicts (shared, immutable) and Windows findings.
type lazy struct {
	plat                      *platIndex
	chunks                    []*chunk
	apps                      []*verdict
	win                       []patchcore.Finding
	actionable, notApplicable bool
}

func (l *lazy) findings(pl *patchcore.Platform, actionable bool) []patchcore.Finding {
	return findings(pl, l.plat, l.chunks, l.apps, l.win, actionable, l.notApplicable)
}

// AllFindings returns the findings of the snapshot, sorted by patch ID:
// Findings when Detect filled it, otherwise built now (each call builds
// them anew) as Detect would have without Lazy.
func (r Result) AllFindings() []patchcore.Finding {
	if r.Findings != nil || r.lz == nil {
		return r.Findings
	}
	return r.lz.findings(&r.Platform, r.lz.actionable)
}

// ActionableFindings returns the findings that need attention (Missing,
// Unknown and InstalledPendingReboot), sorted by patch ID. Under Lazy only
// those are built.
func (r Result) ActionableFindings() []patchcore.Finding {
	if r.Findings == nil && r.lz != nil {
		return r.lz.findings(&r.Platform, true)
	}
	var out []patchcore.Finding
	for _, f := range r.Findings {
		if isActionable(f.State) {
			out = append(out, f)
		}
	}
	return out
}

func isActionable(s patchcore.FindingState) bool {
	return s == patchcore.FindingMissing || s == patchcore.FindingUnknown || s == patchcore.FindingInstalledPendingReboot
}

// Counts counts patches per finding state.
type Counts struct {
	Missing                int `json:"missing"`
	Installed              int `json:"installed"`
	InstalledPendingReboot int `json:"installed_pending_reboot"`
	NotApplicable          int `json:"not_applicable"`
	Superseded             int `json:"superseded"`
	Unknown                int `json:"unknown"`
}

func (c *Counts) add(s st) { c.addState(s.state()) }

func (c *Counts) addState(s patchcore.FindingState) {
	switch s {
	case patchcore.FindingMissing:
		c.Missing++
	case patchcore.FindingInstalled:
		c.Installed++
	case patchcore.FindingInstalledPendingReboot:
		c.InstalledPendingReboot++
	case patchcore.FindingNotApplicable:
		c.NotApplicable++
	case patchcore.FindingSuperseded:
		c.Superseded++
	case patchcore.FindingUnknown:
		c.Unknown++
	}
}

// Finding returns the finding for a patch ID, and whether there is one.
// Under Lazy it builds the device's findings to find it.
func (r Result) Finding(patchID string) (patchcore.Finding, bool) {
	for _, f := range r.AllFindings() {
		if f.PatchID == patchID {
			return f, true
		}
	}
	return patchcore.Finding{}, false
}

// Diff is what changed between two snapshots of one device.
type Diff struct {
	// Added are findings for patches the previous snapshot had none for.
	Added []patchcore.Finding `json:"added,omitempty"`
	// Removed are previous findings with no counterpart now (the patch left
	// the catalog or no longer concerns the device).
	Removed []patchcore.Finding `json:"removed,omitempty"`
	// Changed are patches whose state or compared versions changed.
	Changed []Change `json:"changed,omitempty"`
}

// Change is one patch whose finding changed.
type Change struct {
	PatchID  string                 `json:"patch_id"`
	From     patchcore.FindingState `json:"from"`
	To       patchcore.FindingState `json:"to"`
	Previous patchcore.Finding      `json:"previous"`
	Current  patchcore.Finding      `json:"current"`
}

// Empty reports a diff with no changes.
func (d Diff) Empty() bool { return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 }

// Diff lists what changed since previous: added and removed patches, and
// patches whose state, installed version, fixed version or superseding
// patch changed. Both results must come from the same device; lists are in
// patch ID order.
func (r Result) Diff(previous Result) Diff {
	var d Diff
	cur, old := r.AllFindings(), previous.AllFindings()
	prev := make(map[string]int, len(old))
	for i, f := range old {
		prev[f.PatchID] = i
	}
	seen := make(map[string]bool, len(cur))
	for _, f := range cur {
		seen[f.PatchID] = true
		i, ok := prev[f.PatchID]
		if !ok {
			d.Added = append(d.Added, f)
			continue
		}
		p := old[i]
		if p.State != f.State || p.InstalledVersion != f.InstalledVersion || p.FixedVersion != f.FixedVersion || p.SupersededBy != f.SupersededBy {
			d.Changed = append(d.Changed, Change{PatchID: f.PatchID, From: p.State, To: f.State, Previous: p, Current: f})
		}
	}
	for _, p := range old {
		if !seen[p.PatchID] {
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}
