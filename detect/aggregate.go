package detect

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/patchcore/sdk/patchcore"
)

// A device's state per patch is the fold of its evidence (fold.state).
// Counting it needs one pass over the evidence of the device's verdicts,
// with a per-patch slot in a pooled scratch array indexed by patch number;
// each chunk keeps its evidence folded per patch (its sum), and devices
// whose chunks are exactly those of an earlier device (the same image at
// the same patch level) reuse its aggregate.

// fold is what the evidence of one patch says so far: its highest-ranked
// state, and what the pending-reboot rule needs to know.
type fold struct {
	st    st
	flags uint8
}

const (
	fMissingNonKernel uint8 = 1 << iota // a missing piece of evidence from a package that is not a kernel instance
	fFixedNotRunning                    // an installed, not running kernel has the fix
)

// add folds in evidence c of verdict v.
func (f *fold) add(v *verdict, c *cev) {
	f.st = max(f.st, c.st)
	if c.st == stMissing && !v.kernelInstance {
		f.flags |= fMissingNonKernel
	}
	if c.fixedNotRunning {
		f.flags |= fFixedNotRunning
	}
}

// merge folds in g, the fold of other evidence of the same patch.
func (f *fold) merge(g fold) {
	f.st = max(f.st, g.st)
	f.flags |= g.flags
}

// state is the patch's state: the highest-ranked state of its evidence,
// except that a kernel patch missing only on the running kernel, while an
// installed but not running kernel has the fix, is InstalledPendingReboot.
func (f fold) state() st {
	if f.st == stMissing && f.flags&(fMissingNonKernel|fFixedNotRunning) == fFixedNotRunning {
		return stPending
	}
	return f.st
}

// aggSlot is one patch's fold in a scratch array; it is part of the
// current pass when its epoch is the scratch's.
type aggSlot struct {
	epoch uint32
	f     fold
}

type scratch struct {
	slots   []aggSlot
	epoch   uint32
	touched []int32
}

// next starts a new pass: every slot reads as untouched.
func (sc *scratch) next() {
	sc.epoch++
	if sc.epoch == 0 {
		clear(sc.slots)
		sc.epoch = 1
	}
	sc.touched = sc.touched[:0]
}

// at returns patch pn's fold in the current pass.
func (sc *scratch) at(pn int32) *fold {
	s := &sc.slots[pn]
	if s.epoch != sc.epoch {
		*s = aggSlot{epoch: sc.epoch}
		sc.touched = append(sc.touched, pn)
	}
	return &s.f
}

// foldPatches folds the evidence of chunks (their sums) and of verdicts
// per patch and calls each with every patch's fold: platform patches with
// their patch number, in the order first touched, then the others
// (applications' patches not on the platform) with -1. It returns the
// number of platform patches touched.
func foldPatches(plat *platIndex, chunks []*chunk, vs []*verdict, each func(pn int32, f fold)) int {
	var sc *scratch
	if plat != nil {
		sc = plat.scratch.Get().(*scratch)
		defer plat.scratch.Put(sc)
		sc.next()
	}
	for _, c := range chunks {
		for _, e := range c.sum {
			sc.at(e.pn).merge(e.f)
		}
	}
	var other map[*cpatch]*fold
	for _, v := range vs {
		for i := range v.evs {
			c := &v.evs[i]
			if c.pf.pn >= 0 {
				sc.at(c.pf.pn).add(v, c)
				continue
			}
			if other == nil {
				other = map[*cpatch]*fold{}
			}
			f := other[c.pf.cf.cp]
			if f == nil {
				f = &fold{}
				other[c.pf.cf.cp] = f
			}
			f.add(v, c)
		}
	}
	n := 0
	if sc != nil {
		n = len(sc.touched)
		for _, pn := range sc.touched {
			each(pn, sc.slots[pn].f)
		}
	}
	for _, f := range other {
		each(-1, *f)
	}
	return n
}

// countPatches counts the states of the patches folded from chunks and
// verdicts; the platform's patches they do not touch are NotApplicable.
func countPatches(plat *platIndex, chunks []*chunk, vs []*verdict) Counts {
	var c Counts
	n := foldPatches(plat, chunks, vs, func(_ int32, f fold) { c.add(f.state()) })
	if plat != nil {
		c.NotApplicable += len(plat.patches) - n
	}
	return c
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
	a.counts = countPatches(pl, a.chunks, nil)
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
	var chunks []*chunk
	if d.plat != nil {
		a = d.aggregate()
		chunks = a.chunks
	}
	switch {
	case len(d.appVs) > 0:
		// Applications: fold everything per patch (rare, not memoised).
		return countPatches(d.plat, chunks, d.appVs), chunks
	case a != nil:
		return a.counts, chunks
	}
	return Counts{}, nil
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
	f           fold  // the evidence so far
	st          st    // the patch's state, once every piece of evidence is in
	best        int32 // decisive evidence: the first of the highest-ranked state
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
		b.finish(a)
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
	foldPatches(plat, chunks, apps, func(pn int32, f fold) {
		if pn >= 0 {
			keep[pn] = f.state().actionable()
		}
	})
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
		b.accs = append(b.accs, acc{cp: c.pf.cf.cp, pn: c.pf.pn, first: idx, last: idx, best: idx})
	} else {
		a := &b.accs[*ai]
		b.evs[a.last].next = idx
		a.last = idx
		if c.st > a.f.st {
			a.best = idx
		}
	}
	a := &b.accs[*ai]
	a.n++
	a.f.add(v, c)
	if c.older && a.f.st == stSuperseded {
		a.supBy = c.note
	}
}

// finish sets the patch's state from its evidence. An InstalledPendingReboot
// patch's decisive evidence (missing on the running kernel) says which
// installed kernel has the fix.
func (b *builder) finish(a *acc) {
	a.st = a.f.state()
	if a.st != stPending {
		return
	}
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
