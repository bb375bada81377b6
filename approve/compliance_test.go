package approve

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

// TestComplianceStates covers every finding against every decision,
// including AWS Patch Manager's semantics of rejected patches: with BLOCK an
// installed rejected patch is INSTALLED_REJECTED and non-compliant; with
// ALLOW_AS_DEPENDENCY it is INSTALLED_OTHER and compliant.
func TestComplianceStates(t *testing.T) {
	const (
		approved = "KB-APPROVED"
		rejected = "KB-REJECTED"
		pending  = "KB-PENDING"
	)
	patches := []patchcore.Patch{
		winPatch(approved, patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
		winPatch(rejected, patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1)),
		winPatch(pending, patchcore.ClassSecurity, patchcore.SeverityMedium, day(2024, 5, 1)),
	}
	tests := []struct {
		action    RejectedAction
		patch     string
		finding   patchcore.FindingState
		outcome   patchcore.DeploymentState
		want      patchcore.ComplianceState // "" means listed as unapproved
		compliant bool
	}{
		{AllowAsDependency, approved, patchcore.FindingInstalled, "", patchcore.ComplianceInstalled, true},
		{AllowAsDependency, approved, patchcore.FindingInstalledPendingReboot, "", patchcore.ComplianceInstalledPendingReboot, false},
		{AllowAsDependency, approved, patchcore.FindingMissing, "", patchcore.ComplianceMissing, false},
		{AllowAsDependency, approved, patchcore.FindingMissing, patchcore.DeployFailedFinal, patchcore.ComplianceFailed, false},
		{AllowAsDependency, approved, patchcore.FindingMissing, patchcore.DeployUnknown, patchcore.ComplianceFailed, false},
		{AllowAsDependency, approved, patchcore.FindingMissing, patchcore.DeployAborted, patchcore.ComplianceMissing, false},
		{AllowAsDependency, approved, patchcore.FindingInstalled, patchcore.DeployFailedFinal, patchcore.ComplianceInstalled, true},
		{AllowAsDependency, approved, patchcore.FindingNotApplicable, "", patchcore.ComplianceNotApplicable, true},
		{AllowAsDependency, approved, patchcore.FindingSuperseded, "", patchcore.ComplianceNotApplicable, true},
		{AllowAsDependency, approved, patchcore.FindingUnknown, "", patchcore.ComplianceMissing, false},
		{AllowAsDependency, rejected, patchcore.FindingInstalled, "", patchcore.ComplianceInstalledOther, true},
		{AllowAsDependency, rejected, patchcore.FindingInstalledPendingReboot, "", patchcore.ComplianceInstalledPendingReboot, false},
		{AllowAsDependency, rejected, patchcore.FindingMissing, "", "", true},
		{AllowAsDependency, rejected, patchcore.FindingNotApplicable, "", patchcore.ComplianceNotApplicable, true},
		{AllowAsDependency, rejected, patchcore.FindingUnknown, "", "", false},
		{Block, rejected, patchcore.FindingInstalled, "", patchcore.ComplianceInstalledRejected, false},
		{Block, rejected, patchcore.FindingInstalledPendingReboot, "", patchcore.ComplianceInstalledRejected, false},
		{Block, rejected, patchcore.FindingMissing, "", "", true},
		{Block, rejected, patchcore.FindingMissing, patchcore.DeployFailedFinal, "", true},
		{Block, rejected, patchcore.FindingNotApplicable, "", patchcore.ComplianceNotApplicable, true},
		{Block, approved, patchcore.FindingInstalled, "", patchcore.ComplianceInstalled, true},
		{Block, pending, patchcore.FindingInstalled, "", patchcore.ComplianceInstalledOther, true},
		{AllowAsDependency, pending, patchcore.FindingInstalled, "", patchcore.ComplianceInstalledOther, true},
		{AllowAsDependency, pending, patchcore.FindingMissing, "", "", true},
		{AllowAsDependency, pending, patchcore.FindingUnknown, "", "", false},
		{AllowAsDependency, "NOT-EVALUATED", patchcore.FindingInstalled, "", patchcore.ComplianceInstalledOther, true},
		{AllowAsDependency, "NOT-EVALUATED", patchcore.FindingMissing, "", "", true},
	}
	for _, tt := range tests {
		name := string(tt.action) + "/" + tt.patch + "/" + string(tt.finding) + "/" + string(tt.outcome)
		t.Run(name, func(t *testing.T) {
			b := NewBaseline("b", "")
			b.RejectedAction = tt.action
			b.ApprovedPatches = []string{approved}
			b.RejectedPatches = []string{rejected}
			e := mustEvaluate(t, b, patches, testNow)
			r := DeviceResult{Device: patchcore.Device{ID: "d1"},
				Findings: []patchcore.Finding{{PatchID: tt.patch, State: tt.finding, Reason: "detect says so"}}}
			if tt.outcome != "" {
				r.Outcomes = map[string]patchcore.DeploymentState{tt.patch: tt.outcome}
			}
			c := e.Compliance(&r)
			if tt.want == "" {
				if len(c.Patches) != 0 || len(c.Unapproved) != 1 || c.UnapprovedMissing != 1 {
					t.Fatalf("want the patch listed as unapproved, got patches %+v unapproved %+v", c.Patches, c.Unapproved)
				}
			} else {
				if len(c.Patches) != 1 || c.Patches[0].State != tt.want {
					t.Fatalf("state %+v, want %s", c.Patches, tt.want)
				}
				if c.Patches[0].Reason != "detect says so" || c.Patches[0].Decision == "" {
					t.Errorf("reasons not carried: %+v", c.Patches[0])
				}
			}
			if c.Compliant != tt.compliant {
				t.Fatalf("compliant = %v, want %v (states %+v, unknown %d)", c.Compliant, tt.compliant, c.States, c.Unknown)
			}
		})
	}
}

