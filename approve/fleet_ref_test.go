package approve

// refFleet is Fleet as it was before the compact per-device records: one
// DeviceRow per device and a map of *GroupRow. TestFleetMatchesReference
// checks that Fleet gives the same rows and dashboard.

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

// refFleet rolls device compliance up into per-patch, per-device and per-group
// rows and the dashboard widgets. Add devices as their scans are evaluated;
// a refFleet keeps counts, not the per-patch rows of each device. A refFleet is
// not safe for concurrent use: give each goroutine its own and Merge them.
type refFleet struct {
	e        *Evaluation
	groupKey func(*patchcore.Device) []string

	devices []DeviceRow
	patches []refTally // by evaluation index
	extra   map[string]*refTally
	groups  map[string]*GroupRow

	states              StateCounts
	unknown, unapproved int
	pendingReboot       int
	compliant           int
	worst               SeverityCounts
	devicesWithUnknown  int
	nonCompliantBySev   SeverityCounts
	nonCompliantByLevel LevelCounts
}

type refTally struct {
	seen       bool
	states     StateCounts
	unknown    int
	unapproved int // devices missing it while it is not approved for them
	devices    int
	class      patchcore.Classification
	sev        patchcore.SeverityLevel
}

// NewrefFleet returns an empty roll-up for evaluation e.
func newRefFleet(e *Evaluation, groupKey func(*patchcore.Device) []string) *refFleet {
	f := &refFleet{e: e, groupKey: func(d *patchcore.Device) []string { return d.Groups },
		patches: make([]refTally, len(e.patches)), extra: map[string]*refTally{}, groups: map[string]*GroupRow{}}
	if groupKey != nil {
		f.groupKey = groupKey
	}
	return f
}

// Add counts one device's compliance.
func (f *refFleet) Add(c *DeviceCompliance) {
	row := DeviceRow{
		DeviceID: c.Device.ID, Name: c.Device.Name, Partner: c.Device.Partner, Customer: c.Device.Customer,
		Groups: strings.Join(c.Device.Groups, ";"), Ring: c.Device.Ring, Compliant: c.Compliant,
		PendingReboot: c.PendingReboot, StateCounts: c.States, Unknown: c.Unknown,
		UnapprovedMissing: c.UnapprovedMissing, NonCompliantBySeverity: c.NonCompliantBySeverity,
		NonCompliantByLevel: c.NonCompliantByLevel, ScannedAt: c.ScannedAt,
	}
	f.devices = append(f.devices, row)
	f.states.plus(c.States)
	f.unknown += c.Unknown
	f.unapproved += c.UnapprovedMissing
	f.nonCompliantBySev.plus(c.NonCompliantBySeverity)
	f.nonCompliantByLevel.plus(c.NonCompliantByLevel)
	if c.Unknown > 0 {
		f.devicesWithUnknown++
	}
	if c.PendingReboot {
		f.pendingReboot++
	}
	if c.Compliant {
		f.compliant++
	} else if w, ok := worstSeverity(c.NonCompliantBySeverity); ok {
		f.worst.add(w, 1)
	}
	for i := range c.Patches {
		t := f.tally(&c.Patches[i])
		t.states.add(c.Patches[i].State, 1)
		if c.Patches[i].Unknown {
			t.unknown++
		}
	}
	for i := range c.Unapproved {
		t := f.tally(&c.Unapproved[i])
		t.unapproved++
		if c.Unapproved[i].Unknown {
			t.unknown++
		}
	}
	for _, g := range f.groupKey(&c.Device) {
		gr := f.groups[g]
		if gr == nil {
			gr = &GroupRow{Group: g}
			f.groups[g] = gr
		}
		gr.Devices++
		if c.Compliant {
			gr.Compliant++
		} else {
			gr.NonCompliant++
		}
		gr.StateCounts.plus(c.States)
		gr.NonCompliantBySeverity.plus(c.NonCompliantBySeverity)
		gr.Unknown += c.Unknown
		gr.UnapprovedMissing += c.UnapprovedMissing
	}
}

