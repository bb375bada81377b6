package stream

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"
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
