package version

import (
	"regexp"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
)

// fuzzScheme checks that Parse never panics, that parsed versions round-trip
// and compare antisymmetrically, and, where oracle is set and says it can
// judge, that Compare agrees in sign with the library oracle.
func fuzzScheme(f *testing.F, s Scheme, oracle func(a, b string) (int, bool)) {
	for _, tc := range comparisons {
		if tc.scheme.Name() == s.Name() {
			f.Add(tc.a, tc.b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := s.Parse(a)
		vb, errB := s.Parse(b)
		if errA != nil || errB != nil {
			return
		}
		if va.String() != a || va.Compare(va) != 0 {
			t.Fatalf("Parse(%q): String %q, self-compare %d", a, va.String(), va.Compare(va))
		}
		ab, ba := va.Compare(vb), vb.Compare(va)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if oracle == nil {
			return
		}
		if want, ok := oracle(a, b); ok && ab != want {
			t.Fatalf("Compare(%q, %q) = %d, library says %d", a, b, ab, want)
		}
	})
}

// longNumber matches digit runs the libraries cannot hold in a uint64.
var longNumber = regexp.MustCompile(`[0-9]{19}`)

func sign(n int) int { return min(max(n, -1), 1) }

func FuzzDebParse(f *testing.F) {
	fuzzScheme(f, deb, func(a, b string) (int, bool) {
		// go-deb-version clamps long numbers (strconv.Atoi) and returns
		// differences, not signs.
		va, errA := debversion.NewVersion(a)
		vb, errB := debversion.NewVersion(b)
		if errA != nil || errB != nil || longNumber.MatchString(a+"."+b) {
			return 0, false
		}
		return sign(va.Compare(vb)), true
	})
}

func FuzzRPMParse(f *testing.F) {
	fuzzScheme(f, rpm, func(a, b string) (int, bool) {
		return rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b)), true
	})
}

func FuzzRPMIgnoreParse(f *testing.F) {
	fuzzScheme(f, rpmIgnore, nil)
}

func FuzzSemverParse(f *testing.F) {
	fuzzScheme(f, semverS, func(a, b string) (int, bool) {
		// Masterminds treats numeric prerelease identifiers beyond uint64 as
		// alphanumeric.
		if longNumber.MatchString(a + "." + b) {
			return 0, false
		}
		return semver.MustParse(a).Compare(semver.MustParse(b)), true
	})
}

func FuzzDottedParse(f *testing.F) {
	fuzzScheme(f, dotted, func(a, b string) (int, bool) {
		// Zero-padding every part to 20 digits makes string order numeric order.
		pad := func(s string) []string {
			parts := strings.Split(s, ".")
			for i, p := range parts {
				p = strings.TrimLeft(p, "0")
				parts[i] = strings.Repeat("0", 20-len(p)) + p
			}
			return parts
		}
		pa, pb := pad(a), pad(b)
		for len(pa) < len(pb) {
			pa = append(pa, strings.Repeat("0", 20))
		}
		for len(pb) < len(pa) {
			pb = append(pb, strings.Repeat("0", 20))
		}
		return strings.Compare(strings.Join(pa, "."), strings.Join(pb, ".")), true
	})
}

func FuzzHomebrewParse(f *testing.F) {
	// The reference is the transcription of Homebrew's Ruby in
	// homebrew_test.go; it judges the pairs Homebrew orders consistently.
	fuzzScheme(f, brew, homebrewOracle)
}
