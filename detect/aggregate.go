package detect

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/patchcore/sdk/patchcore"
)

// A device's state per patch is the highest-ranked state of its evidence
// (with the pending-reboot rule for kernels). Counting it needs one pass
// over the evidence of the device's verdicts, with a per-patch slot in a
// pooled scratch array indexed by patch number; devices whose verdicts are
// exactly those of an earlier device (the same image at the same patch
// level) reuse its aggregate.

// aggSlot is the running state of one patch while counting.
type aggSlot struct {
	epoch uint32
	st    st
	flags uint8
}

const (
	fMissingNonKernel uint8 = 1 << iota // a missing piece of evidence from a package that is not a kernel instance
	fFixedNotRunning                    // an installed, not running kernel has the fix
)

type scratch struct {
	slots   []aggSlot
	epoch   uint32
	touched []int32
}

// next starts a new fold: every slot reads as untouched.
func (sc *scratch) next() uint32 {
	sc.epoch++
	if sc.epoch == 0 {
		clear(sc.slots)
		sc.epoch = 1
	}
	sc.touched = sc.touched[:0]
	return sc.epoch
}

// aggregate is the outcome of a device's chunks: what its Result refers
// to, and what devices with the same chunks share.
type aggregate struct {
	chunks []*chunk
	counts Counts
}

const (
	// aggMax bounds the aggregates memoised per platform.
	aggMax = 4096
)

func foldState(s *aggSlot, v *verdict, c *cev) {
	if c.st > s.st {
		s.st = c.st
	}
	if c.st == stMissing && !v.kernelInstance {
		s.flags |= fMissingNonKernel
	}
	if c.fixedNotRunning {
		s.flags |= fFixedNotRunning
	}
}

// final is a patch's state after the pending-reboot rule: a kernel patch
// missing only on the running kernel, while an installed but not running
// kernel has the fix, is InstalledPendingReboot.
func (s *aggSlot) final() st {
	if s.st == stMissing && s.flags&(fMissingNonKernel|fFixedNotRunning) == fFixedNotRunning {
		return stPending
	}
	return s.st
}

// aggregate counts the states of the device's chunks, reusing a memoised
// aggregate when another device had exactly these chunks.
func (d *device) aggregate() *aggregate {
	h := uint64(14695981039346656037)
	for _, c := range d.chunks {
		h ^= c.id
		h *= 1099511628211
		h ^= h >> 29
	}
	pl := d.plat
	pl.aggMu.Lock()
	for _, a := range pl.aggs[h] {
		if slices.Equal(a.chunks, d.chunks) {
			pl.aggMu.Unlock()
			return a
		}
	}
	pl.aggMu.Unlock()
	a := &aggregate{chunks: slices.Clone(d.chunks)}
	sc := pl.scratch.Get().(*scratch)
	ep := sc.next()
	for _, c := range a.chunks {
		for _, e := range c.sum {
			s := &sc.slots[e.pn]
			if s.epoch != ep {
				*s = aggSlot{epoch: ep, st: e.st, flags: e.flags}
				sc.touched = append(sc.touched, e.pn)
				continue
			}
			s.st = max(s.st, e.st)
			s.flags |= e.flags
		}
	}
	for _, pn := range sc.touched {
		a.counts.add(sc.slots[pn].final())
	}
	a.counts.NotApplicable += len(pl.patches) - len(sc.touched)
	pl.scratch.Put(sc)
	pl.aggMu.Lock()
	if pl.naggs >= aggMax {
		clear(pl.aggs)
		pl.naggs = 0
	}
	pl.aggs[h] = append(pl.aggs[h], a)
	pl.naggs++
	pl.aggMu.Unlock()
	return a
}

// counts counts the states of the device: its chunks' aggregate and its
// applications' verdicts, folded together when there are any.
func (d *device) counts() (Counts, []*chunk) {
	var a *aggregate
	if d.plat != nil {
		a = d.aggregate()
	}
	if len(d.appVs) == 0 {
		if a == nil {
			return Counts{}, nil
		}
		return a.counts, a.chunks
	}
	// Applications: fold everything per patch (rare, not memoised).
	var c Counts
	states := map[*cpatch]*aggSlot{}
	fold := func(v *verdict) {
		for i := range v.evs {
			ev := &v.evs[i]
			s := states[ev.pf.cf.cp]
			if s == nil {
				s = &aggSlot{}
				states[ev.pf.cf.cp] = s
			}
			foldState(s, v, ev)
		}
	}
	var chunks []*chunk
	if a != nil {
		chunks = a.chunks
		for _, ch := range chunks {
			for _, v := range ch.vs {
				fold(v)
			}
		}
	}
	for _, v := range d.appVs {
		fold(v)
	}
	onPlatform := 0
	for cp, s := range states {
		c.add(s.final())
		if d.pnOf(cp) >= 0 {
			onPlatform++
		}
	}
	if d.plat != nil {
		c.NotApplicable += len(d.plat.patches) - onPlatform
	}
	return c, chunks
}

