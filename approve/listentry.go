package approve

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/patchcore/sdk/patchcore"
)

// EntryKind says what a list entry names.
type EntryKind string

// List entry kinds.
const (
	// EntryPatch names patches by ID: the patch's ID, one of its aliases or
	// a KB of one of its fixes ("KB5034441", "RHSA-2024:6163", "DSA-*").
	EntryPatch EntryKind = "patch"
	// EntryCVE names the patches that address a CVE ("CVE-2024-3094").
	EntryCVE EntryKind = "cve"
	// EntryPackage names the patches whose fixes touch a package, optionally
	// at a fixed version or version range ("package:openssl>=3.0.13").
	EntryPackage EntryKind = "package"
)

// VersionOp compares a fix's version with an entry's version.
type VersionOp string

// Version operators of a package entry. OpEqual also takes "*" patterns
// and needs no version scheme; the others need a VersionCompare (see
// WithVersionCompare).
const (
	OpAny          VersionOp = ""
	OpEqual        VersionOp = "="
	OpLess         VersionOp = "<"
	OpLessEqual    VersionOp = "<="
	OpGreater      VersionOp = ">"
	OpGreaterEqual VersionOp = ">="
)

// MaxListEntryLen bounds a list entry's length.
const MaxListEntryLen = 512

// ListEntry is one parsed entry of an approved or rejected list.
//
// Written forms:
//
//	KB5034441, RHSA-2024:6163, DSA-56*     a patch ID (or alias, or KB), "*" matches any run
//	CVE-2024-3094, CVE-2024-*              a CVE ID
//	package:openssl                        any patch fixing the package (name may use "*")
//	package:openssl=3.0.13-1~deb12u1       the patch that brings that version ("*" allowed)
//	package:linux-image-*<6.1.90-1         a version range: =, <, <=, >, >=
//
// Case is ignored in names and IDs, not in versions.
type ListEntry struct {
	Raw     string    `json:"raw"`
	Kind    EntryKind `json:"kind"`
	Pattern string    `json:"pattern"`
	Op      VersionOp `json:"op,omitempty"`
	Version string    `json:"version,omitempty"`
}

// String returns the entry as written.
func (e ListEntry) String() string { return e.Raw }

