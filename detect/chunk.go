package detect

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// Devices of a fleet share images, so long runs of their (sorted)
// package lists are identical. The OS packages of an inventory are cut
// into chunks at packages whose name hashes to a boundary (so that a
// package added, removed or at another version changes only its own
// chunk), and each chunk's verdicts and per-patch states are memoised per
// platform under a fingerprint of its packages. A chunk found by
// fingerprint is checked field by field against the packages it was made
// from, so a fingerprint collision costs time, never correctness.

// chunk is the memoised evaluation of a run of installed OS packages.
type chunk struct {
	id uint64
	// key is the chunk's packages' identities, one after another (see
	// writeKey).
	key string
	// kernel is the running kernel the chunk's kernel packages were
	// evaluated for; kernelDep says whether it has kernel packages.
	kernel    string
	kernelDep bool
	vs        []*verdict // verdicts with evidence, in inventory order
	sum       []sumEntry // the chunk's evidence folded per patch
}

// sumEntry is one patch's folded evidence within a chunk.
type sumEntry struct {
	pn int32
	f  fold
}

const (
	// chunkBoundary makes about one package in 32 end a chunk.
	chunkBoundary = 31
	// chunkLen bounds a chunk's length.
	chunkLen = 128
	// chunkMax bounds the chunks memoised per platform (a few MB each
	// thousand); the memo starts over when it is full.
	chunkMax = 16384
	// chunkNext bounds the successors remembered per chunk.
	chunkNext = 16
)

// isOSPackage reports packages the OS (linux) path evaluates.
func isOSPackage(p *patchcore.Package) bool {
	return p.Ecosystem == patchcore.EcosystemDeb || p.Ecosystem == patchcore.EcosystemRPM || p.Ecosystem == ""
}

// fingerprint mixes what identifies p into a chunk's running hash h, and
// says whether p ends a chunk. It reads only the name and version; the
// other fields are checked when the chunk is found.
func (pl *platIndex) fingerprint(h uint64, p *patchcore.Package) (uint64, bool) {
	nh := maphash.String(pl.seed, p.Name)
	vh := maphash.String(pl.seed, p.Version)
	x := nh ^ bits.RotateLeft64(vh, 23) ^ uint64(len(p.SourceVersion))<<48 ^ uint64(len(p.SourceName))<<40 ^
		uint64(len(p.Arch))<<32 ^ uint64(len(p.ModuleStream))<<24 ^ uint64(len(p.Ecosystem))<<16
	h = (h ^ x) * 0x9E3779B97F4A7C15
	h ^= h >> 31
	return h, nh&chunkBoundary == 0
}

// linux evaluates the OS packages against the platform's fixes, chunk by
// chunk. A device from a known image walks the chunks other devices had,
// in order: it checks the chunks that followed the previous one, and
// fingerprints its packages only where none matches.
func (d *device) linux(ctx context.Context) error {
	pkgs := d.inv.Packages
	pl := d.plat
	kernel := d.inv.Platform.Kernel
	var prev *chunk
	for i := 0; i < len(pkgs); {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		pl.chunkMu.RLock()
		cands := pl.next[prev]
		pl.chunkMu.RUnlock()
		var c *chunk
		for _, cand := range cands {
			if cand.kernelDep && cand.kernel != kernel {
				continue
			}
			if end, ok := cand.matchAt(pkgs[i:]); ok {
				c, i = cand, i+end
				break
			}
		}
		if c == nil {
			// Cut a chunk by fingerprint.
			var h uint64
			n, j := 0, i
			for ; j < len(pkgs); j++ {
				p := &pkgs[j]
				if !isOSPackage(p) {
					continue
				}
				var end bool
				h, end = pl.fingerprint(h, p)
				n++
				if end || n == chunkLen {
					j++
					break
				}
			}
			if n == 0 {
				break
			}
			c = d.chunk(pkgs[i:j], h)
			pl.link(prev, c)
			i = j
		}
		d.chunks = append(d.chunks, c)
		prev = c
	}
	return nil
}

// matchAt reports whether the OS packages at the start of pkgs are the
// chunk's, and how many packages of pkgs they span.
func (c *chunk) matchAt(pkgs []patchcore.Package) (int, bool) {
	key := c.key
	for i := range pkgs {
		p := &pkgs[i]
		if !isOSPackage(p) {
			continue
		}
		var ok bool
		if key, ok = cutKey(key, p); !ok {
			return 0, false
		}
		if key == "" {
			return i + 1, true
		}
	}
	return 0, false
}

// link records that c followed prev (nil: started a device).
func (pl *platIndex) link(prev, c *chunk) {
	pl.chunkMu.Lock()
	defer pl.chunkMu.Unlock()
	l := pl.next[prev]
	if len(l) >= chunkNext || slices.Contains(l, c) {
		return
	}
	pl.next[prev] = append(slices.Clip(l), c)
}

// chunk finds or builds the chunk of pkgs (whose fingerprint is h).
func (d *device) chunk(pkgs []patchcore.Package, h uint64) *chunk {
	pl := d.plat
	kernel := d.inv.Platform.Kernel
	pl.chunkMu.RLock()
	cands := pl.chunks[h]
	pl.chunkMu.RUnlock()
	for _, c := range cands {
		if (!c.kernelDep || c.kernel == kernel) && chunkMatches(c.key, pkgs) {
			return c
		}
	}
	c := d.buildChunk(pkgs)
	pl.chunkMu.Lock()
	if pl.nchunks >= chunkMax {
		// Start over; aggregates refer to chunks, so they go too.
		clear(pl.chunks)
		clear(pl.next)
		pl.nchunks = 0
		pl.aggMu.Lock()
		clear(pl.aggs)
		pl.naggs = 0
		pl.aggMu.Unlock()
	}
	pl.chunks[h] = append(pl.chunks[h], c)
	pl.nchunks++
	pl.chunkMu.Unlock()
	return c
}

