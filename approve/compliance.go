package approve

import (
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// DeviceResult is one device's latest scan, as detect reported it, plus
// what deployments said about it.
type DeviceResult struct {
	Device patchcore.Device `json:"device"`
	// Findings is the full snapshot of one scan: one finding per patch.
	Findings []patchcore.Finding `json:"findings"`
	// NotCovered, when not empty, says why the scan is no answer: the
	// catalog detection ran against has no patches for the device's
	// platform (detect.Result.Coverage.Reason when Coverage.Covered is
	// false). Such a device is never compliant, whatever its findings.
	NotCovered string `json:"not_covered,omitempty"`
	// PendingReboot reports that the device waits for a restart (from the
	// inventory); such a device is non-compliant.
	PendingReboot bool `json:"pending_reboot,omitempty"`
	// Outcomes are the latest deployment states per patch ID. A failed
	// install (failed, retrying, failed_final, or unknown: installed but the
	// rescan still finds it missing) of a patch the scan finds missing is
	// reported FAILED instead of MISSING.
	Outcomes  map[string]patchcore.DeploymentState `json:"outcomes,omitempty"`
	ScannedAt time.Time                            `json:"scanned_at,omitzero"`
}

// PatchStatus is one patch's compliance on one device.
type PatchStatus struct {
	PatchID string `json:"patch_id"`
	// State is the AWS Patch Manager state; empty for patches in
	// DeviceCompliance.Unapproved, which are not part of the baseline for
	// this device.
	State patchcore.ComplianceState `json:"state,omitempty"`
	// Approval is the baseline's decision for this device.
	Approval        Status                   `json:"approval"`
	Severity        patchcore.SeverityLevel  `json:"severity"`
	ComplianceLevel ComplianceLevel          `json:"compliance_level"`
	Classification  patchcore.Classification `json:"classification,omitempty"`
	// Unknown marks a finding detection could not decide; it is never compliant.
	Unknown bool `json:"unknown,omitempty"`
	// Reason is detection's reason; Decision the baseline's.
	Reason   string `json:"reason,omitempty"`
	Decision string `json:"decision,omitempty"`
}

// StateCounts counts patches per compliance state.
type StateCounts struct {
	Installed              int `json:"installed"`
	InstalledOther         int `json:"installed_other"`
	InstalledPendingReboot int `json:"installed_pending_reboot"`
	InstalledRejected      int `json:"installed_rejected"`
	Missing                int `json:"missing"`
	NotApplicable          int `json:"not_applicable"`
	Failed                 int `json:"failed"`
}

func (c *StateCounts) add(s patchcore.ComplianceState, n int) {
	switch s {
	case patchcore.ComplianceInstalled:
		c.Installed += n
	case patchcore.ComplianceInstalledOther:
		c.InstalledOther += n
	case patchcore.ComplianceInstalledPendingReboot:
		c.InstalledPendingReboot += n
	case patchcore.ComplianceInstalledRejected:
		c.InstalledRejected += n
	case patchcore.ComplianceMissing:
		c.Missing += n
	case patchcore.ComplianceNotApplicable:
		c.NotApplicable += n
	case patchcore.ComplianceFailed:
		c.Failed += n
	}
}

func (c *StateCounts) plus(o StateCounts) {
	c.Installed += o.Installed
	c.InstalledOther += o.InstalledOther
	c.InstalledPendingReboot += o.InstalledPendingReboot
	c.InstalledRejected += o.InstalledRejected
	c.Missing += o.Missing
	c.NotApplicable += o.NotApplicable
	c.Failed += o.Failed
}

// NonCompliant is the number of patches in non-compliant states.
func (c StateCounts) NonCompliant() int {
	return c.Missing + c.Failed + c.InstalledPendingReboot + c.InstalledRejected
}

// SeverityCounts counts by severity level.
type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	None     int `json:"none"`
	Unknown  int `json:"unknown"`
}

func (c *SeverityCounts) add(l patchcore.SeverityLevel, n int) {
	switch l {
	case patchcore.SeverityCritical:
		c.Critical += n
	case patchcore.SeverityHigh:
		c.High += n
	case patchcore.SeverityMedium:
		c.Medium += n
	case patchcore.SeverityLow:
		c.Low += n
	case patchcore.SeverityNone:
		c.None += n
	default:
		c.Unknown += n
	}
}

func (c *SeverityCounts) plus(o SeverityCounts) {
	c.Critical += o.Critical
	c.High += o.High
	c.Medium += o.Medium
	c.Low += o.Low
	c.None += o.None
	c.Unknown += o.Unknown
}

// LevelCounts counts by compliance level.
type LevelCounts struct {
	Critical      int `json:"critical"`
	High          int `json:"high"`
	Medium        int `json:"medium"`
	Low           int `json:"low"`
	Informational int `json:"informational"`
	Unspecified   int `json:"unspecified"`
}