// ParseListEntry parses one approved- or rejected-list entry. Errors wrap
// patchcore.ErrInvalidInput and give the offending offset.
func ParseListEntry(s string) (ListEntry, error) {
	e := ListEntry{Raw: s}
	fail := func(off int, why string) (ListEntry, error) {
		return ListEntry{}, fmt.Errorf("list entry %q: offset %d: %s: %w", truncate(s, 80), off, why, patchcore.ErrInvalidInput)
	}
	if s == "" {
		return fail(0, "empty entry")
	}
	if len(s) > MaxListEntryLen {
		return fail(MaxListEntryLen, fmt.Sprintf("longer than %d bytes", MaxListEntryLen))
	}
	for i, r := range s {
		if r == utf8.RuneError {
			return fail(i, "invalid UTF-8")
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fail(i, "white space or control character")
		}
	}
	const pkgPrefix = "package:"
	switch {
	case len(s) >= len(pkgPrefix) && strings.EqualFold(s[:len(pkgPrefix)], pkgPrefix):
		e.Kind = EntryPackage
		rest := s[len(pkgPrefix):]
		i := strings.IndexAny(rest, "=<>")
		if i < 0 {
			e.Pattern = rest
		} else {
			e.Pattern = rest[:i]
			op := rest[i : i+1]
			if i+1 < len(rest) && rest[i+1] == '=' && op != "=" {
				op += "="
			}
			e.Op = VersionOp(op)
			e.Version = rest[i+len(op):]
			if e.Version == "" {
				return fail(len(pkgPrefix)+i+len(op), "operator without a version")
			}
			if j := strings.IndexAny(e.Version, "=<>"); j >= 0 {
				return fail(len(pkgPrefix)+i+len(op)+j, "second version operator")
			}
			if e.Op != OpEqual && strings.Contains(e.Version, "*") {
				return fail(len(pkgPrefix)+i+len(op), "\"*\" in a version is allowed only with =")
			}
		}
		if e.Pattern == "" {
			return fail(len(pkgPrefix), "missing package name")
		}
		if strings.Trim(e.Pattern, "*") == "" {
			return fail(len(pkgPrefix), "package name pattern matches every package")
		}
	case len(s) >= 4 && strings.EqualFold(s[:4], "CVE-"):
		e.Kind = EntryCVE
		e.Pattern = s
		if len(s) == 4 {
			return fail(4, "missing CVE number")
		}
	default:
		e.Kind = EntryPatch
		e.Pattern = s
		if strings.Trim(s, "*") == "" {
			return fail(0, "pattern matches every patch")
		}
		if strings.ContainsAny(s, "=<>") {
			return fail(strings.IndexAny(s, "=<>"), "version operator outside a package: entry")
		}
	}
	return e, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// VersionCompare compares two versions a and b in a version scheme ("deb",
// "rpm", "semver", "dotted"): -1, 0 or +1. patchcore/version's
// Lookup(scheme).Compare fits; approve does not import it.
type VersionCompare func(scheme, a, b string) (int, error)

// matchPatch reports whether the entry names p. The error is non-nil only
// for a package range that could not be compared.
func (e *ListEntry) matchPatch(p *patchcore.Patch, cmp VersionCompare) (bool, error) {
	switch e.Kind {
	case EntryPatch:
		if globMatch(e.Pattern, p.ID) {
			return true, nil
		}
		for _, a := range p.Aliases {
			if globMatch(e.Pattern, a) {
				return true, nil
			}
		}
		for i := range p.Fixes {
			if kb := p.Fixes[i].KB; kb != "" && globMatch(e.Pattern, kb) {
				return true, nil
			}
		}
	case EntryCVE:
		for _, c := range p.CVEs {
			if globMatch(e.Pattern, c.ID) {
				return true, nil
			}
		}
		for _, a := range p.Aliases {
			if globMatch(e.Pattern, a) {
				return true, nil
			}
		}
	case EntryPackage:
		var firstErr error
		for i := range p.Fixes {
			f := &p.Fixes[i]
			if f.Package == "" || !globMatch(e.Pattern, f.Package) {
				continue
			}
			ok, err := e.matchVersion(f, cmp)
			if ok {
				return true, nil
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}
		return false, firstErr
	}
	return false, nil
}

func (e *ListEntry) matchVersion(f *patchcore.Fix, cmp VersionCompare) (bool, error) {
	switch e.Op {
	case OpAny:
		return true, nil
	case OpEqual:
		return globMatchCase(e.Version, f.FixedVersion, false), nil
	}
	if f.FixedVersion == "" {
		return false, nil
	}
	if cmp == nil {
		return false, fmt.Errorf("list entry %q: comparing %s %s needs a version comparer (WithVersionCompare): %w",
			e.Raw, f.Package, f.FixedVersion, patchcore.ErrUnsupported)
	}
	c, err := cmp(f.Scheme, f.FixedVersion, e.Version)
	if err != nil {
		return false, fmt.Errorf("list entry %q: comparing %s %s with %s (%s): %w", e.Raw, f.Package, f.FixedVersion, e.Version, f.Scheme, err)
	}
	switch e.Op {
	case OpLess:
		return c < 0, nil
	case OpLessEqual:
		return c <= 0, nil
	case OpGreater:
		return c > 0, nil
	case OpGreaterEqual:
		return c >= 0, nil
	}
	return false, nil
}

// globMatch matches s against pattern, where "*" matches any run of
// characters, ignoring ASCII case.
func globMatch(pattern, s string) bool { return globMatchCase(pattern, s, true) }

// globMatchCase is the classic linear-time wildcard match with one
// backtracking point.
func globMatchCase(pattern, s string, fold bool) bool {
	eq := func(a, b byte) bool {
		if a == b {
			return true
		}
		if !fold {
			return false
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && eq(pattern[p], s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
