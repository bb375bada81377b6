package version

import (
	"cmp"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// SemverScheme returns the semantic versioning scheme. Parsing is
// Masterminds semver's lenient NewVersion: an optional "v" prefix, "1" and
// "1.2" as 1.0.0 and 1.2.0, leading zeros in the numbers tolerated, at most
// 256 bytes; Masterminds' package-level CoerceNewVersion setting applies. Its
// errors are wrapped in the *ParseError (Offset -1). Its Parse returns a
// *SemverVersion.
func SemverScheme() Scheme { return semverScheme{} }

type semverScheme struct{}

func (semverScheme) Name() string { return Semver }

func (s semverScheme) Compare(a, b string) (int, error) { return compareStrings(s, a, b) }

func (semverScheme) Parse(s string) (Version, error) {
	if s == "" {
		return nil, &ParseError{Scheme: Semver, Input: s, Reason: "version is empty", Offset: -1, Err: semver.ErrEmptyString}
	}
	sv, err := semver.NewVersion(s)
	if err != nil {
		return nil, &ParseError{Scheme: Semver, Input: s, Reason: err.Error(), Offset: -1, Err: err}
	}
	v := &SemverVersion{s: s, major: sv.Major(), minor: sv.Minor(), patch: sv.Patch()}
	if pre := sv.Prerelease(); pre != "" {
		v.pre = strings.Split(pre, ".")
	}
	return v, nil
}

// SemverVersion is a parsed semantic version.
type SemverVersion struct {
	s                   string
	major, minor, patch uint64
	pre                 []string // prerelease identifiers
}

// String returns the string the version was parsed from.
func (v *SemverVersion) String() string { return v.s }

// Scheme returns Semver.
func (v *SemverVersion) Scheme() string { return Semver }

// Compare orders v and other by semver precedence: major, minor, patch, then
// a prerelease sorts before the release, prerelease identifiers compare
// numerically when all digits and in ASCII order otherwise, numeric before
// alphanumeric, fewer before more. Build metadata is ignored. It panics if
// other is not a *SemverVersion.
//
// This is Masterminds' Compare without its per-call strings.Split: the
// identifiers are split once by Parse.
func (v *SemverVersion) Compare(other Version) int {
	o := sameScheme[*SemverVersion](v, other)
	if c := cmp.Or(cmp.Compare(v.major, o.major), cmp.Compare(v.minor, o.minor), cmp.Compare(v.patch, o.patch)); c != 0 {
		return c
	}
	if len(v.pre) == 0 || len(o.pre) == 0 {
		return cmp.Compare(len(o.pre), len(v.pre)) // no prerelease sorts last
	}
	for i := range min(len(v.pre), len(o.pre)) {
		a, b := v.pre[i], o.pre[i]
		numA, numB := numeric(a), numeric(b)
		var c int
		switch {
		case numA && numB:
			c = compareDigits(a, b)
		case numA: // numeric identifiers sort before alphanumeric ones
			c = -1
		case numB:
			c = 1
		default:
			c = strings.Compare(a, b)
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(v.pre), len(o.pre))
}

// numeric reports whether a (non-empty) prerelease identifier is all digits.
func numeric(id string) bool {
	for i := 0; i < len(id); i++ {
		if !isDigit(id[i]) {
			return false
		}
	}
	return true
}
