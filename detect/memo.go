package detect

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// st is a finding state as detection computes with it; its order is the
// rank of states for a patch with several pieces of evidence (one missing
// package makes the patch missing).
type st uint8

const (
	stNone st = iota
	stNotApplicable
	stSuperseded
	stInstalled
	stPending
	stUnknown
	stMissing
)

var stStates = [...]patchcore.FindingState{
	stNone:          "",
	stNotApplicable: patchcore.FindingNotApplicable,
	stSuperseded:    patchcore.FindingSuperseded,
	stInstalled:     patchcore.FindingInstalled,
	stPending:       patchcore.FindingInstalledPendingReboot,
	stUnknown:       patchcore.FindingUnknown,
	stMissing:       patchcore.FindingMissing,
}

func (s st) state() patchcore.FindingState { return stStates[s] }

func (s st) actionable() bool { return s == stMissing || s == stUnknown || s == stPending }

// ventry is the memoised evaluation of one installed package (identified
// by every field that evaluation reads) against the fixes of one platform.
// It is immutable once stored.
type ventry struct {
	pkgID

	// kernelRel is the kernel release of a kernel package; kernel and meta
	// say whether it is one and whether it is a meta package.
	kernelRel    string
	kernel, meta bool

	// bin and src are the fixes naming the package and its source; src
	// are compared with the source version when srcKeyed (they are the
	// linux fixes for a signed kernel image otherwise).
	bin, src *fixList
	srcKeyed bool

	// run is the verdict when the package counts (not a kernel package, the
	// running kernel's, or the running kernel is unknown); notRun, for
	// kernel packages only, when it belongs to a kernel that is not
	// running. Each is evaluated when a device first needs it.
	run, notRun atomic.Pointer[verdict]
}

// verdict returns the entry's verdict for a package that counts (running)
// or belongs to a kernel that is not running, evaluating it on first use.
func (e *ventry) verdict(pl *platIndex, running bool) *verdict {
	ptr := &e.run
	if !running {
		ptr = &e.notRun
	}
	if v := ptr.Load(); v != nil {
		return v
	}
	v := &verdict{id: pl.ids.Add(1), e: e, kernelInstance: e.kernel && !e.meta}
	ev := evaluator{e: e, v: v, running: running}
	switch e.arch {
	case "", "noarch", "all":
		ev.anyArch = true
	default:
		ev.arch = normArch(e.arch)
	}
	n := 0
	if e.bin != nil {
		n += len(e.bin.fixes)
	}
	if e.src != nil {
		n += len(e.src.fixes)
	}
	v.evs = make([]cev, 0, n)
	if e.bin != nil {
		ev.evalList(e.bin, false)
	}
	if e.src != nil {
		ev.evalList(e.src, e.srcKeyed)
	}
	if ptr.CompareAndSwap(nil, v) {
		return v
	}
	return ptr.Load()
}

// verdict is the evidence of one installed package against every fix of
// its platform that names it, in evaluation order. Devices share verdicts.
type verdict struct {
	id             uint64
	e              *ventry
	kernelInstance bool // a kernel package of one kernel release (not a meta package)
	evs            []cev

	// rendered holds, once a finding needed them, the reason of each piece
	// of evidence (empty for reasons that depend on the device) and a
	// one-element Evidence slice for findings with this evidence alone.
	once     sync.Once
	rendered []renderedEv
	// byKernel holds the reasons that name the device's running kernel
	// (or release), rendered for the last device that needed them.
	byKernel atomic.Pointer[kernelReasons]
}

type kernelReasons struct {
	kernel, version string
	reasons         []string
}

// kernelReason renders the reason of evidence i that names the device's
// running kernel or release, reusing the last device's when they agree.
func (v *verdict) kernelReason(i int32, pl *patchcore.Platform) string {
	if k := v.byKernel.Load(); k != nil && k.kernel == pl.Kernel && k.version == pl.Version {
		return k.reasons[i]
	}
	k := &kernelReasons{kernel: pl.Kernel, version: pl.Version, reasons: make([]string, len(v.evs))}
	for j := range v.evs {
		k.reasons[j] = reason(v.e, &v.evs[j], pl)
	}
	v.byKernel.Store(k)
	return k.reasons[i]
}

type renderedEv struct {
	reason string
	one    []patchcore.Evidence
}

// render returns the verdict's rendered evidence.
func (v *verdict) render(pl *patchcore.Platform) []renderedEv {
	v.once.Do(func() {
		r := make([]renderedEv, len(v.evs))
		for i := range v.evs {
			c := &v.evs[i]
			if c.why == whyKernelNotRunning || c.why == whyShadowed {
				continue // names the device's running kernel or release
			}
			r[i].reason = reason(v.e, c, pl)
			r[i].one = []patchcore.Evidence{{Package: v.e.name, InstalledVersion: c.installed,
				FixedVersion: c.pf.cf.fix.FixedVersion, State: c.st.state(), Reason: r[i].reason}}
		}
		v.rendered = r
	})
	return v.rendered
}

