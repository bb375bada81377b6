package version

import "testing"

// benchCases are realistic pairs whose comparison runs to the last segment.
var benchCases = []struct {
	scheme Scheme
	a, b   string
}{
	{deb, "1:2.7.15-4ubuntu4~18.04", "1:2.7.15-4ubuntu4~18.04.1"},
	{rpm, "1:9.0.117-2.el9_8", "1:9.0.117-2.el9_8.1"},
	{semverS, "v1.22.3-rc.1", "v1.22.3-rc.2"},
	{dotted, "10.0.22631.3007", "10.0.22631.3085"},
	{brew, "1.1.1w_1", "1.1.1w_2"},
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.scheme.Name(), func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.scheme.Parse(bc.a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompare(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.scheme.Name(), func(b *testing.B) {
			va, _ := bc.scheme.Parse(bc.a)
			vb, _ := bc.scheme.Parse(bc.b)
			for b.Loop() {
				if va.Compare(vb) >= 0 {
					b.Fatal("wrong order")
				}
			}
		})
	}
}
