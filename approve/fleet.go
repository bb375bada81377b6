package approve

import (
	"cmp"
	"slices"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Fleet rolls device compliance up into per-patch, per-device and per-group
// rows and the dashboard widgets. Add devices as their scans are evaluated;
// a Fleet keeps counts, not the per-patch rows of each device. A Fleet is
// not safe for concurrent use: give each goroutine its own and Merge them.
type Fleet struct {
	e        *Evaluation
	groupKey func(*patchcore.Device) []string

	// One compact record per device; the strings of its row live in ids,
	// names and (interned: few distinct values) strs, so that the records
	// hold no pointers and Add writes ~150 bytes per device, not a DeviceRow.
	devices []deviceRec
	ids     []string
	names   []string
	scanned []time.Time // nil until some device has a ScannedAt
	strs    []string
	strIdx  map[string]uint32
	joinBuf []byte

	patches  []patchTally // by evaluation index
	extra    map[string]*patchTally
	groups   []GroupRow // by group number
	groupIdx map[string]int

	states              StateCounts
	unknown, unapproved int
	pendingReboot       int
	compliant           int
	worst               SeverityCounts
	devicesWithUnknown  int
	nonCompliantBySev   SeverityCounts
	nonCompliantByLevel LevelCounts
}

// deviceRec is one device's DeviceRow, compact. Per-device counts fit
// int32: a device cannot report 2^31 patches.
type deviceRec struct {
	partner, customer, groups, ring uint32 // indices into Fleet.strs
	notCovered                      uint32 // index into Fleet.strs
	compliant, pendingReboot        bool
	states                          [7]int32 // StateCounts in field order
	unknown, unapproved             int32
	sev                             [6]int32 // SeverityCounts in field order
	level                           [6]int32 // LevelCounts in field order
}

type patchTally struct {
	seen       bool
	states     StateCounts
	unknown    int
	unapproved int // devices missing it while it is not approved for them
	devices    int
	class      patchcore.Classification
	sev        patchcore.SeverityLevel
}

// FleetOption configures NewFleet.
type FleetOption func(*Fleet)

// WithGroupKey names the groups a device is rolled up into; the default is
// patchcore.Device.Groups. GroupByCustomer and GroupByPartner are ready-made.
func WithGroupKey(f func(*patchcore.Device) []string) FleetOption {
	return func(fl *Fleet) { fl.groupKey = f }
}

// WithExpectedDevices sizes the roll-up for n devices up front.
func WithExpectedDevices(n int) FleetOption {
	return func(fl *Fleet) {
		if n > 0 {
			fl.devices = make([]deviceRec, 0, n)
			fl.ids = make([]string, 0, n)
			fl.names = make([]string, 0, n)
		}
	}
}

// GroupByCustomer rolls devices up by customer.
func GroupByCustomer(d *patchcore.Device) []string { return nonEmpty(d.Customer) }

// GroupByPartner rolls devices up by partner.
func GroupByPartner(d *patchcore.Device) []string { return nonEmpty(d.Partner) }

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// NewFleet returns an empty roll-up for evaluation e.
func NewFleet(e *Evaluation, opts ...FleetOption) *Fleet {
	f := &Fleet{e: e, groupKey: func(d *patchcore.Device) []string { return d.Groups },
		patches: make([]patchTally, len(e.patches)), extra: map[string]*patchTally{}, groupIdx: map[string]int{},
		strs: []string{""}, strIdx: map[string]uint32{"": 0}}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Add counts one device's compliance.
func (f *Fleet) Add(c *DeviceCompliance) {
	d := &c.Device
	rec := deviceRec{partner: f.intern(d.Partner), customer: f.intern(d.Customer), ring: f.intern(d.Ring), notCovered: f.intern(c.NotCovered),
		compliant: c.Compliant, pendingReboot: c.PendingReboot,
		unknown: int32(c.Unknown), unapproved: int32(c.UnapprovedMissing)}
	switch len(d.Groups) {
	case 0:
	case 1:
		rec.groups = f.intern(d.Groups[0])
	default:
		f.joinBuf = f.joinBuf[:0]
		for i, g := range d.Groups {
			if i > 0 {
				f.joinBuf = append(f.joinBuf, ';')
			}
			f.joinBuf = append(f.joinBuf, g...)
		}
		rec.groups = f.internBytes(f.joinBuf)
	}
	st := &c.States
	rec.states = [7]int32{int32(st.Installed), int32(st.InstalledOther), int32(st.InstalledPendingReboot),
		int32(st.InstalledRejected), int32(st.Missing), int32(st.NotApplicable), int32(st.Failed)}
	sv := &c.NonCompliantBySeverity
	rec.sev = [6]int32{int32(sv.Critical), int32(sv.High), int32(sv.Medium), int32(sv.Low), int32(sv.None), int32(sv.Unknown)}
	lv := &c.NonCompliantByLevel
	rec.level = [6]int32{int32(lv.Critical), int32(lv.High), int32(lv.Medium), int32(lv.Low), int32(lv.Informational), int32(lv.Unspecified)}
	if !c.ScannedAt.IsZero() || f.scanned != nil {
		if f.scanned == nil {
			f.scanned = make([]time.Time, len(f.devices), cap(f.devices))
		}
		f.scanned = append(f.scanned, c.ScannedAt)
	}
	f.devices = append(f.devices, rec)
	f.ids = append(f.ids, d.ID)
	f.names = append(f.names, d.Name)

	f.states.plus(c.States)
	f.unknown += c.Unknown
	f.unapproved += c.UnapprovedMissing
	f.nonCompliantBySev.plus(c.NonCompliantBySeverity)
	f.nonCompliantByLevel.plus(c.NonCompliantByLevel)
	if c.Unknown > 0 || c.NotCovered != "" {
		f.devicesWithUnknown++
	}
	if c.PendingReboot {
		f.pendingReboot++
	}
	if c.Compliant {
		f.compliant++
	} else if w, ok := worstSeverity(c.NonCompliantBySeverity); ok {
		f.worst.add(w, 1)
	} else if c.NotCovered != "" {
		f.worst.add(patchcore.SeverityUnknown, 1)
	}
	for i := range c.Patches {
		ps := &c.Patches[i]
		t := f.tally(ps, at(c.memo.patches, i))
		t.states.add(ps.State, 1)
		if ps.Unknown {
			t.unknown++
		}
	}
	for i := range c.Unapproved {
		ps := &c.Unapproved[i]
		t := f.tally(ps, at(c.memo.unapproved, i))
		t.unapproved++
		if ps.Unknown {
			t.unknown++
		}
	}
	for _, g := range f.groupKey(d) {
		gr := f.group(g)
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

// intern returns the number of s in f.strs, adding it when new.
func (f *Fleet) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := f.strIdx[s]; ok {
		return i
	}
	i := uint32(len(f.strs))
	f.strs = append(f.strs, s)
	f.strIdx[s] = i
	return i
}

// internBytes is intern for a byte buffer; it copies b only when new.
func (f *Fleet) internBytes(b []byte) uint32 {
	if i, ok := f.strIdx[string(b)]; ok {
		return i
	}
	return f.intern(string(b))
}

// group returns the tally of group name, adding it when new.
func (f *Fleet) group(name string) *GroupRow {
	i, ok := f.groupIdx[name]
	if !ok {
		i = len(f.groups)
		f.groups = append(f.groups, GroupRow{Group: name})
		f.groupIdx[name] = i
	}
	return &f.groups[i]
}

// row expands device record i into its DeviceRow.
func (f *Fleet) row(i int) DeviceRow {
	r := &f.devices[i]
	st, sv, lv := &r.states, &r.sev, &r.level
	row := DeviceRow{DeviceID: f.ids[i], Name: f.names[i], Partner: f.strs[r.partner], Customer: f.strs[r.customer],
		Groups: f.strs[r.groups], Ring: f.strs[r.ring], Compliant: r.compliant, NotCovered: f.strs[r.notCovered], PendingReboot: r.pendingReboot,
		StateCounts: StateCounts{Installed: int(st[0]), InstalledOther: int(st[1]), InstalledPendingReboot: int(st[2]),
			InstalledRejected: int(st[3]), Missing: int(st[4]), NotApplicable: int(st[5]), Failed: int(st[6])},
		Unknown: int(r.unknown), UnapprovedMissing: int(r.unapproved),
		NonCompliantBySeverity: SeverityCounts{Critical: int(sv[0]), High: int(sv[1]), Medium: int(sv[2]), Low: int(sv[3]),
			None: int(sv[4]), Unknown: int(sv[5])},
		NonCompliantByLevel: LevelCounts{Critical: int(lv[0]), High: int(lv[1]), Medium: int(lv[2]), Low: int(lv[3]),
			Informational: int(lv[4]), Unspecified: int(lv[5])},
	}
	if f.scanned != nil {
		row.ScannedAt = f.scanned[i]
	}
	return row
}

// tally returns the tally of ps's patch; hint is where it may be in the
// evaluation (see idTable.find).
func (f *Fleet) tally(ps *PatchStatus, hint int32) *patchTally {
	var t *patchTally
	if i, ok := f.e.index.find(ps.PatchID, hint); ok {
		t = &f.patches[i]
	} else {
		t = f.extra[ps.PatchID]
		if t == nil {
			t = &patchTally{}
			f.extra[ps.PatchID] = t
		}
	}
	if !t.seen {
		t.seen, t.class, t.sev = true, ps.Classification, ps.Severity
	}
	t.devices++
	return t
}

// Merge adds the counts of o, a Fleet of the same evaluation, to f.
func (f *Fleet) Merge(o *Fleet) {
	n := len(f.devices)
	for i := range o.devices {
		r := o.devices[i]
		r.partner, r.customer = f.intern(o.strs[r.partner]), f.intern(o.strs[r.customer])
		r.groups, r.ring = f.intern(o.strs[r.groups]), f.intern(o.strs[r.ring])
		f.devices = append(f.devices, r)
	}
	f.ids = append(f.ids, o.ids...)
	f.names = append(f.names, o.names...)
	if o.scanned != nil || f.scanned != nil {
		if f.scanned == nil {
			f.scanned = make([]time.Time, n, len(f.devices))
		}
		if o.scanned != nil {
			f.scanned = append(f.scanned, o.scanned...)
		} else {
			f.scanned = append(f.scanned, make([]time.Time, len(o.devices))...)
		}
	}
	f.states.plus(o.states)
	f.unknown += o.unknown
	f.unapproved += o.unapproved
	f.pendingReboot += o.pendingReboot
	f.compliant += o.compliant
	f.devicesWithUnknown += o.devicesWithUnknown
	f.worst.plus(o.worst)
	f.nonCompliantBySev.plus(o.nonCompliantBySev)
	f.nonCompliantByLevel.plus(o.nonCompliantByLevel)
	merge := func(dst, src *patchTally) {
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
			dst = &patchTally{}
			f.extra[id] = dst
		}
		merge(dst, src)
	}
	for i := range o.groups {
		src := &o.groups[i]
		dst := f.group(src.Group)
		dst.Devices += src.Devices
		dst.Compliant += src.Compliant
		dst.NonCompliant += src.NonCompliant
		dst.StateCounts.plus(src.StateCounts)
		dst.NonCompliantBySeverity.plus(src.NonCompliantBySeverity)
		dst.Unknown += src.Unknown
		dst.UnapprovedMissing += src.UnapprovedMissing
	}
}

func worstSeverity(c SeverityCounts) (patchcore.SeverityLevel, bool) {
	switch {
	case c.Critical > 0:
		return patchcore.SeverityCritical, true
	case c.High > 0:
		return patchcore.SeverityHigh, true
	case c.Medium > 0:
		return patchcore.SeverityMedium, true
	case c.Low > 0:
		return patchcore.SeverityLow, true
	case c.None > 0:
		return patchcore.SeverityNone, true
	case c.Unknown > 0:
		return patchcore.SeverityUnknown, true
	}
	return 0, false
}

// DeviceRow is one device in the by-device report.
type DeviceRow struct {
	DeviceID  string `json:"device_id"`
	Name      string `json:"name,omitempty"`
	Partner   string `json:"partner,omitempty"`
	Customer  string `json:"customer,omitempty"`
	Groups    string `json:"groups,omitempty"`
	Ring      string `json:"ring,omitempty"`
	Compliant bool   `json:"compliant"`
	// UnapprovedMissing sits beside the verdict: missing patches the
	// baseline does not approve (yet) leave a device compliant.
	UnapprovedMissing int `json:"unapproved_missing"`
	// NotCovered says why detection had no answer for the device (see
	// DeviceCompliance.NotCovered).
	NotCovered    string `json:"not_covered,omitempty"`
	PendingReboot bool   `json:"pending_reboot"`
	StateCounts
	Unknown                int            `json:"unknown"`
	NonCompliantBySeverity SeverityCounts `json:"noncompliant_by_severity"`
	NonCompliantByLevel    LevelCounts    `json:"noncompliant_by_level"`
	ScannedAt              time.Time      `json:"scanned_at,omitzero"`
}

// PatchRow is one patch in the by-patch report: the baseline's decision and
// how many devices are in each state.
type PatchRow struct {
	PatchID         string                   `json:"patch_id"`
	Title           string                   `json:"title,omitempty"`
	Classification  patchcore.Classification `json:"classification,omitempty"`
	Severity        patchcore.SeverityLevel  `json:"severity"`
	ComplianceLevel ComplianceLevel          `json:"compliance_level"`
	Approval        Status                   `json:"approval"`
	Source          Source                   `json:"source,omitempty"`
	Reason          string                   `json:"reason"`
	// Devices is the number of devices that reported the patch.
	Devices int `json:"devices"`
	StateCounts
	Unknown int `json:"unknown"`
	// UnapprovedMissing is the number of devices missing the patch while it
	// is not approved for them.
	UnapprovedMissing int `json:"unapproved_missing"`
}

// GroupRow is one group (or customer, partner: see WithGroupKey) in the
// by-group report.
type GroupRow struct {
	Group        string `json:"group"`
	Devices      int    `json:"devices"`
	Compliant    int    `json:"compliant"`
	NonCompliant int    `json:"noncompliant"`
	// CompliancePercent is Compliant/Devices*100, rounded down to 0.1.
	CompliancePercent float64 `json:"compliance_percent"`
	// UnapprovedMissing counts the group's missing patches the baseline
	// does not approve (yet), beside the verdict.
	UnapprovedMissing int `json:"unapproved_missing"`
	StateCounts
	NonCompliantBySeverity SeverityCounts `json:"noncompliant_by_severity"`
	Unknown                int            `json:"unknown"`
}

func percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part*1000/whole) / 10
}