// The rest of this file builds findings from verdicts, for the findings a
// caller asks for.

// evref is one piece of evidence of one patch while building findings.
type evref struct {
	v    *verdict
	i    int32 // index in v.evs
	next int32 // the patch's next evidence, -1 at the end
	// pending and text override the evidence's state and reason (the
	// decisive evidence of an InstalledPendingReboot patch).
	pending bool
	text    string
}

func (ev *evref) c() *cev { return &ev.v.evs[ev.i] }

// acc collects the evidence of one patch.
type acc struct {
	cp          *cpatch
	pn          int32
	n           int32 // pieces of evidence
	first, last int32
	st          st
	best        int32 // decisive evidence
	supBy       string
}

// builder builds the findings of one device.
type builder struct {
	pl   *patchcore.Platform
	evs  []evref
	accs []acc
}

// findings builds the device's findings from its chunks' and applications'
// verdicts and its Windows findings: all of them, or only actionable ones,
// with NotApplicable findings for untouched platform patches when
// notApplicable is set.
func findings(pl *patchcore.Platform, plat *platIndex, chunks []*chunk, apps []*verdict, win []patchcore.Finding, actionable, notApplicable bool) []patchcore.Finding {
	b := builder{pl: pl}
	var byPN []int32
	var keep []bool
	if plat != nil {
		byPN = make([]int32, len(plat.patches))
		for i := range byPN {
			byPN[i] = -1
		}
		if actionable {
			keep = actionablePatches(plat, chunks, apps)
		}
	}
	var other map[*cpatch]int32
	n := 0
	for _, c := range chunks {
		for _, v := range c.vs {
			n += len(v.evs)
		}
	}
	if keep == nil {
		b.evs = make([]evref, 0, n)
	}
	add := func(v *verdict) {
		for i := range v.evs {
			c := &v.evs[i]
			if c.pf.pn < 0 || byPN == nil {
				if other == nil {
					other = map[*cpatch]int32{}
				}
				ai, ok := other[c.pf.cf.cp]
				if !ok {
					ai = -1
				}
				b.add(&ai, v, int32(i))
				other[c.pf.cf.cp] = ai
				continue
			}
			if keep != nil && !keep[c.pf.pn] {
				continue
			}
			b.add(&byPN[c.pf.pn], v, int32(i))
		}
	}
	for _, c := range chunks {
		for _, v := range c.vs {
			add(v)
		}
	}
	for _, v := range apps {
		add(v)
	}
	// In patch ID order: platform patches are numbered in ID order; the
	// others (applications) are sorted and merged in.
	order := make([]int32, 0, len(b.accs))
	for _, ai := range byPN {
		if ai >= 0 {
			order = append(order, ai)
		}
	}
	if len(other) > 0 {
		var rest []int32
		for _, ai := range other {
			rest = append(rest, ai)
		}
		byID := func(x, y int32) int { return cmp.Compare(b.accs[x].cp.p.ID, b.accs[y].cp.p.ID) }
		slices.SortFunc(rest, byID)
		merged := make([]int32, 0, len(order)+len(rest))
		i, j := 0, 0
		for i < len(order) || j < len(rest) {
			if j == len(rest) || i < len(order) && byID(order[i], rest[j]) <= 0 {
				merged = append(merged, order[i])
				i++
			} else {
				merged = append(merged, rest[j])
				j++
			}
		}
		order = merged
	}
	out := make([]patchcore.Finding, 0, len(b.accs)+len(win))
	for _, ai := range order {
		a := &b.accs[ai]
		b.finishPendingReboot(a)
		if actionable && !a.st.actionable() {
			continue
		}
		out = append(out, b.finding(a))
	}
	for _, f := range win {
		if actionable && !isActionable(f.State) {
			continue
		}
		out = append(out, f)
	}
	if plat != nil && notApplicable && !actionable {
		// Patches of the platform that touched nothing installed.
		for pn, cp := range plat.patches {
			if byPN[pn] >= 0 {
				continue
			}
			out = append(out, findingHeader(cp, patchcore.FindingNotApplicable,
				"no installed package is named by "+cp.p.ID+" for "+plat.label))
		}
	}
	if notApplicable || len(win) > 0 {
		slices.SortStableFunc(out, func(a, b patchcore.Finding) int { return cmp.Compare(a.PatchID, b.PatchID) })
	}
	return out
}