func (f *refFleet) tally(ps *PatchStatus) *refTally {
	var t *refTally
	if i, ok := f.e.index.find(ps.PatchID, -1); ok {
		t = &f.patches[i]
	} else {
		t = f.extra[ps.PatchID]
		if t == nil {
			t = &refTally{}
			f.extra[ps.PatchID] = t
		}
	}
	if !t.seen {
		t.seen, t.class, t.sev = true, ps.Classification, ps.Severity
	}
	t.devices++
	return t
}

// Merge adds the counts of o, a refFleet of the same evaluation, to f.
func (f *refFleet) Merge(o *refFleet) {
	f.devices = append(f.devices, o.devices...)
	f.states.plus(o.states)
	f.unknown += o.unknown
	f.unapproved += o.unapproved
	f.pendingReboot += o.pendingReboot
	f.compliant += o.compliant
	f.devicesWithUnknown += o.devicesWithUnknown
	f.worst.plus(o.worst)
	f.nonCompliantBySev.plus(o.nonCompliantBySev)
	f.nonCompliantByLevel.plus(o.nonCompliantByLevel)
	merge := func(dst, src *refTally) {
		if !src.seen {
			return
		}
		if !dst.seen {
			dst.seen, dst.class, dst.sev = true, src.class, src.sev
		}
		dst.states.plus(src.states)
		dst.unknown += src.unknown
		dst.unapproved += src.unapproved
		dst.devices += src.devices
	}
	for i := range o.patches {
		if i < len(f.patches) {
			merge(&f.patches[i], &o.patches[i])
		}
	}
	for id, src := range o.extra {
		dst := f.extra[id]
		if dst == nil {
			dst = &refTally{}
			f.extra[id] = dst
		}
		merge(dst, src)
	}
	for name, src := range o.groups {
		dst := f.groups[name]
		if dst == nil {
			dst = &GroupRow{Group: name}
			f.groups[name] = dst
		}
		dst.Devices += src.Devices
		dst.Compliant += src.Compliant
		dst.NonCompliant += src.NonCompliant
		dst.StateCounts.plus(src.StateCounts)
		dst.NonCompliantBySeverity.plus(src.NonCompliantBySeverity)
		dst.Unknown += src.Unknown
		dst.UnapprovedMissing += src.UnapprovedMissing
	}
}

// DeviceRows returns a row per device, in the order they were added.
func (f *refFleet) DeviceRows() []DeviceRow { return slices.Clone(f.devices) }

// PatchRows returns a row per patch that some device reported or that the
// evaluation decided, in evaluation order, then the patches the evaluation
// did not know by ID.
func (f *refFleet) PatchRows() []PatchRow {
	out := make([]PatchRow, 0, len(f.patches)+len(f.extra))
	for i := range f.e.decisions {
		d := &f.e.decisions[i]
		t := &f.patches[i]
		out = append(out, PatchRow{PatchID: d.PatchID, Title: d.Title, Classification: d.Classification,
			Severity: d.Severity.Level, ComplianceLevel: d.ComplianceLevel, Approval: d.Status, Source: d.Source,
			Reason: d.Reason, Devices: t.devices, StateCounts: t.states, Unknown: t.unknown, UnapprovedMissing: t.unapproved})
	}
	ids := make([]string, 0, len(f.extra))
	for id := range f.extra {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		t := f.extra[id]
		out = append(out, PatchRow{PatchID: id, Classification: t.class, Severity: t.sev,
			ComplianceLevel: ComplianceUnspecified, Approval: StatusPending, Reason: "not among the evaluated patches",
			Devices: t.devices, StateCounts: t.states, Unknown: t.unknown, UnapprovedMissing: t.unapproved})
	}
	return out
}

