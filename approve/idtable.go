package approve

import "hash/maphash"

// idTable maps patch IDs to their index in Evaluation.patches. It is an
// open-addressing table of packed (hash tag, index) words: a lookup
// usually touches one word and then the patchEval it needs anyway, which
// is cheaper than a Go map whose keys live elsewhere in memory. Compliance
// does one lookup per finding, so this is the hot path.
type idTable struct {
	seed  maphash.Seed
	slots []uint64 // 0: empty; else tag<<32 | (index+1)
	mask  uint64
}

func newIDTable(n int) idTable {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return idTable{seed: maphash.MakeSeed(), slots: make([]uint64, size), mask: uint64(size - 1)}
}

// insert adds id at index i; the caller ensures id is not present yet.
func (t *idTable) insert(id string, i int) {
	h := maphash.String(t.seed, id)
	tag := h >> 32
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		if t.slots[s] == 0 {
			t.slots[s] = tag<<32 | uint64(i+1)
			return
		}
	}
}

// lookup finds id; patches is consulted to confirm a tag match.
func (t *idTable) lookup(id string, patches []patchEval) (int, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	h := maphash.String(t.seed, id)
	tag := h >> 32
	for s := h & t.mask; ; s = (s + 1) & t.mask {
		v := t.slots[s]
		if v == 0 {
			return 0, false
		}
		if v>>32 == tag {
			if j := int(uint32(v)) - 1; patches[j].id == id {
				return j, true
			}
		}
	}
}
