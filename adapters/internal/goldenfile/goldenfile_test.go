package goldenfile

import "testing"

func TestFirstDiff(t *testing.T) {
	for _, tt := range []struct{ want, got, diff string }{
		{"a\nb\n", "a\nb\n", ""},
		{"a\nb\n", "a\nc\n", "line 2:\n  want b\n  got  c"},
		{"a\n", "a\nextra\n", "line 2:\n  want \n  got  extra"},
	} {
		if d := firstDiff(tt.want, tt.got); d != tt.diff {
			t.Errorf("firstDiff(%q, %q) = %q, want %q", tt.want, tt.got, d, tt.diff)
		}
	}
}
