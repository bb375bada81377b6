package detect

import (
	"github.com/patchcore/sdk/patchcore"
)

// Result is detection's snapshot of one device: a finding per patch that
// concerns it, sorted by patch ID, and the count of every state (including
// findings left out by ActionableOnly and NotApplicable patches without a
// finding).
type Result struct {
	DeviceID string              `json:"device_id,omitempty"`
	Platform patchcore.Platform  `json:"platform"`
	Findings []patchcore.Finding `json:"findings"`
	Counts   Counts              `json:"counts"`
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

func (c *Counts) add(s patchcore.FindingState) {
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
func (r Result) Finding(patchID string) (patchcore.Finding, bool) {
	for _, f := range r.Findings {
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
	prev := make(map[string]int, len(previous.Findings))
	for i, f := range previous.Findings {
		prev[f.PatchID] = i
	}
	seen := make(map[string]bool, len(r.Findings))
	for _, f := range r.Findings {
		seen[f.PatchID] = true
		i, ok := prev[f.PatchID]
		if !ok {
			d.Added = append(d.Added, f)
			continue
		}
		p := previous.Findings[i]
		if p.State != f.State || p.InstalledVersion != f.InstalledVersion || p.FixedVersion != f.FixedVersion || p.SupersededBy != f.SupersededBy {
			d.Changed = append(d.Changed, Change{PatchID: f.PatchID, From: p.State, To: f.State, Previous: p, Current: f})
		}
	}
	for _, p := range previous.Findings {
		if !seen[p.PatchID] {
			d.Removed = append(d.Removed, p)
		}
	}
	return d
}
