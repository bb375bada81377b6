package approve_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/patchcore/sdk/approve"
	"github.com/patchcore/sdk/approve/audit"
	"github.com/patchcore/sdk/patchcore"
)

// Build a baseline, evaluate the catalog's patches, then turn one device's
// scan findings into compliance.
func Example() {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	critical := patchcore.Severity{Level: patchcore.SeverityCritical, Raw: "Critical"}
	important := patchcore.Severity{Level: patchcore.SeverityHigh, Raw: "Important"}
	win := func(kb string, sev patchcore.Severity, released time.Time, cve string) patchcore.Patch {
		return patchcore.Patch{ID: kb, Title: kb, Classification: patchcore.ClassSecurity, Severity: sev,
			Released: released, CVEs: []patchcore.CVE{{ID: cve}},
			Fixes: []patchcore.Fix{{Distro: "windows", Ecosystem: patchcore.EcosystemWindows, KB: kb}}}
	}
	patches := []patchcore.Patch{
		win("KB5034441", critical, time.Date(2024, 5, 14, 17, 0, 0, 0, time.UTC), "CVE-2024-20666"),
		win("KB5035853", important, time.Date(2024, 5, 28, 17, 0, 0, 0, time.UTC), "CVE-2024-21407"),
		win("KB5036893", important, time.Date(2024, 5, 14, 17, 0, 0, 0, time.UTC), "CVE-2024-26234"),
		win("KB5037771", important, time.Date(2024, 5, 14, 17, 0, 0, 0, time.UTC), "CVE-2024-30051"),
	}

	b := approve.NewBaseline("win-servers", "Windows servers")
	b.Rules = []approve.Rule{
		{Name: "kev-now", KEV: true, ComplianceLevel: approve.ComplianceCritical, Deadline: approve.Duration(72 * time.Hour)},
		{Name: "security-7d", Classifications: []patchcore.Classification{patchcore.ClassSecurity},
			ApproveAfterDays: 7, ComplianceLevel: approve.ComplianceHigh},
	}
	b.RejectedPatches = []string{"KB5036893"} // breaks the print spooler
	b.RejectedAction = approve.Block
	risk := approve.RiskSignals{"CVE-2024-30051": {KEV: true, KEVAdded: time.Date(2024, 5, 14, 0, 0, 0, 0, time.UTC)}}

	eval, err := approve.Evaluate(b, patches, now, approve.WithRisk(risk))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range eval.Decisions() {
		fmt.Printf("%s %-9s %s\n", d.PatchID, d.Status, d.Reason)
	}

	result := approve.DeviceResult{
		Device: patchcore.Device{ID: "srv-01", Customer: "acme"},
		Findings: []patchcore.Finding{
			{PatchID: "KB5034441", State: patchcore.FindingInstalled},
			{PatchID: "KB5035853", State: patchcore.FindingMissing},
			{PatchID: "KB5036893", State: patchcore.FindingInstalled},
			{PatchID: "KB5037771", State: patchcore.FindingMissing},
		},
	}
	c := eval.Compliance(&result)
	fmt.Printf("\n%s compliant=%v missing=%d installed_rejected=%d critical=%d\n",
		c.Device.ID, c.Compliant, c.States.Missing, c.States.InstalledRejected, c.NonCompliantByLevel.Critical)
	for _, p := range c.Patches {
		fmt.Printf("  %s %s\n", p.PatchID, p.State)
	}
	for _, p := range c.Unapproved {
		fmt.Printf("  %s not approved yet: %s\n", p.PatchID, p.Decision)
	}
	// Output:
	// KB5034441 approved  approved by rule "security-7d" (7 days after release on 2024-05-14)
	// KB5035853 scheduled rule "security-7d" approves it on 2024-06-04T17:00:00Z (7 days after release on 2024-05-28)
	// KB5036893 rejected  on the rejected list (entry "KB5036893")
	// KB5037771 approved  approved by rule "kev-now" (on release; in CISA KEV)
	//
	// srv-01 compliant=false missing=1 installed_rejected=1 critical=1
	//   KB5034441 INSTALLED
	//   KB5036893 INSTALLED_REJECTED
	//   KB5037771 MISSING
	//   KB5035853 not approved yet: rule "security-7d" approves it on 2024-06-04T17:00:00Z (7 days after release on 2024-05-28)
}

// Record a manual approval in the hash-chained audit trail and verify it.
func ExampleRecordApproval() {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	log := audit.NewLog(audit.NewMemoryStore(), func() time.Time { return now })
	ctx := context.Background()
	a := approve.Approval{ID: "apr-1", PatchID: "KB5034441", Action: approve.ActionApprove,
		Scope: approve.Scope{Kind: approve.ScopeCustomer, ID: "acme"}, By: "alice", At: now, Reason: "CAB-1234"}
	e, err := approve.RecordApproval(ctx, log, "win-servers", a)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Seq, e.Summary)
	fmt.Println("verify:", log.Verify(ctx))
	// Output:
	// 1 approve KB5034441 for customer:acme in baseline win-servers
	// verify: <nil>
}

// Export the by-group report as CSV.
func ExampleWriteCSV() {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	b := approve.NewBaseline("b", "")
	b.ApprovedPatches = []string{"KB1"}
	eval, _ := approve.Evaluate(b, []patchcore.Patch{{ID: "KB1"}}, now)
	fleet := approve.NewFleet(eval)
	for _, d := range []struct {
		id, group string
		state     patchcore.FindingState
	}{{"d1", "web", patchcore.FindingInstalled}, {"d2", "web", patchcore.FindingMissing}} {
		c := eval.Compliance(&approve.DeviceResult{Device: patchcore.Device{ID: d.id, Groups: []string{d.group}},
			Findings: []patchcore.Finding{{PatchID: "KB1", State: d.state}}})
		fleet.Add(&c)
	}
	_ = approve.WriteCSV(os.Stdout, fleet.GroupRows())
	// Output:
	// group,devices,compliant,noncompliant,compliance_percent,unapproved_missing,installed,installed_other,installed_pending_reboot,installed_rejected,missing,not_applicable,failed,noncompliant_critical,noncompliant_high,noncompliant_medium,noncompliant_low,noncompliant_none,noncompliant_unknown_severity,unknown
	// web,2,1,1,50.0,0,1,0,0,0,1,0,0,0,0,0,0,0,1,0
}
