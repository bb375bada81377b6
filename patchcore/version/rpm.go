package version

import (
	"cmp"
	"fmt"
	"strings"
)

// MissingEpoch says how RPM comparisons treat a version written without an
// epoch.
type MissingEpoch int

const (
	// EpochZero treats a missing epoch as 0, rpm's own rule. The default.
	EpochZero MissingEpoch = iota
	// EpochIgnore compares without epochs whenever either side lacks an
	// explicit one. Use it for feeds that omit epochs they should carry (Red
	// Hat's source-RPM versions, NVD- or ALAS-derived data; see
	// anchore/grype#438 and anchore/syft#408): there "1.0-1" means "whatever
	// epoch the package has", and against "2:1.0-1" it is equal rather than
	// older. The resulting order is not transitive ("1:1.0" == "1.0" ==
	// "2:1.0" but "1:1.0" < "2:1.0"), so use it to compare installed against
	// fixed versions, not to sort.
	EpochIgnore
)

// RPMOption configures RPMScheme.
type RPMOption func(*rpmScheme)

// WithMissingEpoch sets the missing-epoch policy; the default is EpochZero.
func WithMissingEpoch(p MissingEpoch) RPMOption {
	return func(s *rpmScheme) { s.missing = p }
}

// RPMScheme returns the RPM [epoch:]version[-release] scheme, compared as
// rpmvercmp does (tilde sorts before anything, caret after the base version
// but before any further segment). Its Parse returns a *RPMVersion.
//
// Parse rejects what rpm rejects in spec files: an epoch that is not an
// unsigned number (or is empty, or above 2147483647), an empty version or
// release, a version or release with characters other than A-Za-z0-9 and
// "._+~^" (so '-', ':' and whitespace), or containing "..". The epoch ends at
// the last ':' and the release starts after the last '-'.
//
// Without a release, a version sorts before the same version with any
// release ("1.0" < "1.0-1"), as in go-rpm-version; rpm's dependency matching
// instead treats a missing release as a wildcard, which is not an order.
func RPMScheme(opts ...RPMOption) Scheme {
	s := rpmScheme{}
	for _, opt := range opts {
		opt(&s)
	}
	return s
}

type rpmScheme struct{ missing MissingEpoch }

func (rpmScheme) Name() string { return RPM }

func (s rpmScheme) Compare(a, b string) (int, error) { return compareStrings(s, a, b) }

func (s rpmScheme) Parse(str string) (Version, error) {
	fail := func(offset int, format string, args ...any) (Version, error) {
		return nil, &ParseError{Scheme: RPM, Input: str, Reason: fmt.Sprintf(format, args...), Offset: offset}
	}
	if str == "" {
		return fail(-1, "version is empty")
	}
	v := &RPMVersion{s: str, version: str, ignoreMissingEpoch: s.missing == EpochIgnore}
	start := 0 // offset of the version
	if colon := strings.LastIndexByte(str, ':'); colon >= 0 {
		epoch, reason := parseEpoch(str[:colon])
		if reason != "" {
			return fail(0, "%s", reason)
		}
		v.epoch, v.hasEpoch, v.version, start = epoch, true, str[colon+1:], colon+1
	}
	if hyphen := strings.LastIndexByte(v.version, '-'); hyphen >= 0 {
		v.version, v.release = v.version[:hyphen], v.version[hyphen+1:]
		if v.release == "" {
			return fail(len(str)-1, "release is empty")
		}
	}
	if v.version == "" {
		return fail(start, "version is empty")
	}
	for _, f := range [...]struct {
		name, s string
		start   int
	}{{"version", v.version, start}, {"release", v.release, start + len(v.version) + 1}} {
		if i, r := badChar(f.s, "._+~^"); i >= 0 {
			return fail(f.start+i, "invalid character %q in %s %q", r, f.name, f.s)
		}
		if i := strings.Index(f.s, ".."); i >= 0 {
			return fail(f.start+i, "%s %q contains \"..\"", f.name, f.s)
		}
	}
	return v, nil
}

// RPMVersion is a parsed RPM version.
type RPMVersion struct {
	s                  string
	epoch              int
	hasEpoch           bool
	version, release   string
	ignoreMissingEpoch bool
}

// String returns the string the version was parsed from.
func (v *RPMVersion) String() string { return v.s }

// Scheme returns RPM.
func (v *RPMVersion) Scheme() string { return RPM }

// Epoch returns the epoch (0 when absent) and whether it was written out.
func (v *RPMVersion) Epoch() (epoch int, explicit bool) { return v.epoch, v.hasEpoch }

// Version returns the version: "9.0.117" in "1:9.0.117-2.el9_8".
func (v *RPMVersion) Version() string { return v.version }

// Release returns the release, "" when absent: "2.el9_8" in
// "1:9.0.117-2.el9_8".
func (v *RPMVersion) Release() string { return v.release }

// Compare orders v and other by epoch, version, then release, each with
// rpmvercmp. Epochs are skipped when either side lacks one and either was
// parsed with EpochIgnore. It panics if other is not a *RPMVersion.
func (v *RPMVersion) Compare(other Version) int {
	o := sameScheme[*RPMVersion](v, other)
	ignore := (v.ignoreMissingEpoch || o.ignoreMissingEpoch) && !(v.hasEpoch && o.hasEpoch)
	if c := cmp.Compare(v.epoch, o.epoch); c != 0 && !ignore {
		return c
	}
	if c := rpmvercmp(v.version, o.version); c != 0 {
		return c
	}
	return rpmvercmp(v.release, o.release)
}

// rpmvercmp is a port of rpm's rpmvercmp (rpmio/rpmvercmp.cc): skip
// separators, then compare '~' (before anything, even the end), '^' (after
// the end, before anything else), or the next run of digits (numerically) or
// letters (bytewise), where digits beat letters; the side with segments left
// over wins.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		tildeA, tildeB := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if tildeA || tildeB {
			if !tildeA {
				return 1
			}
			if !tildeB {
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		caretA, caretB := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if caretA || caretB {
			switch {
			case i == len(a):
				return -1
			case j == len(b):
				return 1
			case !caretA:
				return 1
			case !caretB:
				return -1
			}
			i, j = i+1, j+1
			continue
		}
		if i == len(a) || j == len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if sj == j { // b's segment is of the other kind
			if isNum {
				return 1
			}
			return -1
		}
		var c int
		if isNum {
			c = compareDigits(a[si:i], b[sj:j])
		} else {
			c = strings.Compare(a[si:i], b[sj:j])
		}
		if c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i < len(a):
		return 1
	}
	return -1
}
