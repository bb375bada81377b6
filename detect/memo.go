package detect

import (
	"encoding/binary"
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
	// key holds the identity fields below in one string (appendKey), so
	// that a device compares its package with a memoised entry in one or
	// two cache lines.
	key                                              string
	name, version, srcName, srcVersion, arch, stream string
	eco                                              patchcore.Ecosystem

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

// A package's key is its identity fields (Version, Name, SourceVersion,
// SourceName, Arch, ModuleStream, Ecosystem) preceded by their lengths:
// seven length bytes when every field is shorter than 255 bytes, else the
// byte 255 and seven uvarints. No two packages share a key, and one is
// compared with a package by its lengths first.

// identity returns p's key fields.
func identity(p *patchcore.Package) [7]string {
	return [7]string{p.Version, p.Name, p.SourceVersion, p.SourceName, p.Arch, p.ModuleStream, string(p.Ecosystem)}
}

// appendKey appends p's key to b.
func appendKey(b []byte, p *patchcore.Package) []byte {
	f := identity(p)
	short := true
	for _, x := range f {
		short = short && len(x) < 255
	}
	if short {
		for _, x := range f {
			b = append(b, byte(len(x)))
		}
	} else {
		b = append(b, 255)
		for _, x := range f {
			b = binary.AppendUvarint(b, uint64(len(x)))
		}
	}
	for _, x := range f {
		b = append(b, x...)
	}
	return b
}

// writeKey writes p's key to b.
func writeKey(b *strings.Builder, p *patchcore.Package) {
	var buf [64]byte
	f := identity(p)
	short := true
	for _, x := range f {
		short = short && len(x) < 255
	}
	if short {
		var n [7]byte
		for i, x := range f {
			n[i] = byte(len(x))
		}
		b.Write(n[:])
	} else {
		h := append(buf[:0], 255)
		for _, x := range f {
			h = binary.AppendUvarint(h, uint64(len(x)))
		}
		b.Write(h)
	}
	for _, x := range f {
		b.WriteString(x)
	}
}

// splitKey splits the first key of s into its fields and returns the
// rest; ok is false when s does not start with a whole key.
func splitKey(s string) (f [7]string, rest string, ok bool) {
	var n [7]uint64
	if len(s) >= 7 && s[0] != 255 {
		for i := range n {
			n[i] = uint64(s[i])
		}
		s = s[7:]
	} else {
		if len(s) == 0 {
			return f, "", false
		}
		s = s[1:]
		for i := range n {
			v, w := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
			if w <= 0 {
				return f, "", false
			}
			n[i], s = v, s[w:]
		}
	}
	for i := range f {
		if uint64(len(s)) < n[i] {
			return f, "", false
		}
		f[i], s = s[:n[i]], s[n[i]:]
	}
	return f, s, true
}

// keyLen is about the length of p's key.
func keyLen(p *patchcore.Package) int {
	return len(p.Version) + len(p.Name) + len(p.SourceVersion) + len(p.SourceName) + len(p.Arch) + len(p.ModuleStream) + len(p.Ecosystem) + 8
}

func newEntry(p *patchcore.Package) *ventry {
	var b strings.Builder
	b.Grow(keyLen(p))
	writeKey(&b, p)
	key := b.String()
	// The fields are the key's substrings (one allocation).
	f, _, _ := splitKey(key)
	e := &ventry{key: key, version: f[0], name: f[1], srcVersion: f[2], srcName: f[3], arch: f[4], stream: f[5], eco: patchcore.Ecosystem(f[6])}
	e.kernelRel, e.kernel, e.meta = kernelRelease(p)
	return e
}

// keyMatches reports whether key is p's.
func keyMatches(key string, p *patchcore.Package) bool {
	rest, ok := cutKey(key, p)
	return ok && rest == ""
}

// cutKey reports whether key starts with p's key and returns the rest.
func cutKey(key string, p *patchcore.Package) (string, bool) {
	if len(key) < 7 || key[0] == 255 {
		return cutKeyLong(key, p)
	}
	lv, ln, lsv, lsn, la, lm, le := len(p.Version), len(p.Name), len(p.SourceVersion), len(p.SourceName), len(p.Arch), len(p.ModuleStream), len(p.Ecosystem)
	if int(key[0]) != lv || int(key[1]) != ln || int(key[2]) != lsv || int(key[3]) != lsn ||
		int(key[4]) != la || int(key[5]) != lm || int(key[6]) != le {
		return "", false
	}
	key = key[7:]
	if len(key) < lv+ln+lsv+lsn+la+lm+le {
		return "", false
	}
	if key[:lv] != p.Version {
		return "", false
	}
	key = key[lv:]
	if key[:ln] != p.Name {
		return "", false
	}
	key = key[ln:]
	if lsv > 0 && key[:lsv] != p.SourceVersion {
		return "", false
	}
	key = key[lsv:]
	if lsn > 0 && key[:lsn] != p.SourceName {
		return "", false
	}
	key = key[lsn:]
	if la > 0 && key[:la] != p.Arch {
		return "", false
	}
	key = key[la:]
	if lm > 0 && key[:lm] != p.ModuleStream {
		return "", false
	}
	key = key[lm:]
	if le > 0 && key[:le] != string(p.Ecosystem) {
		return "", false
	}
	return key[le:], true
}

// cutKeyLong is cutKey for keys with a field of 255 bytes or more.
func cutKeyLong(key string, p *patchcore.Package) (string, bool) {
	if len(key) == 0 || key[0] != 255 {
		return "", false
	}
	f, rest, ok := splitKey(key)
	if !ok || f != identity(p) {
		return "", false
	}
	return rest, true
}

// memoTab is an immutable snapshot of a slot's memo: a short list, or a
// map by version once it grows.
type memoTab struct {
	list  []memoItem
	byVer map[string][]memoItem
}

// memoItem is one memoised entry with its key next to the pointer.
type memoItem struct {
	key string
	e   *ventry
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
	for i := range l {
		if keyMatches(l[i].key, p) {
			return l[i].e
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
			if old.key == e.key {
				return old.e
			}
		}
	}
	if n >= memoMax {
		return e
	}
	nt := &memoTab{list: make([]memoItem, n, n+1)}
	if t != nil {
		copy(nt.list, t.list)
	}
	nt.list = append(nt.list, memoItem{key: e.key, e: e})
	if len(nt.list) > memoList {
		nt.byVer = make(map[string][]memoItem, len(nt.list))
		for _, x := range nt.list {
			nt.byVer[x.e.version] = append(nt.byVer[x.e.version], x)
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