// actionablePatches reports, by patch number, the platform patches whose
// state is actionable, from the chunks' folded states (and applications'
// evidence), so that only their evidence is collected.
func actionablePatches(plat *platIndex, chunks []*chunk, apps []*verdict) []bool {
	keep := make([]bool, len(plat.patches))
	sc := plat.scratch.Get().(*scratch)
	ep := sc.next()
	for _, c := range chunks {
		for _, e := range c.sum {
			s := &sc.slots[e.pn]
			if s.epoch != ep {
				*s = aggSlot{epoch: ep, st: e.st, flags: e.flags}
				sc.touched = append(sc.touched, e.pn)
				continue
			}
			s.st = max(s.st, e.st)
			s.flags |= e.flags
		}
	}
	for _, v := range apps {
		for i := range v.evs {
			c := &v.evs[i]
			if c.pf.pn < 0 {
				continue
			}
			s := &sc.slots[c.pf.pn]
			if s.epoch != ep {
				*s = aggSlot{epoch: ep}
				sc.touched = append(sc.touched, c.pf.pn)
			}
			foldState(s, v, c)
		}
	}
	for _, pn := range sc.touched {
		keep[pn] = sc.slots[pn].final().actionable()
	}
	plat.scratch.Put(sc)
	return keep
}

// add records evidence i of verdict v for the patch whose acc index is *ai
// (-1: none yet).
func (b *builder) add(ai *int32, v *verdict, i int32) {
	c := &v.evs[i]
	idx := int32(len(b.evs))
	b.evs = append(b.evs, evref{v: v, i: i, next: -1})
	if *ai < 0 {
		*ai = int32(len(b.accs))
		b.accs = append(b.accs, acc{cp: c.pf.cf.cp, pn: c.pf.pn, n: 1, first: idx, last: idx, st: c.st, best: idx})
	} else {
		a := &b.accs[*ai]
		b.evs[a.last].next = idx
		a.last = idx
		a.n++
		if c.st > a.st {
			a.st, a.best = c.st, idx
		}
	}
	if a := &b.accs[*ai]; c.older && a.st == stSuperseded {
		a.supBy = c.note
	}
}

// finishPendingReboot turns a kernel patch that is missing only on the
// running kernel, while an installed but not running kernel has the fix,
// into InstalledPendingReboot.
func (b *builder) finishPendingReboot(a *acc) {
	if a.st != stMissing {
		return
	}
	fixedElsewhere := false
	for i := a.first; i >= 0; i = b.evs[i].next {
		ev := &b.evs[i]
		c := ev.c()
		if c.fixedNotRunning {
			fixedElsewhere = true
		}
		if c.st == stMissing && !ev.v.kernelInstance {
			return
		}
	}
	if !fixedElsewhere {
		return
	}
	a.st = stPending
	for i := a.first; i >= 0; i = b.evs[i].next {
		if ev := &b.evs[i]; ev.c().fixedNotRunning {
			best := &b.evs[a.best]
			best.text = b.reason(best) + "; the fix is installed as " + ev.v.e.name + " " + ev.c().installed + " but that kernel is not running: reboot"
			best.pending = true
			return
		}
	}
}

func (b *builder) reason(ev *evref) string {
	if ev.text != "" {
		return ev.text
	}
	if r := ev.v.render(b.pl)[ev.i].reason; r != "" {
		return r
	}
	return ev.v.kernelReason(ev.i, b.pl)
}

// findingHeader fills the patch's own fields of a finding.
func findingHeader(cp *cpatch, state patchcore.FindingState, reason string) patchcore.Finding {
	p := &cp.p
	sev := p.EffectiveSeverity()
	return patchcore.Finding{
		PatchID:        p.ID,
		Title:          p.Title,
		Source:         p.Source,
		Severity:       sev,
		Classification: p.Classification,
		CVEs:           cp.cves,
		Released:       p.Released,
		State:          state,
		Reason:         reason,
	}
}

// finding builds the finding of one patch from its evidence.
func (b *builder) finding(a *acc) patchcore.Finding {
	best := &b.evs[a.best]
	bc := best.c()
	f := findingHeader(a.cp, a.st.state(), b.reason(best))
	fix := bc.pf.cf.fix
	if f.Severity.Level == patchcore.SeverityUnknown {
		f.Severity = fix.Severity
	}
	f.Package = best.v.e.name
	f.InstalledVersion = bc.installed
	f.FixedVersion = fix.FixedVersion
	f.Fix = fix
	f.SupersededBy = a.supBy
	if a.n == 1 && !best.pending {
		if one := best.v.render(b.pl)[best.i].one; one != nil {
			f.Evidence = one
			return f
		}
	}
	more := 0
	f.Evidence = make([]patchcore.Evidence, 0, a.n)
	for i := a.first; i >= 0; i = b.evs[i].next {
		ev := &b.evs[i]
		c := ev.c()
		state := c.st
		if ev.pending {
			state = stPending
		}
		f.Evidence = append(f.Evidence, patchcore.Evidence{Package: ev.v.e.name, InstalledVersion: c.installed,
			FixedVersion: c.pf.cf.fix.FixedVersion, State: state.state(), Reason: b.reason(ev)})
		if i != a.best && state == a.st {
			more++
		}
	}
	if more > 0 {
		f.Reason += " (and " + strconv.Itoa(more) + " more package(s) " + string(a.st.state()) + ")"
	}
	return f
}
