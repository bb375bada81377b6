package stream

import (
	"bytes"
	"io"
	"unicode/utf8"
)

// Repair is one run of bytes that were not UTF-8, replaced by U+FFFD.
type Repair struct {
	// Offset (0-based, in the original input) and Line (1-based) locate
	// the first byte of the run; Bytes are the run itself (at most 16).
	Offset int64
	Line   int
	Bytes  []byte
}

// MaxRepairs bounds the repairs a UTF8Repair records; Count keeps
// counting beyond it.
const MaxRepairs = 1000

// UTF8Repair reads r and replaces every byte that is not part of a valid
// UTF-8 sequence with U+FFFD (one replacement per run of such bytes),
// recording where, so that a document whose vendor wrote one Latin-1 byte in
// a free-text note can still be read and the repair reported. Callers must
// check that the replacement character landed in nothing that matters.
type UTF8Repair struct {
	r       io.Reader
	buf     []byte // read buffer
	in      []byte // read from r, not yet examined (an incomplete sequence)
	out     []byte // examined, not yet returned
	off     int64  // offset in the original of in[0]
	line    int    // line of in[0]
	badEnd  int64  // offset just past the last invalid byte
	eof     bool
	err     error
	Repairs []Repair
	// Count is the number of runs replaced, recorded or not.
	Count int
}

// NewUTF8Repair returns a UTF8Repair reading r.
func NewUTF8Repair(r io.Reader) *UTF8Repair { return &UTF8Repair{r: r, line: 1} }

// Read implements io.Reader.
func (u *UTF8Repair) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.eof && len(u.in) == 0 {
			return 0, u.err
		}
		if !u.eof {
			if u.buf == nil {
				u.buf = make([]byte, 32<<10)
			}
			n, err := u.r.Read(u.buf)
			u.in = append(u.in, u.buf[:n]...)
			if err != nil {
				u.eof, u.err = true, err
			}
		}
		u.scan()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// scan moves what is complete in u.in to u.out, repairing it.
func (u *UTF8Repair) scan() {
	in := u.in
	u.out = u.out[:0]
	if utf8.Valid(in) {
		// Fast path: a valid chunk (which ends no sequence early) passes
		// through as it is.
		u.line += bytes.Count(in, []byte("\n"))
		u.out = append(u.out, in...)
		u.off += int64(len(in))
		u.in = u.in[:0]
		return
	}
	i := 0
	for i < len(in) {
		if c := in[i]; c < utf8.RuneSelf {
			if c == '\n' {
				u.line++
			}
			u.out = append(u.out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(in[i:])
		if r == utf8.RuneError && size <= 1 {
			if !u.eof && !utf8.FullRune(in[i:]) {
				break // the rest of the sequence comes with the next read
			}
			if u.badEnd == u.off+int64(i) && u.Count > 0 {
				if u.Count <= MaxRepairs {
					if rp := &u.Repairs[len(u.Repairs)-1]; len(rp.Bytes) < 16 {
						rp.Bytes = append(rp.Bytes, in[i])
					}
				}
			} else {
				u.Count++
				if u.Count <= MaxRepairs {
					u.Repairs = append(u.Repairs, Repair{Offset: u.off + int64(i), Line: u.line, Bytes: []byte{in[i]}})
				}
				u.out = append(u.out, "\uFFFD"...)
			}
			i++
			u.badEnd = u.off + int64(i)
			continue
		}
		u.out = append(u.out, in[i:i+size]...)
		i += size
	}
	u.off += int64(i)
	u.in = append(u.in[:0], in[i:]...)
}