func (c *LevelCounts) add(l ComplianceLevel, n int) {
	switch l {
	case ComplianceCritical:
		c.Critical += n
	case ComplianceHigh:
		c.High += n
	case ComplianceMedium:
		c.Medium += n
	case ComplianceLow:
		c.Low += n
	case ComplianceInformational:
		c.Informational += n
	default:
		c.Unspecified += n
	}
}

func (c *LevelCounts) plus(o LevelCounts) {
	c.Critical += o.Critical
	c.High += o.High
	c.Medium += o.Medium
	c.Low += o.Low
	c.Informational += o.Informational
	c.Unspecified += o.Unspecified
}

// DeviceCompliance is one device's compliance with its baseline.
type DeviceCompliance struct {
	Device      patchcore.Device `json:"device"`
	BaselineID  string           `json:"baseline_id"`
	EvaluatedAt time.Time        `json:"evaluated_at"`
	ScannedAt   time.Time        `json:"scanned_at,omitzero"`
	// Compliant is true when the catalog covers the device, no patch is
	// MISSING, FAILED, INSTALLED_PENDING_REBOOT or INSTALLED_REJECTED, no
	// finding is Unknown, the device does not wait for a reboot and (when
	// the baseline asks for it) no missing security patch waits for
	// approval. It is measured against the baseline, as AWS Patch Manager
	// does: a device missing patches the baseline does not approve (yet)
	// is compliant, and UnapprovedMissing says how many; "compliant" is
	// not "patched".
	Compliant bool `json:"compliant"`
	// NotCovered is DeviceResult.NotCovered: why detection had no answer
	// for the device. A device with a NotCovered reason is not compliant.
	NotCovered    string `json:"not_covered,omitempty"`
	PendingReboot bool   `json:"pending_reboot,omitempty"`
	// States counts Patches by state.
	States StateCounts `json:"states"`
	// NonCompliantBySeverity and NonCompliantByLevel count the non-compliant
	// patches by (effective) severity and by compliance level.
	NonCompliantBySeverity SeverityCounts `json:"noncompliant_by_severity"`
	NonCompliantByLevel    LevelCounts    `json:"noncompliant_by_level"`
	// Unknown counts findings detection could not decide.
	Unknown int `json:"unknown"`
	// UnapprovedMissing counts missing patches not approved for the device
	// (pending, scheduled or rejected): missing, but outside the baseline,
	// so they do not make the device non-compliant; UnapprovedSecurity
	// those among them that are security patches waiting for approval.
	// Print them beside the verdict: a baseline that approves nothing yet
	// finds every device compliant.
	UnapprovedMissing  int `json:"unapproved_missing"`
	UnapprovedSecurity int `json:"unapproved_security"`
	// Patches are the per-patch states; Unapproved the missing patches the
	// baseline does not (yet) approve for this device.
	Patches    []PatchStatus `json:"patches"`
	Unapproved []PatchStatus `json:"unapproved,omitempty"`

	// ComplianceInto also remembers, per finding, where the previous
	// device's finding at that position was in the evaluation's patches, and
	// where each of Patches and Unapproved is, for Fleet.Add: devices of one
	// platform list their patches in one order, so most lookups then skip
	// the hashing. Every remembered place is checked against the patch ID
	// before it is used, so it never changes a result; a DeviceCompliance
	// built another way (decoded from JSON, say) is looked up by ID.
	memo complianceMemo
}

type complianceMemo struct {
	byFinding, patches, unapproved []int32 // patch numbers (idTable), -1 when unknown
}

// at returns s[i], or -1 past its end.
func at(s []int32, i int) int32 {
	if i < len(s) {
		return s[i]
	}
	return -1
}

// failedOutcome reports deployment states that make a missing patch FAILED.
func failedOutcome(s patchcore.DeploymentState) bool {
	switch s {
	case patchcore.DeployFailed, patchcore.DeployRetrying, patchcore.DeployFailedFinal, patchcore.DeployUnknown:
		return true
	}
	return false
}

// Compliance evaluates one device's scan against the baseline. See
// ComplianceInto for the rules.
func (e *Evaluation) Compliance(r *DeviceResult) DeviceCompliance {
	var c DeviceCompliance
	e.ComplianceInto(&c, r)
	return c
}

