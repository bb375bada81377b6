package approve

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

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

// testFleet evaluates the four devices of testDevices and rolls them up.
func testFleet(t *testing.T, opts ...FleetOption) (*Evaluation, *Fleet) {
	t.Helper()
	e, devs := testDevices(t)
	f := NewFleet(e, opts...)
	var c DeviceCompliance
	for i := range devs {
		e.ComplianceInto(&c, &devs[i])
		f.Add(&c)
	}
	return e, f
}

// testDevices is a small baseline and four devices in three groups (web,
// dmz, db) of two customers.
func testDevices(t *testing.T) (*Evaluation, []DeviceResult) {
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
	return e, devs
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

}

// TestFleetMergeParts splits the devices of testDevices over two fleets in
// several ways, merges the second into the first and requires the same
// rows and dashboard as one fleet that added the devices in the merged
// order. The splits put a group, a customer and an interned string in
// both parts or one, scan times in one part only, the patch the evaluation
// does not know (USN-9, on l2) in either part.
func TestFleetMergeParts(t *testing.T) {
	e, devs := testDevices(t)
	scanned := testNow.Add(-time.Hour)
	for _, tc := range []struct {
		name        string
		first, then []int // indices into devs
		scannedAt   int   // index of the one device with a scan time, or -1
	}{
		{"groups in both parts", []int{0, 2}, []int{1, 3}, -1},
		{"web then db", []int{0, 1}, []int{2, 3}, -1},
		{"one device then three, scan time in the second part", []int{3}, []int{0, 1, 2}, 1},
		{"three devices then one, scan time in the first part", []int{1, 2, 0}, []int{3}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range [][]FleetOption{nil, {WithGroupKey(GroupByCustomer)}} {
				a, b, whole := NewFleet(e, opts...), NewFleet(e, opts...), NewFleet(e, opts...)
				add := func(fs []*Fleet, i int) {
					r := devs[i]
					if i == tc.scannedAt {
						r.ScannedAt = scanned
					}
					c := e.Compliance(&r)
					for _, f := range fs {
						f.Add(&c)
					}
				}
				for _, i := range tc.first {
					add([]*Fleet{a, whole}, i)
				}
				for _, i := range tc.then {
					add([]*Fleet{b, whole}, i)
				}
				if len(a.DeviceRows()) == 0 || len(b.DeviceRows()) == 0 {
					t.Fatal("a part is empty")
				}
				a.Merge(b)
				if got, want := a.DeviceRows(), whole.DeviceRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("device rows: %s", firstDiff(got, want))
				}
				if got, want := a.PatchRows(), whole.PatchRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("patch rows: %s", firstDiff(got, want))
				}
				if got, want := a.GroupRows(), whole.GroupRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("group rows: %s", firstDiff(got, want))
				}
				if got, want := a.Dashboard(), whole.Dashboard(); !reflect.DeepEqual(got, want) {
					t.Errorf("dashboard:\n got  %+v\n want %+v", got, want)
				}
			}
			// And the merged fleet's figures, checked by hand: all four
			// devices, two compliant (w1, l1), two web devices.
			a, b := NewFleet(e), NewFleet(e)
			for _, i := range tc.first {
				c := e.Compliance(&devs[i])
				a.Add(&c)
			}
			for _, i := range tc.then {
				c := e.Compliance(&devs[i])
				b.Add(&c)
			}
			a.Merge(b)
			d := a.Dashboard()
			if d.Compliance.Devices != 4 || d.Compliance.Compliant != 2 || d.Status.UnapprovedMissing != 3 ||
				d.PendingApprovals.Top[0].PatchID != "DSA-1" || d.PendingApprovals.Top[0].DevicesMissing != 2 {
				t.Errorf("merged dashboard %+v", d)
			}
			g := a.GroupRows()
			if len(g) != 3 || g[2].Group != "web" || g[2].Devices != 2 || g[2].Failed != 1 || g[0].Group != "db" || g[0].Devices != 2 {
				t.Errorf("merged groups %+v", g)
			}
			var usn9 *PatchRow
			for _, r := range a.PatchRows() {
				if r.PatchID == "USN-9" {
					usn9 = &r
				}
			}
			if usn9 == nil || usn9.Devices != 1 || usn9.InstalledOther != 1 {
				t.Errorf("merged USN-9 row %+v", usn9)
			}
		})
	}
}

func TestFleetGroupByCustomer(t *testing.T) {
	_, f := testFleet(t, WithGroupKey(GroupByCustomer), WithExpectedDevices(4))
	g := f.GroupRows()
	if len(g) != 2 || g[0].Group != "acme" || g[0].Devices != 2 || g[1].Group != "globex" || g[1].Compliant != 1 {
		t.Fatalf("by customer %+v", g)
	}
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