func TestDeviceCounts(t *testing.T) {
	patches := []patchcore.Patch{
		winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
		winPatch("KB2", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1)),
		winPatch("KB3", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 1)),
		winPatch("KB4", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1), "CVE-2024-4"),
		winPatch("KB5", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
	}
	b := NewBaseline("b", "")
	b.Rules = []Rule{
		{Name: "crit", Severities: []patchcore.SeverityLevel{patchcore.SeverityCritical}, ComplianceLevel: ComplianceCritical},
		{Name: "high", Severities: []patchcore.SeverityLevel{patchcore.SeverityHigh}, ComplianceLevel: ComplianceHigh},
	}
	b.ApprovedPatches = []string{"KB3"}
	b.Approvals = []Approval{{PatchID: "KB4", Action: ActionReject, Scope: Scope{ScopeCustomer, "acme"}, By: "u", At: day(2024, 5, 2)}}
	e := mustEvaluate(t, b, patches, testNow)
	r := DeviceResult{Device: patchcore.Device{ID: "d1", Customer: "acme"}, Findings: []patchcore.Finding{
		{PatchID: "KB1", State: patchcore.FindingMissing},
		{PatchID: "KB2", State: patchcore.FindingInstalledPendingReboot},
		{PatchID: "KB3", State: patchcore.FindingMissing},
		{PatchID: "KB4", State: patchcore.FindingMissing, CVEs: []string{"CVE-2024-4"}},
		{PatchID: "KB5", State: patchcore.FindingInstalled},
	}}
	c := e.Compliance(&r)
	wantStates := StateCounts{Installed: 1, InstalledPendingReboot: 1, Missing: 2}
	if c.States != wantStates {
		t.Errorf("states %+v, want %+v", c.States, wantStates)
	}
	if want := (SeverityCounts{Critical: 1, High: 1, Low: 1}); c.NonCompliantBySeverity != want {
		t.Errorf("by severity %+v, want %+v", c.NonCompliantBySeverity, want)
	}
	if want := (LevelCounts{Critical: 1, High: 1, Unspecified: 1}); c.NonCompliantByLevel != want {
		t.Errorf("by level %+v, want %+v", c.NonCompliantByLevel, want)
	}
	if c.Compliant || c.UnapprovedMissing != 1 || c.UnapprovedSecurity != 0 {
		t.Errorf("compliant %v unapproved %d/%d", c.Compliant, c.UnapprovedMissing, c.UnapprovedSecurity)
	}
}

