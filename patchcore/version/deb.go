package version

import (
	"cmp"
	"fmt"
	"strings"
)

// DebScheme returns the Debian package version scheme,
// [epoch:]upstream_version[-debian_revision], compared as dpkg does.
// Its Parse returns a *DebVersion.
//
// Parse enforces what dpkg reports as errors (empty string, bad or empty
// epoch, nothing after the colon, empty version or revision, whitespace) and
// also what Debian policy requires and dpkg only warns about: the upstream
// version starts with a digit and contains only A-Za-z0-9 and ".+~-:", the
// revision only A-Za-z0-9 and ".+~". Unlike dpkg, surrounding whitespace is
// not trimmed. Epochs are at most 2147483647, as in dpkg.
func DebScheme() Scheme { return debScheme{} }

type debScheme struct{}

func (debScheme) Name() string { return Deb }

func (s debScheme) Compare(a, b string) (int, error) { return compareStrings(s, a, b) }

func (debScheme) Parse(s string) (Version, error) {
	fail := func(offset int, format string, args ...any) (Version, error) {
		return nil, &ParseError{Scheme: Deb, Input: s, Reason: fmt.Sprintf(format, args...), Offset: offset}
	}
	if s == "" {
		return fail(-1, "version is empty")
	}
	v := &DebVersion{s: s, upstream: s}
	start := 0 // offset of the upstream version
	if colon := strings.IndexByte(s, ':'); colon >= 0 {
		epoch, reason := parseEpoch(s[:colon])
		if reason != "" {
			return fail(0, "%s", reason)
		}
		if colon == len(s)-1 {
			return fail(colon, "nothing after the epoch colon")
		}
		v.epoch, v.hasEpoch, v.upstream, start = epoch, true, s[colon+1:], colon+1
	}
	if hyphen := strings.LastIndexByte(v.upstream, '-'); hyphen >= 0 {
		v.upstream, v.revision = v.upstream[:hyphen], v.upstream[hyphen+1:]
		if v.revision == "" {
			return fail(len(s)-1, "revision is empty")
		}
	}
	if v.upstream == "" {
		return fail(start, "upstream version is empty")
	}
	if !isDigit(v.upstream[0]) {
		return fail(start, "upstream version %q does not start with a digit", v.upstream)
	}
	if i, r := badChar(v.upstream, ".+~-:"); i >= 0 {
		return fail(start+i, "invalid character %q in upstream version", r)
	}
	if i, r := badChar(v.revision, ".+~"); i >= 0 {
		return fail(start+len(v.upstream)+1+i, "invalid character %q in revision", r)
	}
	return v, nil
}

// DebVersion is a parsed Debian package version.
type DebVersion struct {
	s                  string
	epoch              int
	hasEpoch           bool
	upstream, revision string
}

// String returns the string the version was parsed from.
func (v *DebVersion) String() string { return v.s }

// Scheme returns Deb.
func (v *DebVersion) Scheme() string { return Deb }

// Epoch returns the epoch (0 when absent) and whether it was written out.
func (v *DebVersion) Epoch() (epoch int, explicit bool) { return v.epoch, v.hasEpoch }

// Upstream returns the upstream version: "2.7.15" in "1:2.7.15-4ubuntu4".
func (v *DebVersion) Upstream() string { return v.upstream }

// Revision returns the Debian revision, "" when absent: "4ubuntu4" in
// "1:2.7.15-4ubuntu4".
func (v *DebVersion) Revision() string { return v.revision }

// Compare orders v and other as dpkg --compare-versions does: epoch, then
// upstream version, then revision. A missing epoch is 0 and a missing
// revision equals "0". It panics if other is not a *DebVersion.
func (v *DebVersion) Compare(other Version) int {
	o := sameScheme[*DebVersion](v, other)
	if c := cmp.Compare(v.epoch, o.epoch); c != 0 {
		return c
	}
	if c := debCompare(v.upstream, o.upstream); c != 0 {
		return c
	}
	return debCompare(v.revision, o.revision)
}

// debCompare is dpkg's verrevcmp: alternate runs of non-digits, compared
// character by character with debOrder, and runs of digits, compared
// numerically.
func debCompare(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			if c := cmp.Compare(debOrder(a, i), debOrder(b, j)); c != 0 {
				return c
			}
			i, j = i+1, j+1
		}
		si, sj := i, j
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if c := compareDigits(a[si:i], b[sj:j]); c != 0 {
			return c
		}
	}
	return 0
}

// debOrder ranks the character at s[i]: '~' before the end of the string
// (and a digit), before letters, before everything else.
func debOrder(s string, i int) int {
	switch {
	case i >= len(s) || isDigit(s[i]):
		return 0
	case s[i] == '~':
		return -1
	case isAlpha(s[i]):
		return int(s[i])
	}
	return int(s[i]) + 256
}
