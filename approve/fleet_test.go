package approve

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// testFleet evaluates four devices in two groups against a small baseline.
func testFleet(t *testing.T, opts ...FleetOption) (*Evaluation, *Fleet) {
	t.Helper()
	patches := []patchcore.Patch{
		winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1)),
		winPatch("KB2", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1)),
		winPatch("KB3", patchcore.ClassBugfix, patchcore.SeverityLow, day(2024, 5, 1)),
		debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 2), "openssl", "3.0.13-1", "CVE-2024-1"),
		debPatch("DSA-2", patchcore.ClassSecurity, patchcore.SeverityMedium, day(2024, 5, 2), "=cmd|calc", "1.0"),
	}
	patches[4].Title = "=HYPERLINK(\"http://x\")"
	b := NewBaseline("win-default", "Windows default")
	b.Rules = []Rule{{Name: "security", Classifications: []patchcore.Classification{patchcore.ClassSecurity}, ComplianceLevel: ComplianceCritical}}
	b.RejectedPatches = []string{"KB3"}
	b.RejectedAction = Block
	e := mustEvaluate(t, b, patches, testNow)
	f := NewFleet(e, opts...)
	devs := []DeviceResult{
		{Device: patchcore.Device{ID: "w1", Name: "web-1", Customer: "acme", Groups: []string{"web"}},
			Findings: []patchcore.Finding{
				{PatchID: "KB1", State: patchcore.FindingInstalled},
				{PatchID: "KB2", State: patchcore.FindingInstalled},
				{PatchID: "KB3", State: patchcore.FindingNotApplicable},
			}},
		{Device: patchcore.Device{ID: "w2", Name: "web-2", Customer: "acme", Groups: []string{"web", "dmz"}},
			Findings: []patchcore.Finding{
				{PatchID: "KB1", State: patchcore.FindingMissing},
				{PatchID: "KB2", State: patchcore.FindingInstalledPendingReboot},
				{PatchID: "KB3", State: patchcore.FindingInstalled},
			},
			Outcomes: map[string]patchcore.DeploymentState{"KB1": patchcore.DeployFailedFinal}},
		{Device: patchcore.Device{ID: "l1", Name: "db-1", Customer: "globex", Groups: []string{"db"}},
			Findings: []patchcore.Finding{
				{PatchID: "DSA-1", State: patchcore.FindingMissing, CVEs: []string{"CVE-2024-1"}},
				{PatchID: "DSA-2", State: patchcore.FindingMissing},
			}},
		{Device: patchcore.Device{ID: "l2", Name: "db-2", Customer: "globex", Groups: []string{"db"}},
			Findings: []patchcore.Finding{
				{PatchID: "DSA-1", State: patchcore.FindingUnknown, Reason: "unparsable version"},
				{PatchID: "USN-9", State: patchcore.FindingInstalled},
			}},
	}
	var c DeviceCompliance
	for i := range devs {
		e.ComplianceInto(&c, &devs[i])
		f.Add(&c)
	}
	return e, f
}

func TestFleetRollup(t *testing.T) {
	_, f := testFleet(t)
	groups := f.GroupRows()
	if len(groups) != 3 {
		t.Fatalf("groups %+v", groups)
	}
	web := groups[2]
	if web.Group != "web" || web.Devices != 2 || web.Compliant != 1 || web.NonCompliant != 1 || web.CompliancePercent != 50 {
		t.Errorf("web group %+v", web)
	}
	if web.Failed != 1 || web.InstalledPendingReboot != 1 || web.InstalledRejected != 1 {
		t.Errorf("web group states %+v", web.StateCounts)
	}
	d := f.Dashboard()
	if d.Compliance.Devices != 4 || d.Compliance.Compliant != 2 || d.Compliance.Percent != 50 {
		t.Errorf("compliance widget %+v", d.Compliance)
	}
	// l1 is compliant: its DSAs are pending (Linux may not auto-approve).
	if d.Compliance.ByWorstSeverity.Critical != 1 || d.Compliance.WithUnknown != 1 {
		t.Errorf("worst severity %+v, with unknown %d", d.Compliance.ByWorstSeverity, d.Compliance.WithUnknown)
	}
	if d.PendingApprovals.Pending != 2 || len(d.PendingApprovals.Top) != 2 || d.PendingApprovals.Top[0].PatchID != "DSA-1" ||
		d.PendingApprovals.Top[0].DevicesMissing != 2 {
		t.Errorf("pending widget %+v", d.PendingApprovals)
	}
	if d.Status.Failed != 1 || d.Status.Installed != 2 || d.Status.InstalledOther != 1 || d.Status.UnapprovedMissing != 3 {
		t.Errorf("status widget %+v", d.Status)
	}

	// Splitting the devices over two fleets and merging gives the same answer.
	e, whole := testFleet(t)
	half := NewFleet(e)
	half.Merge(whole)
	if got, want := half.Dashboard(), whole.Dashboard(); !jsonEqual(t, got, want) {
		t.Errorf("merged dashboard differs")
	}
}

func TestFleetGroupByCustomer(t *testing.T) {
	_, f := testFleet(t, WithGroupKey(GroupByCustomer), WithExpectedDevices(4))
	g := f.GroupRows()
	if len(g) != 2 || g[0].Group != "acme" || g[0].Devices != 2 || g[1].Group != "globex" || g[1].Compliant != 1 {
		t.Fatalf("by customer %+v", g)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

func TestReportsGolden(t *testing.T) {
	_, f := testFleet(t)
	for _, tc := range []struct {
		name string
		csv  func(*bytes.Buffer) error
		json any
	}{
		{"devices", func(b *bytes.Buffer) error { return WriteCSV(b, f.DeviceRows()) }, f.DeviceRows()},
		{"patches", func(b *bytes.Buffer) error { return WriteCSV(b, f.PatchRows()) }, f.PatchRows()},
		{"groups", func(b *bytes.Buffer) error { return WriteCSV(b, f.GroupRows()) }, f.GroupRows()},
		{"dashboard", nil, f.Dashboard()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.csv != nil {
				var b bytes.Buffer
				if err := tc.csv(&b); err != nil {
					t.Fatal(err)
				}
				golden(t, "report_"+tc.name+".csv", b.Bytes())
			}
			var j bytes.Buffer
			if err := WriteJSON(&j, tc.json); err != nil {
				t.Fatal(err)
			}
			golden(t, "report_"+tc.name+".json", j.Bytes())
		})
	}
}