func TestPendingRebootAndUnapprovedSecurity(t *testing.T) {
	patches := []patchcore.Patch{winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1))}
	b := NewBaseline("b", "")
	e := mustEvaluate(t, b, patches, testNow)
	missing := []patchcore.Finding{{PatchID: "KB1", State: patchcore.FindingMissing}}
	if c := e.Compliance(&DeviceResult{Findings: missing}); !c.Compliant || c.UnapprovedSecurity != 1 {
		t.Fatalf("a pending patch must not count by default: %+v", c)
	}
	if c := e.Compliance(&DeviceResult{PendingReboot: true}); c.Compliant {
		t.Fatal("a device waiting for a reboot must be non-compliant")
	}
	b.UnapprovedSecurityNonCompliant = true
	e = mustEvaluate(t, b, patches, testNow)
	if c := e.Compliance(&DeviceResult{Findings: missing}); c.Compliant {
		t.Fatal("with unapproved_security_noncompliant a waiting security patch must make the device non-compliant")
	}
}

func TestComplianceIntoReuses(t *testing.T) {
	patches := []patchcore.Patch{winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1))}
	b := NewBaseline("b", "")
	b.ApprovedPatches = []string{"KB1"}
	e := mustEvaluate(t, b, patches, testNow)
	r := DeviceResult{Device: patchcore.Device{ID: "d"}, Findings: []patchcore.Finding{{PatchID: "KB1", State: patchcore.FindingMissing}}}
	var c DeviceCompliance
	e.ComplianceInto(&c, &r)
	first := &c.Patches[0]
	r.Findings[0].State = patchcore.FindingInstalled
	e.ComplianceInto(&c, &r)
	if &c.Patches[0] != first || c.Patches[0].State != patchcore.ComplianceInstalled || !c.Compliant || c.States.Missing != 0 {
		t.Fatalf("reuse: %+v", c)
	}
	allocs := testing.AllocsPerRun(100, func() { e.ComplianceInto(&c, &r) })
	if allocs != 0 {
		t.Errorf("ComplianceInto allocates %v times per device, want 0", allocs)
	}
}

// TestFleetCountsDecodedCompliance: a DeviceCompliance that did not come
// from ComplianceInto (here: decoded from JSON, as a service receiving
// results from workers has it) is rolled up by patch ID, exactly as the
// original; and hints left over from other devices never change a result.
func TestFleetCountsDecodedCompliance(t *testing.T) {
	patches := []patchcore.Patch{
		winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
		winPatch("KB2", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1)),
		winPatch("KB3", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 1)),
	}
	b := NewBaseline("b", "")
	b.ApprovedPatches = []string{"KB1", "KB3"}
	e := mustEvaluate(t, b, patches, testNow)
	results := []DeviceResult{
		{Device: patchcore.Device{ID: "d1"}, Findings: []patchcore.Finding{{PatchID: "KB3", State: patchcore.FindingMissing},
			{PatchID: "KB2", State: patchcore.FindingMissing}, {PatchID: "KB1", State: patchcore.FindingInstalled}}},
		{Device: patchcore.Device{ID: "d2"}, Findings: []patchcore.Finding{{PatchID: "KB1", State: patchcore.FindingMissing},
			{PatchID: "KB9", State: patchcore.FindingInstalled}, {PatchID: "KB3", State: patchcore.FindingNotApplicable}}},
	}
	direct, decoded := NewFleet(e), NewFleet(e)
	var reused DeviceCompliance // carries the previous device's hints into the next
	for i := range results {
		e.ComplianceInto(&reused, &results[i])
		fresh := e.Compliance(&results[i])
		if !slices.Equal(reused.Patches, fresh.Patches) || !slices.Equal(reused.Unapproved, fresh.Unapproved) {
			t.Errorf("device %d: reused %+v %+v, fresh %+v %+v", i, reused.Patches, reused.Unapproved, fresh.Patches, fresh.Unapproved)
		}
		direct.Add(&reused)
		js, err := json.Marshal(reused)
		if err != nil {
			t.Fatal(err)
		}
		var c DeviceCompliance
		if err := json.Unmarshal(js, &c); err != nil {
			t.Fatal(err)
		}
		decoded.Add(&c)
	}
	want, got := direct.PatchRows(), decoded.PatchRows()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded results rolled up as\n%+v\nwant\n%+v", got, want)
	}
	if want[0].PatchID != "KB1" || want[0].Devices != 2 || want[0].Installed != 1 || want[0].Missing != 1 {
		t.Errorf("KB1 row %+v", want[0])
	}
}
