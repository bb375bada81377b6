package version

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

var (
	deb         = DebScheme()
	rpm         = RPMScheme()
	rpmIgnore   = RPMScheme(WithMissingEpoch(EpochIgnore))
	semverS     = SemverScheme()
	dotted      = DottedScheme()
	brew        = HomebrewScheme()
	comparisons = []struct {
		scheme Scheme
		a, b   string
		want   int // sign of a.Compare(b); b.Compare(a) must be its negation
	}{
		// rpm: epochs. fleetdm/fleet#49485: a string or epoch-less compare gets this wrong.
		{rpm, "1:9.0.117-2.el9_8", "1:9.0.62-11.el9_2.3", 1},
		{rpm, "1:2.4.62-13.el9_8.1", "1:2.4.57-11.el9_4", 1},
		{rpm, "1.5.4-2.el7", "0:1.5.4-2.el7_9", -1}, // anchore/syft#408
		{rpmIgnore, "1.5.4-2.el7", "0:1.5.4-2.el7_9", -1},
		{rpm, "2:1.0-1", "1.0-1", 1},
		{rpmIgnore, "2:1.0-1", "1.0-1", 0},
		{rpmIgnore, "2:1.0-1", "1:1.0-1", 1}, // both explicit: epochs count
		{rpmIgnore, "2:1.0-1", "1.1-1", -1},
		{rpm, "0:1.0-1", "1.0-1", 0},
		{rpm, "1:0.1-1", "9.9-9", 1},
		// rpm: releases. future-architect/vuls PR#1115.
		{rpm, "2-el8", "2-el8_3", -1},
		{rpm, "2-el8_3.1", "2-el8_3", 1},
		{rpm, "4.18.0-305.el8", "4.18.0-305.3.1.el8", -1},
		{rpm, "1.0", "1.0-1", -1},
		// rpm: tilde and caret.
		{rpm, "1.0~rc1-1", "1.0-1", -1},
		{rpm, "1.0^git1-1", "1.0-1", 1},
		{rpm, "1.0^git1-1", "1.0.1-1", -1},
		{rpm, "1.0~rc1-1", "1.0~rc2-1", -1},
		{rpm, "1.0~rc1^git1-1", "1.0~rc1-1", 1},
		{rpm, "1.0^-1", "1.0-1", 1},
		{rpm, "1.0~-1", "1.0-1", -1},
		// rpm: segments.
		{rpm, "1.0a-1", "1.0-1", 1},
		{rpm, "1.0a-1", "1.0.1-1", -1}, // digits beat letters
		{rpm, "1.010-1", "1.9-1", 1},
		{rpm, "1.01-1", "1.1-1", 0},
		{rpm, "1_0-1", "1.0-1", 0}, // separators do not matter
		{rpm, "1.0.-1", "1.0-1", 0},
		{rpm, "99999999999999999999.1-1", "99999999999999999999.0-1", 1},
		{rpm, "5.3p1-112", "5.3p1-105", 1},
		{rpm, "3.6.1p2-21.sel", "3.6.1p2-21", 1},

		// deb.
		{deb, "2.7.15-4ubuntu4~18.04", "2.7.15~rc1-1ubuntu0.1", 1},
		{deb, "1.0~rc1", "1.0", -1},
		{deb, "1.0~rc1", "1.0~rc1~1", 1},
		{deb, "1:0.1", "2.0", 1},
		{deb, "0:2.0", "2.0", 0},
		{deb, "6.0-28", "6.0-28+deb12u1", -1},
		{deb, "10.42-1", "10.42-1+deb12u2", -1},
		{deb, "1.2.11.dfsg-2ubuntu9.2", "1.2.11.dfsg-2ubuntu9", 1},
		{deb, "1.0", "1.0-0", 0},
		{deb, "1.0a", "1.0+", -1}, // letters before other characters
		{deb, "1.0", "1.0a", -1},
		{deb, "1.01", "1.1", 0},
		{deb, "1.0-1-1", "1.0-1", 1}, // hyphen in upstream: "1.0-1" > "1.0"
		{deb, "1:2.0:1-1", "1:2.0-1", 1},
		{deb, "1.99999999999999999999999", "1.99999999999999999999998", 1},

		// dotted: Windows builds, application versions.
		{dotted, "10.0.22631.3007", "10.0.22631.3085", -1},
		{dotted, "10.0.19045.3930", "10.0.22631.1", -1},
		{dotted, "10.0.22631.3085", "10.0.22631.3085", 0},
		{dotted, "24.09", "24.9", 0},
		{dotted, "24.09", "24.9.1", -1},
		{dotted, "24.9", "24.10", -1},
		{dotted, "1.2", "1.2.0", 0},
		{dotted, "1.2", "1.2.0.0.1", -1},
		{dotted, "1", "0.9", 1},
		{dotted, "1.2.3.4.5", "1.2.3.4.6", -1},
		{dotted, "18446744073709551615", "18446744073709551614", 1},

		// semver.
		{semverS, "1.2.3", "v1.2.3", 0},
		{semverS, "1.2", "1.2.0", 0},
		{semverS, "1.2.3+build.1", "1.2.3+build.2", 0},
		{semverS, "1.0.0-alpha", "1.0.0", -1},
		{semverS, "1.0.0-alpha", "1.0.0-alpha.1", -1},
		{semverS, "1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{semverS, "1.0.0-beta.2", "1.0.0-beta.11", -1},
		{semverS, "1.0.0-rc.1", "1.0.0-beta.11", 1},
		{semverS, "1.0.0-1", "1.0.0-a", -1},
		{semverS, "1.10.0", "1.9.9", 1},
		{semverS, "2.0.0", "1.99.99", 1},

		// homebrew: from Homebrew/brew Library/Homebrew/test/version_spec.rb.
		{brew, "0.1", "0.1.0", 0},
		{brew, "0.1", "0.2", -1},
		{brew, "1.2.3", "1.2.2", 1},
		{brew, "1.2.4", "1.2.4.1", -1},
		{brew, "1.2.3", "1.2.3alpha4", 1},
		{brew, "1.2.3", "1.2.3beta2", 1},
		{brew, "1.2.3", "1.2.3rc3", 1},
		{brew, "1.2.3", "1.2.3-p34", -1},
		{brew, "1.2.3alpha", "1.2.3", -1},
		{brew, "1.2.3", "1.2.3a", -1}, // "a" without digits is a plain string
		{brew, "1.2.3alpha4", "1.2.3a4", 0},
		{brew, "1.2.3alpha4", "1.2.3A4", 0},
		{brew, "1.2.3alpha4", "1.2.3alpha3", 1},
		{brew, "1.2.3alpha4", "1.2.3alpha10", -1},
		{brew, "1.2.3alpha4", "1.2.3beta2", -1},
		{brew, "1.2.3alpha4", "1.2.3rc3", -1},
		{brew, "1.2.3alpha4", "1.2.3-p34", -1},
		{brew, "1.2.3beta2", "1.2.3b2", 0},
		{brew, "1.2.3beta2", "1.2.3B2", 0},
		{brew, "1.2.3beta2", "1.2.3beta10", -1},
		{brew, "1.2.3beta2", "1.2.3rc3", -1},
		{brew, "1.2.3beta2", "1.2.3-p34", -1},
		{brew, "1.2.3pre9", "1.2.3PRE9", 0},
		{brew, "1.2.3pre9", "1.2.3pre10", -1},
		{brew, "1.2.3pre3", "1.2.3alpha4", 1},
		{brew, "1.2.3pre3", "1.2.3beta5", 1},
		{brew, "1.2.3pre3", "1.2.3rc2", -1},
		{brew, "1.2.3pre3", "1.2.3", -1},
		{brew, "1.2.3pre3", "1.2.3-p2", -1},
		{brew, "1.2.3rc3", "1.2.3RC3", 0},
		{brew, "1.2.3rc3", "1.2.3rc10", -1},
		{brew, "1.2.3rc3", "1.2.3-p34", -1},
		{brew, "1.2.3-p34", "1.2.3-P34", 0},
		{brew, "1.2.3-p34", "1.2.3-p9", 1},
		{brew, "1.2.3.post34", "1.2.3.post35", -1},
		{brew, "1.2.3.post34", "1.2.3rc35", 1},
		{brew, "1.2.3.post34", "1.2.3alpha35", 1},
		{brew, "1.2.3.post34", "1.2.3", 1},
		{brew, "2.1.0-p194", "2.1-p195", -1},
		{brew, "2.1-p194", "2.1.0-p195", -1},
		{brew, "2-p194", "2.1-p195", -1},
		{brew, "R15B03-1", "R15B03", 1},
		{brew, "R16B", "R15B03-1", 1},
		{brew, "R14B", "R14B01", -1},
		// homebrew: formula revisions (pkg_version.rb), after the version.
		{brew, "3.2.0_1", "3.2.0", 1},
		{brew, "3.2.0_1", "3.2.0_2", -1},
		{brew, "3.2.0_10", "3.2.0_9", 1},
		{brew, "3.2.0_1", "3.2.1", -1},
		{brew, "3.2.0_0", "3.2.0", 0},
		{brew, "1.2_3_4", "1.2_3", 1}, // version "1.2_3" revision 4 against version "1.2" revision 3
		// homebrew: versions found in homebrew/core and homebrew/cask.
		{brew, "1.1.1w", "1.1.1v", 1},
		{brew, "1.1.1w", "1.1.1", 1},
		{brew, "1.1.1w", "3.0.0", -1},
		{brew, "1.1.1w", "1.1.1.1", -1}, // a number beats letters
		{brew, "9.0p1", "9.0", 1},
		{brew, "9.0p1", "9.1", -1},
		{brew, "9.3p2", "9.3p10", -1},
		{brew, "9.6p1_1", "9.6p1", 1},
		{brew, "2023-12-12", "2023-11-30", 1},
		{brew, "2023-12-12", "2023-12-9", 1},
		{brew, "2023-12-12", "2024-01-01", -1},
		{brew, "1.2.3-beta2", "1.2.3", -1},
		{brew, "1.2.3-beta2", "1.2.3beta2", 0},
		{brew, "1.2.3-beta2", "1.2.3-alpha5", 1},
		{brew, "1.2.3-beta2", "1.2.3-rc1", -1},
		{brew, "r12", "r9", 1},
		{brew, "r12", "r100", -1},
		{brew, "22.1.0.beta1", "22.1.0", -1},
		{brew, "22.1.0.beta1", "22.0.9", 1},
		{brew, "22.1.0.beta1", "22.1.0.beta2", -1},
		{brew, "22.1.0.beta1", "22.1.0.rc1", -1},
		{brew, "120.0.6099.234", "121.0.6167.85", -1},
		{brew, "4.27.0,2410180", "4.28.0,2411010", -1},
		{brew, "4.27.0,2410180", "4.27.0,2410181", -1},
		{brew, "1.99999999999999999999999", "1.99999999999999999999998", 1},
		// homebrew: Homebrew says 0 one way and -1 the other; Compare is antisymmetric.
		{brew, "1.0", "1.alpha1", 1},
		{brew, "1.0", "1.p1", -1},
	}
)

func TestCompare(t *testing.T) {
	for _, tc := range comparisons {
		got, err := tc.scheme.Compare(tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want %d", tc.scheme.Name(), tc.a, tc.b, got, err, tc.want)
		}
		if got, err := tc.scheme.Compare(tc.b, tc.a); err != nil || got != -tc.want {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want %d", tc.scheme.Name(), tc.b, tc.a, got, err, -tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		scheme Scheme
		input  string
		reason string // substring of ParseError.Reason
		offset int
	}{
		{deb, "", "empty", -1},
		{deb, "1:", "nothing after the epoch colon", 1},
		{deb, "a:1.0", `epoch "a" is not a number`, 0},
		{deb, ":1.0", "epoch is empty", 0},
		{deb, "-1:1.0", `epoch "-1" is not a number`, 0},
		{deb, "99999999999:1.0", "too large", 0},
		{deb, "1.0-", "revision is empty", 3},
		{deb, "-1", "upstream version is empty", 0},
		{deb, "1:-1", "upstream version is empty", 2},
		{deb, "v1.0", "does not start with a digit", 0},
		{deb, "1.0:1", `epoch "1.0" is not a number`, 0},
		{deb, "1.0_1", "invalid character '_' in upstream version", 3},
		{deb, "1.0 ", "invalid character ' '", 3},
		{deb, " 1.0", "does not start with a digit", 0},
		{deb, "1:1.0-1ubuntu1:1", "invalid character ':' in revision", 14},
		{deb, "1.0-1é", "invalid character 'é' in revision", 5},
		{rpm, "", "empty", -1},
		{rpm, "1:", "version is empty", 2},
		{rpm, "x:1.0-1", `epoch "x" is not a number`, 0},
		{rpm, "1:x:y", `epoch "1:x" is not a number`, 0},
		{rpm, ":1.0-1", "epoch is empty", 0},
		{rpm, "1.0-1-", "release is empty", 5},
		{rpm, "1.0-1-2", `invalid character '-' in version "1.0-1"`, 3},
		{rpm, "-1", "version is empty", 0},
		{rpm, "1.0-", "release is empty", 3},
		{rpm, "1.0 -1", "invalid character ' '", 3},
		{rpm, "1.0-1.el8 ", "invalid character ' ' in release", 9},
		{rpm, "1..0-1", `contains ".."`, 1},
		{rpm, "1.0-1..el8", `release "1..el8" contains ".."`, 5},
		{rpm, "1.0-%{dist}", "invalid character '%'", 4},
		{semverS, "", "empty", -1},
		{semverS, "1.2.3.4", "invalid semantic version", -1},
		{semverS, "x1.2.3", "invalid semantic version", -1},
		{semverS, "1.2.3-", "invalid semantic version", -1},
		{semverS, "1.2.3-01", "segment starts with 0", -1},
		{semverS, " 1.2.3", "invalid semantic version", -1},
		{dotted, "", "empty", -1},
		{dotted, ".1", "empty part", 0},
		{dotted, "1.", "empty part", 1},
		{dotted, "1..2", "empty part", 2},
		{dotted, ".", "empty part", 0},
		{dotted, "1.2a", "invalid character 'a'", 3},
		{dotted, "v1.2", "invalid character 'v'", 0},
		{dotted, "1.-2", "invalid character '-'", 2},
		{dotted, "1.2 ", "invalid character ' '", 3},
		{dotted, "10.0.22631.3085-1", "invalid character '-'", 15},
		{dotted, "1.18446744073709551616", `part "18446744073709551616" is too large`, 2},
		{brew, "", "empty", -1},
		{brew, "latest", "updates itself", 0},
		{brew, "HEAD", "HEAD version", 0},
		{brew, "HEAD-abcdef1", "HEAD version", 0},
		{brew, "HEAD-abcdef1_1", "HEAD version", 0},
		{brew, "1.0 ", "invalid character ' '", 3},
		{brew, "1.0\n", `invalid character '\n'`, 3},
		{brew, "1.0-é", "invalid character 'é'", 4},
		{brew, "...", "no digits or letters", 0},
		{brew, "-_1", "no digits or letters", 0},
	} {
		v, err := tc.scheme.Parse(tc.input)
		var pe *ParseError
		if v != nil || !errors.As(err, &pe) {
			t.Errorf("%s: Parse(%q) = %v, %v; want *ParseError", tc.scheme.Name(), tc.input, v, err)
			continue
		}
		if pe.Scheme != tc.scheme.Name() || pe.Input != tc.input || !strings.Contains(pe.Reason, tc.reason) || pe.Offset != tc.offset {
			t.Errorf("%s: Parse(%q) = %q (offset %d); want reason containing %q, offset %d",
				tc.scheme.Name(), tc.input, err, pe.Offset, tc.reason, tc.offset)
		}
		if wantNC := strings.HasPrefix(tc.input, "HEAD") || tc.input == "latest"; errors.Is(err, ErrNotComparable) != wantNC {
			t.Errorf("%s: Parse(%q): errors.Is(%v, ErrNotComparable) = %v, want %v", tc.scheme.Name(), tc.input, err, !wantNC, wantNC)
		}
		if !strings.Contains(err.Error(), tc.scheme.Name()+" version ") || !strings.Contains(err.Error(), strconv.Quote(tc.input)) {
			t.Errorf("%s: Parse(%q): error %q names neither scheme nor input", tc.scheme.Name(), tc.input, err)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	_, err := rpm.Parse("1:x:y")
	if want := `rpm version "1:x:y": epoch "1:x" is not a number (offset 0)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = semverS.Parse("1.2.3.4")
	if want := `semver version "1.2.3.4": invalid semantic version`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	if !errors.Is(err, semver.ErrInvalidSemVer) {
		t.Errorf("semver error %v does not wrap semver.ErrInvalidSemVer", err)
	}
}

func TestSchemeCompareErrors(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"1.0-1", "1:", `b: rpm version "1:"`},
		{"x:1", "1.0-1", `a: rpm version "x:1"`},
		{"", "-", "a: rpm version \"\": version is empty\nb: rpm version \"-\""},
	} {
		_, err := rpm.Compare(tc.a, tc.b)
		var pe *ParseError
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &pe) {
			t.Errorf("Compare(%q, %q) error = %v; want prefix %q wrapping *ParseError", tc.a, tc.b, err, tc.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	v, err := rpm.Parse("1:9.0.117-2.el9_8")
	if err != nil {
		t.Fatal(err)
	}
	r := v.(*RPMVersion)
	if e, ok := r.Epoch(); e != 1 || !ok || r.Version() != "9.0.117" || r.Release() != "2.el9_8" || r.String() != "1:9.0.117-2.el9_8" || r.Scheme() != RPM {
		t.Errorf("rpm accessors: %d %v %q %q %q", e, ok, r.Version(), r.Release(), r.String())
	}
	v, _ = rpm.Parse("1.0")
	if e, ok := v.(*RPMVersion).Epoch(); e != 0 || ok || v.(*RPMVersion).Release() != "" {
		t.Errorf("rpm without epoch and release: %d %v %q", e, ok, v.(*RPMVersion).Release())
	}

	v, err = deb.Parse("1:2.7.15-4ubuntu4~18.04")
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*DebVersion)
	if e, ok := d.Epoch(); e != 1 || !ok || d.Upstream() != "2.7.15" || d.Revision() != "4ubuntu4~18.04" || d.Scheme() != Deb {
		t.Errorf("deb accessors: %d %v %q %q", e, ok, d.Upstream(), d.Revision())
	}
	v, _ = deb.Parse("1.0-1-2")
	if d := v.(*DebVersion); d.Upstream() != "1.0-1" || d.Revision() != "2" {
		t.Errorf("deb splits at the last hyphen: %q %q", d.Upstream(), d.Revision())
	}

	v, _ = dotted.Parse("10.0.22631.3085")
	parts := v.(*DottedVersion).Parts()
	if len(parts) != 4 || parts[2] != 22631 || parts[3] != 3085 {
		t.Errorf("dotted parts: %v", parts)
	}
	parts[0] = 99
	if v.(*DottedVersion).Parts()[0] != 10 {
		t.Error("Parts does not return a copy")
	}

	v, _ = brew.Parse("9.6p1_12")
	if h := v.(*HomebrewVersion); h.Version() != "9.6p1" || h.Revision() != "12" || h.Scheme() != Homebrew || h.String() != "9.6p1_12" {
		t.Errorf("homebrew accessors: %q %q %q", h.Version(), h.Revision(), h.String())
	}
	for _, s := range []string{"1.0_", "_1", "1.0_1a"} { // no revision
		if v, _ = brew.Parse(s); v.(*HomebrewVersion).Version() != s || v.(*HomebrewVersion).Revision() != "" {
			t.Errorf("homebrew %q: version %q revision %q", s, v.(*HomebrewVersion).Version(), v.(*HomebrewVersion).Revision())
		}
	}

	v, _ = semverS.Parse("v1.2.3-rc.1+b")
	if v.String() != "v1.2.3-rc.1+b" || v.Scheme() != Semver {
		t.Errorf("semver: %q %q", v.String(), v.Scheme())
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{Deb, RPM, Semver, Dotted, Homebrew} {
		s, err := Lookup(name)
		if err != nil || s.Name() != name {
			t.Errorf("Lookup(%q) = %v, %v", name, s, err)
		}
	}
	for _, name := range []string{"", "RPM", "apk"} {
		if s, err := Lookup(name); s != nil || !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("Lookup(%q) = %v, %v; want ErrUnknownScheme", name, s, err)
		}
	}
}

func TestMixedSchemesPanic(t *testing.T) {
	a, _ := rpm.Parse("1.0-1")
	b, _ := deb.Parse("1.0-1")
	for _, other := range []Version{b, nil} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, `cannot compare rpm version "1.0-1"`) {
					t.Errorf("Compare with %v: panic %q", other, msg)
				}
			}()
			a.Compare(other)
		}()
	}
}

func TestCompareDoesNotAllocate(t *testing.T) {
	for _, tc := range comparisons {
		a, _ := tc.scheme.Parse(tc.a)
		b, _ := tc.scheme.Parse(tc.b)
		if n := testing.AllocsPerRun(100, func() { a.Compare(b) }); n != 0 {
			t.Errorf("%s: %q.Compare(%q) allocates %v times", tc.scheme.Name(), tc.a, tc.b, n)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range comparisons {
		for _, s := range []string{tc.a, tc.b} {
			v, err := tc.scheme.Parse(s)
			if err != nil || v.String() != s || v.Scheme() != tc.scheme.Name() || v.Compare(v) != 0 {
				t.Errorf("%s: Parse(%q) = %v, %v", tc.scheme.Name(), s, v, err)
			}
		}
	}
}