// GroupRows returns a row per group, by name.
func (f *refFleet) GroupRows() []GroupRow {
	out := make([]GroupRow, 0, len(f.groups))
	for _, g := range f.groups {
		r := *g
		r.CompliancePercent = percent(r.Compliant, r.Devices)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b GroupRow) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// Dashboard returns the widgets' data.
func (f *refFleet) Dashboard() Dashboard {
	n := len(f.devices)
	d := Dashboard{BaselineID: f.e.BaselineID, At: f.e.At,
		Compliance: ComplianceWidget{Devices: n, Compliant: f.compliant, NonCompliant: n - f.compliant,
			Percent: percent(f.compliant, n), ByWorstSeverity: f.worst, PendingReboot: f.pendingReboot,
			WithUnknown: f.devicesWithUnknown},
		PendingApprovals: PendingApprovalsWidget{ByClassification: map[patchcore.Classification]int{}},
		Status: StatusWidget{Devices: n, StateCounts: f.states, NonCompliantBySeverity: f.nonCompliantBySev,
			NonCompliantByLevel: f.nonCompliantByLevel, Unknown: f.unknown, UnapprovedMissing: f.unapproved},
	}
	w := &d.PendingApprovals
	var top []PendingPatch
	for i := range f.e.decisions {
		dec := &f.e.decisions[i]
		switch dec.Status {
		case StatusScheduled:
			w.Scheduled++
		case StatusPending:
			w.Pending++
			w.BySeverity.add(dec.Severity.Level, 1)
			w.ByClassification[dec.Classification]++
			top = append(top, PendingPatch{PatchID: dec.PatchID, Title: dec.Title, Severity: dec.Severity.Level,
				Classification: dec.Classification, DevicesMissing: f.patches[i].unapproved, Reason: dec.Reason})
		}
	}
	slices.SortFunc(top, func(a, b PendingPatch) int {
		if c := cmp.Compare(b.DevicesMissing, a.DevicesMissing); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		return cmp.Compare(a.PatchID, b.PatchID)
	})
	if len(top) > MaxPendingTop {
		top = top[:MaxPendingTop]
	}
	w.Top = top
	return d
}

// TestFleetMatchesReference builds a Fleet and a refFleet from the same
// generated fleet (the benchmark's baseline and findings; devices with no,
// one or several groups, names, scan times on some) and requires equal
// device, patch and group rows and dashboards, whole and merged from parts.
func TestFleetMatchesReference(t *testing.T) {
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
	// Findings for patches the evaluation does not know.
	devices[4].Findings = append(slices.Clone(devices[4].Findings), patchcore.Finding{PatchID: "USN-1", State: patchcore.FindingMissing})
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
			ref := newRefFleet(e, key.f)
			whole := NewFleet(e, opts...)
			// Parts: the first half without scan times, the second with.
			parts := []*Fleet{NewFleet(e, opts...), NewFleet(e, opts...), NewFleet(e, opts...)}
			var c DeviceCompliance
			for i := range devices {
				e.ComplianceInto(&c, &devices[i])
				ref.Add(&c)
				whole.Add(&c)
				parts[min(i*len(parts)/1600, len(parts)-1)].Add(&c)
			}
			merged := NewFleet(e, opts...)
			for _, p := range parts {
				merged.Merge(p)
			}
			for name, f := range map[string]*Fleet{"whole": whole, "merged": merged} {
				if got, want := f.DeviceRows(), ref.DeviceRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: device rows differ (%d vs %d rows)", name, len(got), len(want))
				}
				if got, want := f.PatchRows(), ref.PatchRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: patch rows differ", name)
				}
				if got, want := f.GroupRows(), ref.GroupRows(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: group rows differ:\n%+v\n%+v", name, got, want)
				}
				if got, want := f.Dashboard(), ref.Dashboard(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: dashboards differ:\n%+v\n%+v", name, got, want)
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
