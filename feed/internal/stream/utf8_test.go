package stream

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestUTF8Repair(t *testing.T) {
	tests := []struct {
		name, in, out string
		repairs       []Repair
	}{
		{"valid", "a\nä€\n", "a\nä€\n", nil},
		{"latin1", "Ga\xebl\nRuusam\xe4e", "Ga\uFFFDl\nRuusam\uFFFDe", []Repair{{2, 1, []byte{0xeb}}, {11, 2, []byte{0xe4}}}},
		{"run", "x\xff\xfe\xfdy", "x\uFFFDy", []Repair{{1, 1, []byte{0xff, 0xfe, 0xfd}}}},
		{"truncated at end", "x\xe2\x82", "x\uFFFD", []Repair{{1, 1, []byte{0xe2, 0x82}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time: sequences split across reads stay whole.
			u := NewUTF8Repair(iotest.OneByteReader(bytes.NewReader([]byte(tt.in))))
			got, err := io.ReadAll(u)
			if err != nil || string(got) != tt.out {
				t.Fatalf("got %q, %v; want %q", got, err, tt.out)
			}
			if len(u.Repairs) != len(tt.repairs) || u.Count != len(tt.repairs) {
				t.Fatalf("repairs %+v, want %+v", u.Repairs, tt.repairs)
			}
			for i, r := range tt.repairs {
				g := u.Repairs[i]
				if g.Offset != r.Offset || g.Line != r.Line || !bytes.Equal(g.Bytes, r.Bytes) {
					t.Errorf("repair %d = %+v, want %+v", i, g, r)
				}
			}
		})
	}
}

func FuzzUTF8Repair(f *testing.F) {
	f.Add([]byte("Ga\xebl\nRuusam\xe4e"))
	f.Add([]byte("x\xe2\x82"))
	f.Fuzz(func(t *testing.T, in []byte) {
		u := NewUTF8Repair(iotest.HalfReader(bytes.NewReader(in)))
		out, err := io.ReadAll(u)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(out) {
			t.Fatalf("output %q is not UTF-8", out)
		}
		if utf8.Valid(in) != (u.Count == 0) || utf8.Valid(in) && !bytes.Equal(in, out) {
			t.Fatalf("input %q: output %q, %d repairs", in, out, u.Count)
		}
		for _, r := range u.Repairs {
			if r.Offset < 0 || r.Offset >= int64(len(in)) || r.Line != bytes.Count(in[:r.Offset], []byte("\n"))+1 || in[r.Offset] != r.Bytes[0] {
				t.Fatalf("repair %+v in %q", r, in)
			}
		}
	})
}
