// Package version parses and compares package version strings in the schemes
// that detection meets: Debian package versions (deb), RPM
// epoch:version-release strings (rpm), semantic versions (semver), dotted
// numeric versions such as Windows builds (dotted) and Homebrew formula and
// cask versions (homebrew).
//
// A Scheme parses strings into Versions. Parsing validates the input the way
// the scheme's own tools do and returns a *ParseError on anything they would
// reject, so an unparsable version is never silently compared. Parse once,
// then compare: Version.Compare does not allocate.
//
// Versions of different schemes are not comparable. Passing a Version of one
// scheme to Compare on a Version of another is a programming error and panics.
package version

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Scheme names, as accepted by Lookup and returned by Scheme.Name and
// Version.Scheme.
const (
	Deb    = "deb"
	RPM    = "rpm"
	Semver = "semver"
	Dotted = "dotted"
	// Homebrew is the scheme of Homebrew formula and cask versions.
	Homebrew = "homebrew"
)

// Version is a parsed version string.
type Version interface {
	// String returns the string the version was parsed from, unchanged.
	String() string
	// Scheme returns the name of the scheme that parsed the version.
	Scheme() string
	// Compare returns -1, 0 or +1 as the version sorts before, equal to or
	// after other. It panics if other was not parsed by the same scheme.
	Compare(other Version) int
}

// Scheme parses and compares the version strings of one versioning scheme.
// Schemes are immutable and safe for concurrent use.
type Scheme interface {
	// Name returns the scheme name, one of Deb, RPM, Semver, Dotted or
	// Homebrew.
	Name() string
	// Parse validates s and returns the parsed version, or a *ParseError.
	Parse(s string) (Version, error)
	// Compare parses a and b and returns a.Compare(b). If either fails to
	// parse, the error wraps its *ParseError, prefixed with "a: " or "b: "
	// to name the argument (both when both fail).
	Compare(a, b string) (int, error)
}

// ParseError reports a version string that its scheme rejects.
type ParseError struct {
	Scheme string // scheme name, e.g. RPM
	Input  string // the rejected string
	Reason string // what is wrong with it
	Offset int    // byte offset in Input of the problem, or -1 when not meaningful
	Err    error  // underlying library error, or ErrNotComparable; may be nil
}

// Error formats the error as `rpm version "1:x:y": epoch "1:x" is not a
// number (offset 0)`, leaving out the offset when it is -1.
func (e *ParseError) Error() string {
	msg := fmt.Sprintf("%s version %q: %s", e.Scheme, e.Input, e.Reason)
	if e.Offset >= 0 {
		msg += fmt.Sprintf(" (offset %d)", e.Offset)
	}
	return msg
}

// Unwrap returns the underlying error, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// ErrUnknownScheme is wrapped by the error Lookup returns for an unknown name.
var ErrUnknownScheme = errors.New("unknown version scheme")

// ErrNotComparable is wrapped by the *ParseError for a string that its
// scheme's tools accept as a version but do not order, such as Homebrew's
// "HEAD-<commit>" and "latest": not malformed, yet impossible to compare
// against a fixed version.
var ErrNotComparable = errors.New("version is not comparable")

// Lookup returns the scheme with the given name (Deb, RPM, Semver, Dotted or
// Homebrew, case-sensitive), with default options. An unknown name returns an
// error wrapping ErrUnknownScheme.
func Lookup(name string) (Scheme, error) {
	switch name {
	case Deb:
		return DebScheme(), nil
	case RPM:
		return RPMScheme(), nil
	case Semver:
		return SemverScheme(), nil
	case Dotted:
		return DottedScheme(), nil
	case Homebrew:
		return HomebrewScheme(), nil
	}
	return nil, fmt.Errorf("version: %w %q", ErrUnknownScheme, name)
}

// compareStrings implements Scheme.Compare for every scheme.
func compareStrings(s Scheme, a, b string) (int, error) {
	va, errA := s.Parse(a)
	vb, errB := s.Parse(b)
	switch {
	case errA != nil && errB != nil:
		return 0, errors.Join(fmt.Errorf("a: %w", errA), fmt.Errorf("b: %w", errB))
	case errA != nil:
		return 0, fmt.Errorf("a: %w", errA)
	case errB != nil:
		return 0, fmt.Errorf("b: %w", errB)
	}
	return va.Compare(vb), nil
}

// sameScheme returns other as a T, the concrete type of v, or panics: versions
// of different schemes have no meaningful order.
func sameScheme[T Version](v Version, other Version) T {
	o, ok := other.(T)
	if !ok {
		panic(fmt.Sprintf("version: cannot compare %s version %q with %T %v: versions of different schemes are not comparable",
			v.Scheme(), v.String(), other, other))
	}
	return o
}

// compareDigits compares two strings of ASCII digits numerically, however
// long they are. Empty strings count as zero.
func compareDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// badChar returns the offset of the first byte of s that is neither an ASCII
// letter or digit nor in extra, and the character starting there; -1 if none.
func badChar(s, extra string) (int, rune) {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && strings.IndexByte(extra, s[i]) < 0 {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return i, r
		}
	}
	return -1, 0
}

// epochLimit caps epochs at dpkg's INT_MAX; rpm allows uint32 but nothing in
// the wild comes near either.
const epochLimit = 1<<31 - 1

// parseEpoch parses an epoch: ASCII digits, at most epochLimit. On failure it
// returns a reason for a ParseError.
func parseEpoch(s string) (int, string) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, fmt.Sprintf("epoch %q is not a number", s)
		}
		if n = n*10 + int(s[i]-'0'); n > epochLimit {
			return 0, fmt.Sprintf("epoch %q is too large", s)
		}
	}
	if s == "" {
		return 0, "epoch is empty"
	}
	return n, ""
}