// DeviceRows returns a row per device, in the order they were added.
func (f *Fleet) DeviceRows() []DeviceRow {
	out := make([]DeviceRow, len(f.devices))
	for i := range out {
		out[i] = f.row(i)
	}
	return out
}

// PatchRows returns a row per patch that some device reported or that the
// evaluation decided, in evaluation order, then the patches the evaluation
// did not know by ID.
func (f *Fleet) PatchRows() []PatchRow {
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
func (f *Fleet) GroupRows() []GroupRow {
	out := make([]GroupRow, 0, len(f.groups))
	for _, r := range f.groups {
		r.CompliancePercent = percent(r.Compliant, r.Devices)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b GroupRow) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// Dashboard is the data behind the three dashboard widgets.
type Dashboard struct {
	BaselineID string    `json:"baseline_id"`
	At         time.Time `json:"at"`
	// Compliance is the Patch Compliance widget.
	Compliance ComplianceWidget `json:"compliance"`
	// PendingApprovals is the Patch Pending Approvals widget.
	PendingApprovals PendingApprovalsWidget `json:"pending_approvals"`
	// Status is the Patch Status widget.
	Status StatusWidget `json:"status"`
}

// ComplianceWidget shows how many devices comply with the baseline.
type ComplianceWidget struct {
	Devices      int     `json:"devices"`
	Compliant    int     `json:"compliant"`
	NonCompliant int     `json:"noncompliant"`
	Percent      float64 `json:"percent"`
	// ByWorstSeverity counts non-compliant devices by the most severe of
	// their non-compliant patches.
	ByWorstSeverity SeverityCounts `json:"by_worst_severity"`
	// PendingReboot and WithUnknown count devices waiting for a restart and
	// devices detection could not judge in full: with findings it could not
	// decide, or not covered by the catalog at all.
	PendingReboot int `json:"pending_reboot"`
	WithUnknown   int `json:"with_unknown"`
}

// PendingApprovalsWidget shows the patches waiting for a person.
type PendingApprovalsWidget struct {
	Pending          int                              `json:"pending"`
	Scheduled        int                              `json:"scheduled"`
	BySeverity       SeverityCounts                   `json:"by_severity"`
	ByClassification map[patchcore.Classification]int `json:"by_classification"`
	// Top lists up to MaxPendingTop pending patches, most devices missing
	// them first, then most severe, then by ID.
	Top []PendingPatch `json:"top"`
}

// MaxPendingTop is how many patches PendingApprovalsWidget.Top lists.
const MaxPendingTop = 10

// PendingPatch is one patch waiting for approval.
type PendingPatch struct {
	PatchID        string                   `json:"patch_id"`
	Title          string                   `json:"title,omitempty"`
	Severity       patchcore.SeverityLevel  `json:"severity"`
	Classification patchcore.Classification `json:"classification,omitempty"`
	DevicesMissing int                      `json:"devices_missing"`
	Reason         string                   `json:"reason"`
}

// StatusWidget shows the fleet's patches by state.
type StatusWidget struct {
	Devices int `json:"devices"`
	StateCounts
	NonCompliantBySeverity SeverityCounts `json:"noncompliant_by_severity"`
	NonCompliantByLevel    LevelCounts    `json:"noncompliant_by_level"`
	Unknown                int            `json:"unknown"`
	UnapprovedMissing      int            `json:"unapproved_missing"`
}

// Dashboard returns the widgets' data.
func (f *Fleet) Dashboard() Dashboard {
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
