package approve

import (
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

// TestNotCoveredIsNeverCompliant: a device the catalog does not cover has
// no findings, which used to read as compliant; with the reason detection
// gives it is non-compliant, counted among the devices with unknowns, and
// the next device evaluated into the same DeviceCompliance is not.
func TestNotCoveredIsNeverCompliant(t *testing.T) {
	b := NewBaseline("b", "")
	b.AutoApproval.Platforms = []string{"*"}
	b.Rules = []Rule{{Name: "all"}}
	e := mustEvaluate(t, b, []patchcore.Patch{debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1), "unzip", "6.0-28+deb12u1")}, testNow)
	const reason = "the catalog has no patches for rocky 9"
	r := DeviceResult{Device: patchcore.Device{ID: "r1", Groups: []string{"g"}}, NotCovered: reason}
	var c DeviceCompliance
	e.ComplianceInto(&c, &r)
	if c.Compliant || c.NotCovered != reason {
		t.Errorf("not covered: compliant %v, not_covered %q", c.Compliant, c.NotCovered)
	}
	f := NewFleet(e)
	f.Add(&c)
	e.ComplianceInto(&c, &DeviceResult{Device: patchcore.Device{ID: "d1", Groups: []string{"g"}},
		Findings: []patchcore.Finding{{PatchID: "DSA-1", State: patchcore.FindingInstalled}}})
	if !c.Compliant || c.NotCovered != "" {
		t.Errorf("covered device after a not-covered one: compliant %v, not_covered %q", c.Compliant, c.NotCovered)
	}
	f.Add(&c)
	w := f.Dashboard().Compliance
	if w.Compliant != 1 || w.NonCompliant != 1 || w.WithUnknown != 1 || w.ByWorstSeverity.Unknown != 1 {
		t.Errorf("dashboard %+v: want 1 compliant, 1 non-compliant with unknown coverage", w)
	}
}

// TestCompliantIsNotPatched: a baseline that approves nothing yet (Linux
// patches need a person by default) finds a device missing security
// patches compliant, as AWS Patch Manager does; the result says how many
// missing patches wait outside the baseline.
func TestCompliantIsNotPatched(t *testing.T) {
	var patches []patchcore.Patch
	var findings []patchcore.Finding
	for _, id := range []string{"DSA-1", "DSA-2", "DSA-3"} {
		patches = append(patches, debPatch(id, patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1), "unzip", "6.0-28+deb12u1", "CVE-"+id))
		findings = append(findings, patchcore.Finding{PatchID: id, State: patchcore.FindingMissing, Classification: patchcore.ClassSecurity})
	}
	b := NewBaseline("b", "")
	b.Rules = []Rule{{Name: "security", Classifications: []patchcore.Classification{patchcore.ClassSecurity}}}
	e := mustEvaluate(t, b, patches, testNow)
	c := e.Compliance(&DeviceResult{Device: patchcore.Device{ID: "d1"}, Findings: findings})
	if !c.Compliant || c.UnapprovedMissing != 3 || c.UnapprovedSecurity != 3 || c.States.Missing != 0 {
		t.Errorf("compliant %v, unapproved missing %d (security %d), missing %d; want compliant with 3 unapproved security patches",
			c.Compliant, c.UnapprovedMissing, c.UnapprovedSecurity, c.States.Missing)
	}
}
