package patchcore_test

import (
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

func TestNormalizeKB(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"KB5034441", "KB5034441"},
		{"kb5034441", "KB5034441"},
		{" KB5034441\t", "KB5034441"},
		{"5034441", "KB5034441"},
		{"KB 5034441", "KB5034441"},
		{"kb 890830", "KB890830"},
		{"KB976932", "KB976932"},
		{"KB12345678", "KB12345678"},
		{"KB123456789", "KB123456789"},
		{"KB1234", "KB1234"},
		{"KB05034441", "KB5034441"},
		{"KB123", ""},
		{"KB1234567890", ""},
		{"KB0000", ""},
		{"File 1", ""},
		{"", ""},
		{"KB", ""},
		{"Q147222", ""},
		{"KB5034441-v2", ""},
		{"KBKB5034441", ""},
		{"Release Notes", ""},
		{"kernel", ""},
		{"5034441 5034442", ""},
		{"KB５０３４４４１", ""},
	} {
		got, ok := patchcore.NormalizeKB(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("NormalizeKB(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if ok {
			if again, ok2 := patchcore.NormalizeKB(got); !ok2 || again != got {
				t.Errorf("NormalizeKB(%q) = %q, %v; not idempotent", got, again, ok2)
			}
		}
	}
}

func FuzzNormalizeKB(f *testing.F) {
	f.Add("KB5034441")
	f.Add(" kb 0890830 ")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := patchcore.NormalizeKB(s)
		if !ok {
			if got != "" {
				t.Fatalf("%q: %q with false", s, got)
			}
			return
		}
		if again, ok := patchcore.NormalizeKB(got); !ok || again != got || len(got) < 6 || len(got) > 11 {
			t.Fatalf("%q: %q is not a normal KB (%q, %v)", s, got, again, ok)
		}
	})
}
