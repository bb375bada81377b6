package version

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DottedScheme returns the dotted numeric scheme: Windows builds such as
// "10.0.22631.3085" and application versions such as "24.9.1". A version is
// one or more parts of ASCII digits, each at most 2^64-1, separated by single
// dots. Parts compare numerically, so leading zeros do not matter ("24.09" ==
// "24.9", hence "24.09" < "24.9.1" and "24.09" < "24.10"), and missing trailing
// parts count as 0 ("1.2" == "1.2.0"). Parse rejects anything else, giving the
// offset of the offending character, and returns a *DottedVersion.
func DottedScheme() Scheme { return dottedScheme{} }

type dottedScheme struct{}

func (dottedScheme) Name() string { return Dotted }

func (s dottedScheme) Compare(a, b string) (int, error) { return compareStrings(s, a, b) }

func (dottedScheme) Parse(s string) (Version, error) {
	fail := func(offset int, format string, args ...any) (Version, error) {
		return nil, &ParseError{Scheme: Dotted, Input: s, Reason: fmt.Sprintf(format, args...), Offset: offset}
	}
	if s == "" {
		return fail(-1, "version is empty")
	}
	v := &DottedVersion{s: s, parts: make([]uint64, 0, strings.Count(s, ".")+1)}
	start := 0 // offset of the current part
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isDigit(s[i]) {
			continue
		}
		if i < len(s) && s[i] != '.' {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fail(i, "invalid character %q", r)
		}
		if i == start {
			return fail(min(i, len(s)-1), "empty part")
		}
		n, err := strconv.ParseUint(s[start:i], 10, 64)
		if err != nil {
			return fail(start, "part %q is too large", s[start:i])
		}
		v.parts = append(v.parts, n)
		start = i + 1
	}
	return v, nil
}

// DottedVersion is a parsed dotted numeric version.
type DottedVersion struct {
	s     string
	parts []uint64
}

// String returns the string the version was parsed from.
func (v *DottedVersion) String() string { return v.s }

// Scheme returns Dotted.
func (v *DottedVersion) Scheme() string { return Dotted }

// Parts returns a copy of the numeric parts: [10 0 22631 3085] for
// "10.0.22631.3085".
func (v *DottedVersion) Parts() []uint64 { return slices.Clone(v.parts) }

// Compare orders v and other part by part, numerically, missing parts
// counting as 0. It panics if other is not a *DottedVersion.
func (v *DottedVersion) Compare(other Version) int {
	o := sameScheme[*DottedVersion](v, other)
	for i := range max(len(v.parts), len(o.parts)) {
		var a, b uint64
		if i < len(v.parts) {
			a = v.parts[i]
		}
		if i < len(o.parts) {
			b = o.parts[i]
		}
		if c := cmp.Compare(a, b); c != 0 {
			return c
		}
	}
	return 0
}