// ComplianceInto is Compliance writing into c, reusing the capacity of its
// Patches and Unapproved slices, for callers that evaluate many devices.
//
// Each finding gets a state from the finding and the baseline's decision
// for this device (DecisionFor):
//
//	finding                  approved                  rejected, BLOCK     rejected, ALLOW_AS_DEPENDENCY / not approved
//	installed                INSTALLED                 INSTALLED_REJECTED  INSTALLED_OTHER
//	installed_pending_reboot INSTALLED_PENDING_REBOOT  INSTALLED_REJECTED  INSTALLED_PENDING_REBOOT
//	missing                  MISSING, or FAILED(1)     (unapproved)        (unapproved)
//	not_applicable           NOT_APPLICABLE            NOT_APPLICABLE      NOT_APPLICABLE
//	superseded               NOT_APPLICABLE            NOT_APPLICABLE      NOT_APPLICABLE
//	unknown                  MISSING, Unknown(2)       (unapproved)(2)     (unapproved)(2)
//
// (1) when Outcomes reports a failed install. (2) an Unknown finding makes
// the device non-compliant whatever the decision: detection could not tell.
// So does a NotCovered reason: the catalog could not tell anything.
// A pending reboot is non-compliant even for a patch the baseline does not
// approve, because the device needs the restart either way.
func (e *Evaluation) ComplianceInto(c *DeviceCompliance, r *DeviceResult) {
	patches, unapproved := c.Patches[:0], c.Unapproved[:0]
	m := c.memo
	m.patches, m.unapproved = m.patches[:0], m.unapproved[:0]
	for len(m.byFinding) < len(r.Findings) {
		m.byFinding = append(m.byFinding, -1)
	}
	*c = DeviceCompliance{
		Device:        r.Device,
		BaselineID:    e.BaselineID,
		EvaluatedAt:   e.At,
		ScannedAt:     r.ScannedAt,
		NotCovered:    r.NotCovered,
		PendingReboot: r.PendingReboot,
	}
	dev := &r.Device
	ring := e.ringOf(dev)
	block := e.rejectedAction == Block
	for i := range r.Findings {
		f := &r.Findings[i]
		ps := PatchStatus{PatchID: f.PatchID, Reason: f.Reason,
			Severity: f.Severity.Level, Classification: f.Classification}
		var v verdict
		j, ok := e.index.find(f.PatchID, m.byFinding[i])
		if !ok {
			j = -1
		}
		m.byFinding[i] = int32(j)
		if ok {
			pe := &e.patches[j]
			ps.Severity, ps.Classification = pe.sev, pe.class
			v, _ = pe.resolve(dev, ring)
		} else {
			v = verdict{status: StatusPending, level: ComplianceUnspecified, reason: "not among the evaluated patches"}
		}
		ps.Approval, ps.ComplianceLevel, ps.Decision = v.status, v.level, v.reason
		approved := v.status == StatusApproved
		rejectedBlock := block && v.status == StatusRejected

		switch f.State {
		case patchcore.FindingInstalled:
			switch {
			case approved:
				ps.State = patchcore.ComplianceInstalled
			case rejectedBlock:
				ps.State = patchcore.ComplianceInstalledRejected
			default:
				ps.State = patchcore.ComplianceInstalledOther
			}
		case patchcore.FindingInstalledPendingReboot:
			if rejectedBlock {
				ps.State = patchcore.ComplianceInstalledRejected
			} else {
				ps.State = patchcore.ComplianceInstalledPendingReboot
			}
		case patchcore.FindingNotApplicable, patchcore.FindingSuperseded:
			ps.State = patchcore.ComplianceNotApplicable
		case patchcore.FindingMissing:
			if approved {
				ps.State = patchcore.ComplianceMissing
				if failedOutcome(r.Outcomes[f.PatchID]) {
					ps.State = patchcore.ComplianceFailed
				}
			}
		default: // FindingUnknown, and any state this version does not know
			ps.Unknown = true
			c.Unknown++
			if approved {
				ps.State = patchcore.ComplianceMissing
				if failedOutcome(r.Outcomes[f.PatchID]) {
					ps.State = patchcore.ComplianceFailed
				}
			}
		}
		if ps.State == "" {
			c.UnapprovedMissing++
			if ps.Approval != StatusRejected && (ps.Classification == patchcore.ClassSecurity || len(f.CVEs) > 0) {
				c.UnapprovedSecurity++
			}
			unapproved = append(unapproved, ps)
			m.unapproved = append(m.unapproved, int32(j))
			continue
		}
		c.States.add(ps.State, 1)
		switch ps.State {
		case patchcore.ComplianceMissing, patchcore.ComplianceFailed,
			patchcore.ComplianceInstalledPendingReboot, patchcore.ComplianceInstalledRejected:
			c.NonCompliantBySeverity.add(ps.Severity, 1)
			c.NonCompliantByLevel.add(ps.ComplianceLevel, 1)
		}
		patches = append(patches, ps)
		m.patches = append(m.patches, int32(j))
	}
	c.Patches, c.Unapproved, c.memo = patches, unapproved, m
	c.Compliant = c.NotCovered == "" && c.States.NonCompliant() == 0 && c.Unknown == 0 && !c.PendingReboot &&
		!(e.unapprovedSecNC && c.UnapprovedSecurity > 0)
}
