package patchcore

import "time"

// FindingState is detection's verdict on one patch for one device.
type FindingState string

// Finding states. Unknown always carries a reason and is never compliant.
const (
	FindingMissing                FindingState = "missing"
	FindingInstalled              FindingState = "installed"
	FindingInstalledPendingReboot FindingState = "installed_pending_reboot"
	FindingNotApplicable          FindingState = "not_applicable"
	FindingSuperseded             FindingState = "superseded"
	FindingUnknown                FindingState = "unknown"
)

// Finding is what detection concluded about one patch on one device, with
// the evidence: the package and versions it compared and why.
type Finding struct {
	PatchID        string         `json:"patch_id"`
	Title          string         `json:"title,omitempty"`
	Source         string         `json:"source,omitempty"`
	Severity       Severity       `json:"severity"`
	Classification Classification `json:"classification"`
	CVEs           []string       `json:"cves,omitempty"`
	Released       time.Time      `json:"released,omitzero"`
	// Package, InstalledVersion and FixedVersion are the comparison that
	// decided the state (for Windows: the product, the device build and the FixedBuild).
	Package          string       `json:"package,omitempty"`
	InstalledVersion string       `json:"installed_version,omitempty"`
	FixedVersion     string       `json:"fixed_version,omitempty"`
	State            FindingState `json:"state"`
	// Reason is a one-line decision trace ("unzip 6.0-28 < 6.0-28+deb12u1
	// (deb) from DSA-5678-1 for bookworm").
	Reason string `json:"reason"`
	// Fix is the fix the device needs (or the one that matched).
	Fix *Fix `json:"fix,omitempty"`
	// SupersededBy names the installed patch that made this one superseded.
	SupersededBy string `json:"superseded_by,omitempty"`
	// Evidence lists every comparison behind the state, one per installed
	// package and fix (a source-package advisory touches each binary built
	// from it); Package, versions and Reason above repeat the decisive one.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one comparison behind a Finding: an installed package (or the
// OS build) against one fix of the patch.
type Evidence struct {
	Package          string       `json:"package"`
	InstalledVersion string       `json:"installed_version,omitempty"`
	FixedVersion     string       `json:"fixed_version,omitempty"`
	State            FindingState `json:"state"`
	Reason           string       `json:"reason"`
}

// ComplianceState is the per-patch compliance state of a device against its
// baseline, named as AWS Systems Manager Patch Manager names them.
type ComplianceState string

// Compliance states.
const (
	ComplianceInstalled              ComplianceState = "INSTALLED"
	ComplianceInstalledOther         ComplianceState = "INSTALLED_OTHER"
	ComplianceInstalledPendingReboot ComplianceState = "INSTALLED_PENDING_REBOOT"
	ComplianceInstalledRejected      ComplianceState = "INSTALLED_REJECTED"
	ComplianceMissing                ComplianceState = "MISSING"
	ComplianceNotApplicable          ComplianceState = "NOT_APPLICABLE"
	ComplianceFailed                 ComplianceState = "FAILED"
)

// DeploymentState is the state of one patch on one device within a deployment.
type DeploymentState string

// Deployment states. Terminal states are Installed, FailedFinal, Aborted,
// NotApplicable, InstalledByUser and Unknown. The transitions between them
// are deploy.Transitions; docs/design.md in the repository explains each
// state and transition.
const (
	DeployPosted                 DeploymentState = "posted"
	DeployDownloading            DeploymentState = "downloading"
	DeployDownloaded             DeploymentState = "downloaded"
	DeployWaiting                DeploymentState = "waiting"
	DeployInstalling             DeploymentState = "installing"
	DeployInstalled              DeploymentState = "installed"
	DeployInstalledPendingReboot DeploymentState = "installed_pending_reboot"
	DeployFailed                 DeploymentState = "failed"
	DeployRetrying               DeploymentState = "retrying"
	DeployFailedFinal            DeploymentState = "failed_final"
	DeployAborted                DeploymentState = "aborted"
	DeployNotApplicable          DeploymentState = "not_applicable"
	DeployInstalledByUser        DeploymentState = "installed_by_user"
	DeployUnknown                DeploymentState = "unknown"
)

// Terminal reports whether no further transition leaves s.
func (s DeploymentState) Terminal() bool {
	switch s {
	case DeployInstalled, DeployFailedFinal, DeployAborted, DeployNotApplicable,
		DeployInstalledByUser, DeployUnknown:
		return true
	}
	return false
}
