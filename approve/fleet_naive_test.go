package approve

// naiveFleet is what a Fleet must report, computed the slow, obvious way:
// it keeps every device's DeviceCompliance and builds each row with a loop
// over all devices (every patch row scans every device's patch lists, every
// group row every device). It shares nothing with Fleet: no tallies, no
// interning, no evaluation indices, no merge; counts are summed field by
// field through reflection, so a count added to StateCounts, SeverityCounts
// or LevelCounts is checked without changing this file.

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

type naiveFleet struct {
	e        *Evaluation
	groupKey func(*patchcore.Device) []string
	devs     []DeviceCompliance
}

// addInts adds every int field of *src to the same field of *dst.
func addInts[T any](dst, src *T) {
	d, s := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range d.NumField() {
		if d.Field(i).Kind() == reflect.Int {
			d.Field(i).SetInt(d.Field(i).Int() + s.Field(i).Int())
		}
	}
}

// bump adds one to the int field of *counts named by word: a compliance
// state ("INSTALLED_PENDING_REBOOT" is field InstalledPendingReboot), a
// severity level ("critical" is Critical) or a compliance level. It fails
// the test for a word that names no field.
func bump[T any](t *testing.T, counts *T, word string) {
	var name strings.Builder
	for _, part := range strings.Split(strings.ToLower(word), "_") {
		if part != "" {
			name.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	f := reflect.ValueOf(counts).Elem().FieldByName(name.String())
	if !f.IsValid() || f.Kind() != reflect.Int {
		t.Fatalf("%T has no count for %q", *counts, word)
	}
	f.SetInt(f.Int() + 1)
}

func (n *naiveFleet) groupsOf(d *patchcore.Device) []string {
	if n.groupKey == nil {
		return d.Groups
	}
	return n.groupKey(d)
}

func (n *naiveFleet) deviceRows() []DeviceRow {
	var out []DeviceRow
	for _, c := range n.devs {
		out = append(out, DeviceRow{DeviceID: c.Device.ID, Name: c.Device.Name, Partner: c.Device.Partner,
			Customer: c.Device.Customer, Groups: strings.Join(c.Device.Groups, ";"), Ring: c.Device.Ring,
			Compliant: c.Compliant, PendingReboot: c.PendingReboot, StateCounts: c.States, Unknown: c.Unknown,
			UnapprovedMissing: c.UnapprovedMissing, NonCompliantBySeverity: c.NonCompliantBySeverity,
			NonCompliantByLevel: c.NonCompliantByLevel, ScannedAt: c.ScannedAt})
	}
	return out
}

// patchRows: one row per decision, then one per patch ID some device
// reported that the evaluation has no decision for, by ID, described by
// the first device reporting it. Every device's patch lists are read once
// and counted into the row of each status's patch ID.
func (n *naiveFleet) patchRows(t *testing.T) []PatchRow {
	var out []PatchRow
	byID := map[string]int{} // patch ID -> index in out
	for _, d := range n.e.Decisions() {
		if _, dup := byID[d.PatchID]; dup {
			t.Fatalf("fixture has two decisions on %s", d.PatchID)
		}
		byID[d.PatchID] = len(out)
		out = append(out, PatchRow{PatchID: d.PatchID, Title: d.Title,
			Classification: d.Classification, Severity: d.Severity.Level, ComplianceLevel: d.ComplianceLevel,
			Approval: d.Status, Source: d.Source, Reason: d.Reason})
	}
	decided := len(out)
	for _, c := range n.devs {
		reported := map[string]bool{}
		for _, list := range []struct {
			statuses   []PatchStatus
			unapproved bool
		}{{c.Patches, false}, {c.Unapproved, true}} {
			for _, ps := range list.statuses {
				i, ok := byID[ps.PatchID]
				if !ok {
					i = len(out)
					byID[ps.PatchID] = i
					out = append(out, PatchRow{PatchID: ps.PatchID, Classification: ps.Classification, Severity: ps.Severity,
						ComplianceLevel: ComplianceUnspecified, Approval: StatusPending, Reason: "not among the evaluated patches"})
				}
				row := &out[i]
				if !reported[ps.PatchID] {
					reported[ps.PatchID] = true
					row.Devices++
				}
				if list.unapproved {
					row.UnapprovedMissing++
				} else {
					bump(t, &row.StateCounts, string(ps.State))
				}
				if ps.Unknown {
					row.Unknown++
				}
			}
		}
	}
	slices.SortFunc(out[decided:], func(a, b PatchRow) int { return strings.Compare(a.PatchID, b.PatchID) })
	return out
}

func (n *naiveFleet) groupRows() []GroupRow {
	var names []string
	for i := range n.devs {
		for _, g := range n.groupsOf(&n.devs[i].Device) {
			if !slices.Contains(names, g) {
				names = append(names, g)
			}
		}
	}
	slices.Sort(names)
	var out []GroupRow
	for _, name := range names {
		r := GroupRow{Group: name}
		for i := range n.devs {
			c := &n.devs[i]
			for _, g := range n.groupsOf(&c.Device) {
				if g != name {
					continue
				}
				r.Devices++
				if c.Compliant {
					r.Compliant++
				} else {
					r.NonCompliant++
				}
				addInts(&r.StateCounts, &c.States)
				addInts(&r.NonCompliantBySeverity, &c.NonCompliantBySeverity)
				r.Unknown += c.Unknown
				r.UnapprovedMissing += c.UnapprovedMissing
			}
		}
		r.CompliancePercent = tenths(r.Compliant, r.Devices)
		out = append(out, r)
	}
	return out
}

// tenths is 100*part/whole rounded down to a tenth (0 for no devices).
func tenths(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	tenths := 0
	for (tenths+1)*whole <= 1000*part {
		tenths++
	}
	return float64(tenths) / 10
}

func (n *naiveFleet) dashboard(t *testing.T, rows []PatchRow) Dashboard {
	d := Dashboard{BaselineID: n.e.BaselineID, At: n.e.At,
		PendingApprovals: PendingApprovalsWidget{ByClassification: map[patchcore.Classification]int{}}}
	cw, sw := &d.Compliance, &d.Status
	for i := range n.devs {
		c := &n.devs[i]
		cw.Devices++
		sw.Devices++
		if c.Compliant {
			cw.Compliant++
		} else {
			cw.NonCompliant++
			// The most severe level with a non-compliant patch.
			for l := patchcore.SeverityCritical; l >= patchcore.SeverityUnknown; l-- {
				var one SeverityCounts
				bump(t, &one, l.String())
				if reflect.ValueOf(c.NonCompliantBySeverity).FieldByName(strings.ToUpper(l.String()[:1])+l.String()[1:]).Int() > 0 {
					addInts(&cw.ByWorstSeverity, &one)
					break
				}
			}
		}
		if c.PendingReboot {
			cw.PendingReboot++
		}
		if c.Unknown > 0 {
			cw.WithUnknown++
		}
		addInts(&sw.StateCounts, &c.States)
		addInts(&sw.NonCompliantBySeverity, &c.NonCompliantBySeverity)
		addInts(&sw.NonCompliantByLevel, &c.NonCompliantByLevel)
		sw.Unknown += c.Unknown
		sw.UnapprovedMissing += c.UnapprovedMissing
	}
	cw.Percent = tenths(cw.Compliant, cw.Devices)

	pw := &d.PendingApprovals
	var pending []PendingPatch
	for _, dec := range n.e.Decisions() {
		switch dec.Status {
		case StatusScheduled:
			pw.Scheduled++
		case StatusPending:
			pw.Pending++
			bump(t, &pw.BySeverity, dec.Severity.Level.String())
			pw.ByClassification[dec.Classification]++
			missing := -1
			for _, r := range rows {
				if r.PatchID == dec.PatchID {
					missing = r.UnapprovedMissing
				}
			}
			pending = append(pending, PendingPatch{PatchID: dec.PatchID, Title: dec.Title, Severity: dec.Severity.Level,
				Classification: dec.Classification, DevicesMissing: missing, Reason: dec.Reason})
		}
	}
	// Most devices missing first, then most severe, then by ID; at most MaxPendingTop.
	slices.SortFunc(pending, func(a, b PendingPatch) int {
		return cmp.Or(cmp.Compare(b.DevicesMissing, a.DevicesMissing), cmp.Compare(b.Severity, a.Severity), strings.Compare(a.PatchID, b.PatchID))
	})
	pw.Top = pending[:min(len(pending), MaxPendingTop)]
	return d
}

// firstDiff describes the first row where got and want differ, or their
// lengths.
func firstDiff[T any](got, want []T) string {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Sprintf("row %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("%d rows, want %d", len(got), len(want))
}

// TestFleetMatchesNaive builds a Fleet from a generated fleet (the
// benchmark's baseline and findings; devices with no, one, an empty or
// several groups, names, scan times on some, findings the evaluation does
// not know) and requires the device, patch and group rows and the dashboard
// that naiveFleet computes from the same device compliances, both for the
// whole fleet and for three partial fleets merged.
func TestFleetMatchesNaive(t *testing.T) {
	bl, patches, devices := benchFleet(t, false)
	devices = devices[:3000]
	for i := range devices {
		d := &devices[i].Device
		d.Name = fmt.Sprintf("host-%d", i%700)
		switch i % 7 {
		case 0:
			d.Groups = nil
		case 1:
			d.Groups = []string{fmt.Sprintf("group-%d", i%20), "dmz", fmt.Sprintf("site-%d", i%3)}
		case 2:
			d.Groups = []string{""}
		}
		if i%5 == 0 {
			d.Partner = ""
		}
		if i > 1500 && i%3 == 0 {
			devices[i].ScannedAt = testNow.Add(-time.Duration(i) * time.Minute)
		}
	}
	// Findings for patches the evaluation does not know, missing on two
	// devices and installed on a third.
	for i, st := range map[int]patchcore.FindingState{4: patchcore.FindingMissing, 900: patchcore.FindingMissing, 2000: patchcore.FindingInstalled} {
		devices[i].Findings = append(slices.Clone(devices[i].Findings),
			patchcore.Finding{PatchID: "USN-1", State: st, Severity: patchcore.Severity{Level: patchcore.SeverityHigh}},
			patchcore.Finding{PatchID: "ALAS-7", State: patchcore.FindingUnknown})
	}
	e := mustEvaluate(t, bl, patches, testNow, benchOptions()...)
	for _, key := range []struct {
		name string
		f    func(*patchcore.Device) []string
	}{{"groups", nil}, {"customer", GroupByCustomer}, {"partner", GroupByPartner}} {
		t.Run(key.name, func(t *testing.T) {
			var opts []FleetOption
			if key.f != nil {
				opts = append(opts, WithGroupKey(key.f))
			}
			naive := &naiveFleet{e: e, groupKey: key.f}
			whole := NewFleet(e, opts...)
			// Parts: the first without scan times, the others with.
			parts := []*Fleet{NewFleet(e, opts...), NewFleet(e, opts...), NewFleet(e, opts...)}
			for i := range devices {
				c := e.Compliance(&devices[i])
				naive.devs = append(naive.devs, c)
				whole.Add(&c)
				parts[min(i*len(parts)/1600, len(parts)-1)].Add(&c)
			}
			merged := parts[0]
			merged.Merge(parts[1])
			merged.Merge(parts[2])

			wantDevices, wantPatches, wantGroups := naive.deviceRows(), naive.patchRows(t), naive.groupRows()
			wantDash := naive.dashboard(t, wantPatches)
			// The fixture covers what the rows must get right.
			if n := len(wantPatches) - len(e.Decisions()); n != 2 {
				t.Errorf("%d patch rows beyond the evaluated patches, want 2 (USN-1, ALAS-7)", n)
			}
			if wantDash.PendingApprovals.Pending <= MaxPendingTop || wantDash.Compliance.Compliant == 0 ||
				wantDash.Compliance.NonCompliant == 0 || wantDash.Compliance.WithUnknown == 0 || len(wantGroups) < 2 {
				t.Errorf("fixture too uniform: dashboard %+v, %d groups", wantDash, len(wantGroups))
			}
			for name, f := range map[string]*Fleet{"whole": whole, "merged": merged} {
				if got := f.DeviceRows(); !reflect.DeepEqual(got, wantDevices) {
					t.Errorf("%s: device rows differ: %s", name, firstDiff(got, wantDevices))
				}
				if got := f.PatchRows(); !reflect.DeepEqual(got, wantPatches) {
					t.Errorf("%s: patch rows differ: %s", name, firstDiff(got, wantPatches))
				}
				if got := f.GroupRows(); !reflect.DeepEqual(got, wantGroups) {
					t.Errorf("%s: group rows differ: %s", name, firstDiff(got, wantGroups))
				}
				if got := f.Dashboard(); !reflect.DeepEqual(got, wantDash) {
					t.Errorf("%s: dashboards differ:\n got  %+v\n want %+v", name, got, wantDash)
				}
			}
			if rows := whole.DeviceRows(); rows[1].Groups != "group-1;dmz;site-1" || rows[1503].ScannedAt.IsZero() {
				t.Errorf("fixture does not exercise joined groups or scan times: %+v / %+v", rows[1], rows[1503])
			}
		})
	}
}

// TestComplianceMatchesDecisionFor checks the inline verdicts of
// ComplianceInto (no scoped record: rings 0 and 1 kept in the patch's
// record) against DecisionFor for devices in every ring and scope.
func TestComplianceMatchesDecisionFor(t *testing.T) {
	bl, patches, devices := benchFleet(t, false)
	e := mustEvaluate(t, bl, patches, testNow, benchOptions()...)
	var c DeviceCompliance
	seen := map[Status]int{}
	for i := 0; i < 2000; i++ {
		r := &devices[i*37%len(devices)]
		e.ComplianceInto(&c, r)
		for _, list := range [][]PatchStatus{c.Patches, c.Unapproved} {
			for _, ps := range list {
				d := e.DecisionFor(r.Device, ps.PatchID)
				if ps.Approval != d.Status || ps.Decision != d.Reason {
					t.Fatalf("device %s ring %q patch %s: compliance says %s %q, DecisionFor %s %q",
						r.Device.ID, r.Device.Ring, ps.PatchID, ps.Approval, ps.Decision, d.Status, d.Reason)
				}
				seen[ps.Approval]++
			}
		}
	}
	for _, s := range []Status{StatusApproved, StatusScheduled, StatusPending, StatusRejected} {
		if seen[s] == 0 {
			t.Errorf("no patch %s in the fixture: %v", s, seen)
		}
	}
}
