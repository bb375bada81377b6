package approve

import (
	"fmt"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

const (
	benchDevices  = 100_000
	benchPatches  = 2_000 // 1,000 Windows + 1,000 Debian
	benchFindings = 100   // per device
	benchProfiles = 64    // distinct finding snapshots shared by devices
)

// benchFleet builds a catalog, a baseline with rules, lists, scoped manual
// records and two rings, and 100,000 device results.
//
// With sameOrder every device reports its findings in one order, as detect
// does for the devices of one platform (it evaluates the platform's patches
// in catalog order); otherwise each of 64 profiles has its own order, the
// worst case for ComplianceInto's lookup hints.
func benchFleet(tb testing.TB, sameOrder bool) (*Baseline, []patchcore.Patch, []DeviceResult) {
	tb.Helper()
	patches := make([]patchcore.Patch, 0, benchPatches)
	classes := []patchcore.Classification{patchcore.ClassSecurity, patchcore.ClassCritical, patchcore.ClassBugfix, patchcore.ClassEnhancement}
	for i := range benchPatches / 2 {
		rel := testNow.Add(-time.Duration(i%60) * 24 * time.Hour)
		lvl := patchcore.SeverityLevel(1 + i%5)
		patches = append(patches,
			winPatch(fmt.Sprintf("KB5%06d", i), classes[i%4], lvl, rel, fmt.Sprintf("CVE-2024-%d", 10000+i)),
			debPatch(fmt.Sprintf("DSA-%d-1", 5000+i), classes[i%4], lvl, rel, fmt.Sprintf("pkg%d", i), "1.0-1", fmt.Sprintf("CVE-2024-%d", 20000+i)))
	}
	b := NewBaseline("bench", "bench")
	b.AutoApproval.Platforms = []string{"windows", "debian"}
	b.Rules = []Rule{
		{Name: "kev", KEV: true, ComplianceLevel: ComplianceCritical, Deadline: Duration(72 * time.Hour)},
		{Name: "critical-security", Classifications: []patchcore.Classification{patchcore.ClassSecurity, patchcore.ClassCritical},
			Severities: []patchcore.SeverityLevel{patchcore.SeverityCritical, patchcore.SeverityHigh}, ApproveAfterDays: 3, ComplianceLevel: ComplianceHigh},
		{Name: "rest", Classifications: []patchcore.Classification{patchcore.ClassBugfix}, ApproveAfterDays: 14, ComplianceLevel: ComplianceLow},
	}
	b.ApprovedPatches = []string{"KB5000001", "package:pkg7"}
	b.RejectedPatches = []string{"KB5000002", "CVE-2024-10003", "package:pkg9=1.0-1"}
	b.RejectedAction = Block
	b.Rings = []Ring{{Name: "test"}, {Name: "production", After: Duration(2 * 24 * time.Hour), MinSuccessRate: 0.95}}
	for i := range 50 {
		kinds := []Scope{{ScopeDevice, fmt.Sprintf("dev-%d", i*997)}, {ScopeGroup, fmt.Sprintf("group-%d", i%20)},
			{ScopeCustomer, fmt.Sprintf("cust-%d", i%100)}, {ScopePartner, fmt.Sprintf("partner-%d", i%5)}}
		action := ActionApprove
		if i%3 == 0 {
			action = ActionReject
		}
		b.Approvals = append(b.Approvals, Approval{ID: fmt.Sprint("a", i), PatchID: patches[i*7].ID, Action: action,
			Scope: kinds[i%4], By: "ops", At: testNow.Add(-time.Hour)})
	}
	states := []patchcore.FindingState{}
	for range 70 {
		states = append(states, patchcore.FindingNotApplicable)
	}
	for range 20 {
		states = append(states, patchcore.FindingInstalled)
	}
	for range 7 {
		states = append(states, patchcore.FindingMissing)
	}
	states = append(states, patchcore.FindingInstalledPendingReboot, patchcore.FindingSuperseded, patchcore.FindingUnknown)
	// Three profiles in four are fully patched: installed, not applicable or superseded.
	patched := []patchcore.FindingState{patchcore.FindingNotApplicable, patchcore.FindingNotApplicable,
		patchcore.FindingNotApplicable, patchcore.FindingInstalled, patchcore.FindingSuperseded}
	profiles := make([][]patchcore.Finding, benchProfiles)
	for p := range profiles {
		fs := make([]patchcore.Finding, benchFindings)
		for j := range fs {
			k := p*131 + j*17
			if sameOrder {
				k = j * 17
			}
			pt := &patches[k%len(patches)]
			st := states[(p+j)%len(states)]
			if p%4 != 0 {
				st = patched[(p+j)%len(patched)]
			}
			fs[j] = patchcore.Finding{PatchID: pt.ID, Severity: pt.Severity, Classification: pt.Classification,
				State: st, Reason: "bench"}
		}
		profiles[p] = fs
	}
	devices := make([]DeviceResult, benchDevices)
	rings := []string{"test", "production", "production", ""}
	failed := map[string]patchcore.DeploymentState{patches[3].ID: patchcore.DeployFailedFinal}
	for i := range devices {
		devices[i] = DeviceResult{
			Device: patchcore.Device{ID: fmt.Sprintf("dev-%d", i), Partner: fmt.Sprintf("partner-%d", i%5),
				Customer: fmt.Sprintf("cust-%d", i%100), Groups: []string{fmt.Sprintf("group-%d", i%20)}, Ring: rings[i%4]},
			Findings:      profiles[i%benchProfiles],
			PendingReboot: i%50 == 0,
		}
		if i%10 == 0 {
			devices[i].Outcomes = failed
		}
	}
	return b, patches, devices
}

func benchOptions() []Option {
	return []Option{
		WithRisk(RiskSignals{"CVE-2024-10011": {KEV: true, KEVAdded: testNow.Add(-48 * time.Hour)}}),
		WithRingOutcomes(func(string, string) RingOutcome { return RingOutcome{Succeeded: 97, Failed: 3} }),
	}
}

// BenchmarkCompliance100k evaluates one baseline against 100,000 device
// results (100 findings each), reusing one DeviceCompliance; findings come
// in 64 different orders.
func BenchmarkCompliance100k(b *testing.B) { benchCompliance(b, false) }

// BenchmarkCompliance100kSameOrder is BenchmarkCompliance100k with every
// device reporting its findings in the same order, as one platform's do.
func BenchmarkCompliance100kSameOrder(b *testing.B) { benchCompliance(b, true) }

func benchCompliance(b *testing.B, sameOrder bool) {
	bl, patches, devices := benchFleet(b, sameOrder)
	e := mustEvaluate(b, bl, patches, testNow, benchOptions()...)
	var c DeviceCompliance
	noncompliant := 0
	cpu := startCPU()
	b.ResetTimer()
	for b.Loop() {
		noncompliant = 0
		for i := range devices {
			e.ComplianceInto(&c, &devices[i])
			if !c.Compliant {
				noncompliant++
			}
		}
	}
	b.ReportMetric(float64(b.N)*benchDevices/b.Elapsed().Seconds(), "devices/s")
	cpu.report(b, float64(b.N)*benchDevices)
	if noncompliant == 0 || noncompliant == benchDevices {
		b.Fatalf("%d of %d devices non-compliant: the fixture is not mixed", noncompliant, benchDevices)
	}
}

// BenchmarkComplianceFleet100k is BenchmarkCompliance100k plus rolling every
// device up into a Fleet and computing the dashboard.
func BenchmarkComplianceFleet100k(b *testing.B) {
	bl, patches, devices := benchFleet(b, false)
	e := mustEvaluate(b, bl, patches, testNow, benchOptions()...)
	var c DeviceCompliance
	cpu := startCPU()
	b.ResetTimer()
	for b.Loop() {
		f := NewFleet(e, WithExpectedDevices(len(devices)))
		for i := range devices {
			e.ComplianceInto(&c, &devices[i])
			f.Add(&c)
		}
		if d := f.Dashboard(); d.Compliance.Devices != benchDevices {
			b.Fatalf("dashboard counts %d devices", d.Compliance.Devices)
		}
	}
	b.ReportMetric(float64(b.N)*benchDevices/b.Elapsed().Seconds(), "devices/s")
	cpu.report(b, float64(b.N)*benchDevices)
}

// BenchmarkEvaluate decides 2,000 patches against the baseline.
func BenchmarkEvaluate(b *testing.B) {
	bl, patches, _ := benchFleet(b, false)
	opts := benchOptions()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Evaluate(bl, patches, testNow, opts...); err != nil {
			b.Fatal(err)
		}
	}
}