// chunkMatches reports whether key is the identity of the OS packages of
// pkgs, in order.
func chunkMatches(key string, pkgs []patchcore.Package) bool {
	for i := range pkgs {
		p := &pkgs[i]
		if !isOSPackage(p) {
			continue
		}
		var ok bool
		if key, ok = cutKey(key, p); !ok {
			return false
		}
	}
	return key == ""
}

// A chunk's key holds the identity (pkgID) of each of its packages, one
// after another: the lengths of its seven fields, then the fields. The
// lengths are seven bytes when every field is shorter than 255 bytes, else
// the byte 255 and seven uvarints. A device in a known image compares
// every one of its packages with a chunk's key (the steady state of a
// fleet); this form reads about half the memory that comparing pkgID
// structs does, which BENCHMARKS.md measures.

// writeKey writes p's identity to a chunk key.
func writeKey(b *strings.Builder, p *patchcore.Package) {
	id := idOf(p)
	f := id.fields()
	var lens [1 + 7*binary.MaxVarintLen64]byte
	l := lens[:0]
	short := true
	for _, x := range f {
		short = short && len(*x) < 255
	}
	if short {
		for _, x := range f {
			l = append(l, byte(len(*x)))
		}
	} else {
		l = append(l, 255)
		for _, x := range f {
			l = binary.AppendUvarint(l, uint64(len(*x)))
		}
	}
	b.Write(l)
	for _, x := range f {
		b.WriteString(*x)
	}
}

// cutKey reports whether key starts with p's identity and returns the
// rest. It compares the lengths first, then the fields that are not empty.
func cutKey(key string, p *patchcore.Package) (string, bool) {
	lv, ln, lsv, lsn, la, lm, le := len(p.Version), len(p.Name), len(p.SourceVersion), len(p.SourceName), len(p.Arch), len(p.ModuleStream), len(p.Ecosystem)
	if len(key) >= 7 && key[0] != 255 {
		if int(key[0]) != lv || int(key[1]) != ln || int(key[2]) != lsv || int(key[3]) != lsn ||
			int(key[4]) != la || int(key[5]) != lm || int(key[6]) != le {
			return "", false
		}
		key = key[7:]
	} else {
		var ok bool
		if key, ok = cutLongLengths(key, [7]int{lv, ln, lsv, lsn, la, lm, le}); !ok {
			return "", false
		}
	}
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

// cutLongLengths reports whether key starts with the long form of the
// lengths want (the byte 255 and seven uvarints) and returns the rest.
func cutLongLengths(key string, want [7]int) (string, bool) {
	if len(key) == 0 || key[0] != 255 {
		return "", false
	}
	key = key[1:]
	for _, n := range want {
		v, w := binary.Uvarint([]byte(key[:min(len(key), binary.MaxVarintLen64)]))
		if w <= 0 || v != uint64(n) {
			return "", false
		}
		key = key[w:]
	}
	return key, true
}

// buildChunk evaluates pkgs package by package (each package's verdict
// memoised in its slot) and folds the evidence per patch.
func (d *device) buildChunk(pkgs []patchcore.Package) *chunk {
	pl := d.plat
	c := &chunk{id: pl.ids.Add(1), kernel: d.inv.Platform.Kernel}
	n := 0
	for i := range pkgs {
		id := idOf(&pkgs[i])
		for _, x := range id.fields() {
			n += 1 + len(*x)
		}
	}
	var key strings.Builder
	key.Grow(n)
	for i := range pkgs {
		p := &pkgs[i]
		if !isOSPackage(p) {
			continue
		}
		writeKey(&key, p)
		e := d.entry(p)
		if e == nil {
			continue
		}
		running := true
		if e.kernel {
			c.kernelDep = true
			running = c.kernel == "" || e.running(c.kernel)
		}
		v := e.verdict(pl, running)
		if len(v.evs) > 0 {
			c.vs = append(c.vs, v)
		}
	}
	c.key = key.String()
	var buf [256]sumEntry
	sum := buf[:0]
	foldPatches(pl, nil, c.vs, func(pn int32, f fold) { sum = append(sum, sumEntry{pn: pn, f: f}) })
	c.sum = slices.Clone(sum)
	return c
}

// entry returns the memoised verdict entry of OS package p, evaluating it
// on first sight; nil when no fix of the platform names the package or
// its source.
func (d *device) entry(p *patchcore.Package) *ventry {
	pl := d.plat
	src := p.SourceName
	if src == "" {
		src = p.Name
	}
	var s1, s2 *slot
	if pl.hasBin || src == p.Name {
		s1 = pl.slots[p.Name]
	}
	if src == p.Name {
		s2 = s1
	} else if pl.hasSrc {
		s2 = pl.slots[src]
	}
	home := s2
	if s2 == nil || len(s2.src.fixes) == 0 {
		home = s1
		if alias := kernelSourceAlias(src); alias != "" {
			if s3 := pl.slots[alias]; s3 != nil && len(s3.src.fixes) > 0 {
				home = s3
			}
		}
		if home == nil {
			return nil
		}
	}
	if e := home.lookup(p); e != nil {
		return e
	}
	return d.evaluate(home, p, s1, s2, src)
}