// cev is one comparison (a piece of evidence), kept compact; the reason
// text is rendered only for findings that are built.
type cev struct {
	pf        *pfix
	installed string // the version compared (source version for source-keyed fixes)
	note      string // error text, overriding patch, kernel release...
	st        st
	why       why
	// fixedNotRunning marks a kernel package that is not running but has the fix.
	fixedNotRunning bool
	// older marks an older application version superseded by the latest
	// (note): the patch is superseded by it when nothing else decides.
	older bool
}

// pkgID is what identifies an installed package to detection: every field
// that its evaluation reads. A device's package and a memoised one are the
// same package when their pkgIDs are equal.
type pkgID struct {
	version, name, srcVersion, srcName, arch, stream string
	eco                                              patchcore.Ecosystem
}

func idOf(p *patchcore.Package) pkgID {
	return pkgID{version: p.Version, name: p.Name, srcVersion: p.SourceVersion, srcName: p.SourceName,
		arch: p.Arch, stream: p.ModuleStream, eco: p.Ecosystem}
}

// fields returns pointers to id's fields.
func (id *pkgID) fields() [7]*string {
	return [7]*string{&id.version, &id.name, &id.srcVersion, &id.srcName, &id.arch, &id.stream, (*string)(&id.eco)}
}

// clone returns id with strings of its own, copied into one allocation, so
// that what is memoised does not keep the inventory it came from alive.
func (id pkgID) clone() pkgID {
	n := 0
	for _, f := range id.fields() {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range id.fields() {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range id.fields() {
		*f, all = all[:len(*f)], all[len(*f):]
	}
	return id
}

func newEntry(p *patchcore.Package) *ventry {
	e := &ventry{pkgID: idOf(p).clone()}
	e.kernelRel, e.kernel, e.meta = kernelRelease(p)
	return e
}

// memoTab is an immutable snapshot of a slot's memo: a short list, or a
// map by version once it grows.
type memoTab struct {
	list  []*ventry
	byVer map[string][]*ventry
}

const (
	// memoList is the size up to which a slot's memo is a plain list.
	memoList = 8
	// memoMax bounds the entries memoised per slot (package name): a fleet
	// has a few versions of each package; more are evaluated every time.
	memoMax = 512
)

// lookup returns the memoised entry for p, or nil.
func (s *slot) lookup(p *patchcore.Package) *ventry {
	t := s.memo.Load()
	if t == nil {
		return nil
	}
	l := t.list
	if t.byVer != nil {
		l = t.byVer[p.Version]
	}
	id := idOf(p)
	for _, e := range l {
		if e.pkgID == id {
			return e
		}
	}
	return nil
}

// store memoises e unless an equal entry was stored meanwhile (which it
// returns) or the slot is full; it is safe for concurrent use.
func (s *slot) store(e *ventry) *ventry {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.memo.Load()
	n := 0
	if t != nil {
		n = len(t.list)
		l := t.list
		if t.byVer != nil {
			l = t.byVer[e.version]
		}
		for _, old := range l {
			if old.pkgID == e.pkgID {
				return old
			}
		}
	}
	if n >= memoMax {
		return e
	}
	nt := &memoTab{list: make([]*ventry, n, n+1)}
	if t != nil {
		copy(nt.list, t.list)
	}
	nt.list = append(nt.list, e)
	if len(nt.list) > memoList {
		nt.byVer = make(map[string][]*ventry, len(nt.list))
		for _, x := range nt.list {
			nt.byVer[x.version] = append(nt.byVer[x.version], x)
		}
	}
	s.memo.Store(nt)
	return e
}

// fixList is the fixes of one slot keyed on binary or on source names, with
// their fixed versions ranked (built on first use) so that an installed
// version is placed among them by a binary search instead of being
// compared with each.
type fixList struct {
	fixes []*pfix

	once   sync.Once
	scheme version.Scheme    // the scheme of the ranked fixes
	sorted []version.Version // distinct fixed versions, ascending
	rank   []int32           // per fix: its fixed version's index in sorted, -1 if not ranked
}

func (l *fixList) ranks() {
	l.once.Do(func() {
		l.rank = make([]int32, len(l.fixes))
		var vs []version.Version
		for i, pf := range l.fixes {
			l.rank[i] = -1
			cf := pf.cf
			if cf.err != nil || cf.fixed == nil {
				continue
			}
			if l.scheme == nil {
				l.scheme = cf.scheme
			}
			if cf.scheme == l.scheme {
				vs = append(vs, cf.fixed)
			}
		}
		if len(vs) < 4 {
			return // comparing each is as cheap
		}
		slices.SortFunc(vs, func(a, b version.Version) int { return a.Compare(b) })
		vs = slices.CompactFunc(vs, func(a, b version.Version) bool { return a.Compare(b) == 0 })
		for i, pf := range l.fixes {
			cf := pf.cf
			if cf.err != nil || cf.fixed == nil || cf.scheme != l.scheme {
				continue
			}
			r, _ := slices.BinarySearchFunc(vs, cf.fixed, func(a, b version.Version) int { return a.Compare(b) })
			l.rank[i] = int32(r)
		}
		l.sorted = vs
	})
}

// atMost returns how many of the ranked fixed versions are <= v.
func (l *fixList) atMost(v version.Version) int {
	lo, hi := 0, len(l.sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.sorted[m].Compare(v) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
