package version

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// HomebrewScheme returns the scheme of Homebrew formula and cask versions as
// `brew info --json=v2` and `brew outdated --json=v2` report them: a
// formula's pkg_version ("3.2.0_1": version 3.2.0, revision 1) or a cask's
// version ("120.0.6099.234", "4.27.0,2410180"). Its Parse returns a
// *HomebrewVersion.
//
// Versions compare the way Homebrew's Version and PkgVersion classes do
// (Library/Homebrew/version.rb and pkg_version.rb in Homebrew/brew), so an
// upgrade decision agrees with `brew outdated`:
//
//   - A trailing "_N" is the formula revision. It is compared, numerically,
//     only when the versions before it are equal: "3.2.0" < "3.2.0_1" <
//     "3.2.0_2" < "3.2.1".
//   - The rest is split into tokens as Homebrew scans them (case-insensitive,
//     first alternative that matches wins, other characters separate tokens):
//     alpha ("alpha", "alpha2", "a2"), beta ("beta", "beta2", "b2"), pre
//     ("pre", "pre2"), rc ("rc", "rc2"), patch ("p", "p1"), post (any
//     character followed by "post" and digits, as in ".post1"), numbers, and
//     runs of letters ("w" in "1.1.1w").
//   - Numbers compare numerically, whatever their length. alpha < beta < pre
//     < rc < nothing < patch and post: "1.2.3alpha4" < "1.2.3beta2" <
//     "1.2.3pre3" < "1.2.3rc3" < "1.2.3" < "1.2.3-p34". Tokens of the same
//     kind compare by their number ("1.2.3alpha4" == "1.2.3a4" ==
//     "1.2.3A4"); a number sorts after any letters ("22.1.0.beta1" <
//     "22.1.0.1"), and letters against other letters compare as strings,
//     byte by byte ("1.1.1w" < "1.1.1x").
//   - Missing tokens count as 0 ("0.1" == "0.1.0"), and a 0 facing letters is
//     skipped ("2.1-p195" > "2.1.0-p194").
//
// Where Homebrew's own comparison is inconsistent (it stops when the left
// side's tokens run out, so it finds "1.0" equal to "1.alpha1" but
// "1.alpha1" older than "1.0"), this scheme compares every token of both
// sides and gives the answer Homebrew gives in the other direction, so
// Compare is antisymmetric. It agrees with Homebrew on every pair Homebrew
// orders consistently.
//
// Parse rejects what has no order, with a *ParseError wrapping
// ErrNotComparable: "latest" (a cask with `version :latest`, which updates
// itself) and "HEAD" or "HEAD-<commit>" (a formula built from its development
// branch; Homebrew sorts it after every release whatever the commit, which
// says nothing about whether it contains a fix). It also
// rejects an empty version, a version with whitespace, control or non-ASCII
// characters, and one without any letter or digit.
func HomebrewScheme() Scheme { return homebrewScheme{} }

type homebrewScheme struct{}

func (homebrewScheme) Name() string { return Homebrew }

func (s homebrewScheme) Compare(a, b string) (int, error) { return compareStrings(s, a, b) }

func (homebrewScheme) Parse(s string) (Version, error) {
	fail := func(offset int, format string, args ...any) (Version, error) {
		return nil, &ParseError{Scheme: Homebrew, Input: s, Reason: fmt.Sprintf(format, args...), Offset: offset}
	}
	notComparable := func(reason string) (Version, error) {
		return nil, &ParseError{Scheme: Homebrew, Input: s, Reason: reason, Offset: 0, Err: ErrNotComparable}
	}
	if s == "" {
		return fail(-1, "version is empty")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fail(i, "invalid character %q", r)
		}
	}
	if s == "latest" {
		return notComparable(`"latest" is a cask that updates itself (version :latest): it has no version to compare`)
	}
	v := &HomebrewVersion{s: s, version: s}
	// PkgVersion's /\A(.+?)(?:_(\d+))?\z/: the revision is the digits after
	// the last underscore, when something precedes it.
	if u := strings.LastIndexByte(s, '_'); u > 0 && u < len(s)-1 && allDigits(s[u+1:]) {
		v.version, v.revision = s[:u], s[u+1:]
	}
	if v.version == "HEAD" || strings.HasPrefix(v.version, "HEAD-") {
		return notComparable("a HEAD version is built from the development branch: it has no version to compare")
	}
	n := 0
	for _, ok, rest := nextHomebrewToken(v.version); ok; _, ok, rest = nextHomebrewToken(rest) {
		n++
	}
	if n == 0 {
		return fail(0, "no digits or letters to compare")
	}
	v.tokens = make([]hbToken, 0, n)
	for t, ok, rest := nextHomebrewToken(v.version); ok; t, ok, rest = nextHomebrewToken(rest) {
		v.tokens = append(v.tokens, t)
	}
	return v, nil
}

// HomebrewVersion is a parsed Homebrew version.
type HomebrewVersion struct {
	s        string
	version  string // s without the revision
	revision string // digits after the last '_', or ""
	tokens   []hbToken
}

// String returns the string the version was parsed from.
func (v *HomebrewVersion) String() string { return v.s }

// Scheme returns Homebrew.
func (v *HomebrewVersion) Scheme() string { return Homebrew }

// Version returns the version without the formula revision: "3.2.0" for
// "3.2.0_1".
func (v *HomebrewVersion) Version() string { return v.version }

// Revision returns the formula revision's digits as written ("1" for
// "3.2.0_1"), or "" when there is none, which compares as 0.
func (v *HomebrewVersion) Revision() string { return v.revision }

// Compare orders v and other as Homebrew's PkgVersion does (see
// HomebrewScheme). It panics if other is not a *HomebrewVersion.
func (v *HomebrewVersion) Compare(other Version) int {
	o := sameScheme[*HomebrewVersion](v, other)
	if c := compareHomebrewTokens(v.tokens, o.tokens); c != 0 {
		return c
	}
	return compareDigits(v.revision, o.revision)
}

// hbKind is the class of a Homebrew Version::Token. The composite kinds
// (alpha to post) are in Homebrew's pre-release order; patch and post rank
// equal and fall back to comparing text against each other.
type hbKind uint8

const (
	hbNull hbKind = iota // NullToken: a token past the end
	hbNumeric
	hbString
	hbAlpha
	hbBeta
	hbPre
	hbRC
	hbPatch
	hbPost
)

// hbToken is one token. text is the token as written; num holds the digits
// that give its value, leading zeros removed: the whole number of a numeric
// token, the first run of digits of a composite one ("" is 0).
type hbToken struct {
	kind hbKind
	text string
	num  string
}

// nextHomebrewToken scans s as Ruby's String#scan with Homebrew's
// SCAN_PATTERN does: at the first position where one of the alternatives
// matches, the first matching alternative wins. ok is false when s holds no
// further token; rest is what follows the token.
func nextHomebrewToken(s string) (t hbToken, ok bool, rest string) {
	for i := 0; i < len(s); i++ {
		if kind, n := matchHomebrewToken(s[i:]); n > 0 {
			text := s[i : i+n]
			t = hbToken{kind: kind, text: text}
			if kind == hbNumeric {
				t.num = strings.TrimLeft(text, "0")
			} else if kind >= hbAlpha {
				t.num = strings.TrimLeft(firstDigits(text), "0")
			}
			return t, true, s[i+n:]
		}
	}
	return hbToken{}, false, ""
}

// matchHomebrewToken returns the kind and length of the token that starts
// s, or 0 if none does. The alternatives, in SCAN_PATTERN's order:
// alpha[0-9]*|a[0-9]+, beta[0-9]*|b[0-9]+, pre[0-9]*, rc[0-9]*, p[0-9]*,
// .post[0-9]+ (all case-insensitive), [0-9]+, [a-z]+.
func matchHomebrewToken(s string) (hbKind, int) {
	if n := prefixDigits(s, "alpha", 0); n > 0 {
		return hbAlpha, n
	}
	if n := prefixDigits(s, "a", 1); n > 0 {
		return hbAlpha, n
	}
	if n := prefixDigits(s, "beta", 0); n > 0 {
		return hbBeta, n
	}
	if n := prefixDigits(s, "b", 1); n > 0 {
		return hbBeta, n
	}
	if n := prefixDigits(s, "pre", 0); n > 0 {
		return hbPre, n
	}
	if n := prefixDigits(s, "rc", 0); n > 0 {
		return hbRC, n
	}
	if n := prefixDigits(s, "p", 0); n > 0 {
		return hbPatch, n
	}
	if len(s) > 1 { // '.' matches any character but a newline, which Parse rejects
		if n := prefixDigits(s[1:], "post", 1); n > 0 {
			return hbPost, 1 + n
		}
	}
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n > 0 {
		return hbNumeric, n
	}
	for n < len(s) && isAlpha(s[n]) {
		n++
	}
	if n > 0 {
		return hbString, n
	}
	return hbNull, 0
}

// prefixDigits returns the length of word (ASCII lower case, matched
// case-insensitively) at the start of s followed by as many digits as there
// are, if there are at least minDigits of them; otherwise 0.
func prefixDigits(s, word string, minDigits int) int {
	if len(s) < len(word) {
		return 0
	}
	for i := 0; i < len(word); i++ {
		if s[i]|0x20 != word[i] {
			return 0
		}
	}
	n := len(word)
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if n-len(word) < minDigits {
		return 0
	}
	return n
}

// firstDigits returns the first run of digits in s (Ruby's s[/[0-9]+/]).
func firstDigits(s string) string {
	i := 0
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return s[i:j]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// compareHomebrewTokens is Version#<=> on token lists: equal tokens are
// skipped, a number facing letters decides unless it is 0 (then it is
// skipped), anything else decides by the token order. Unlike Homebrew, it
// runs until both lists are used up (see HomebrewScheme).
func compareHomebrewTokens(l, r []hbToken) int {
	var null hbToken
	i, j := 0, 0
	for i < len(l) || j < len(r) {
		a, b := &null, &null
		if i < len(l) {
			a = &l[i]
		}
		if j < len(r) {
			b = &r[j]
		}
		c := compareHomebrewToken(a, b)
		switch {
		case c == 0:
			i++
			j++
		case a.kind == hbNumeric && b.kind != hbNumeric:
			if a.num != "" { // a > NULL_TOKEN
				return 1
			}
			i++
		case a.kind != hbNumeric && b.kind == hbNumeric:
			if b.num != "" {
				return -1
			}
			j++
		default:
			return c
		}
	}
	return 0
}

// compareHomebrewToken is Version::Token#<=>.
func compareHomebrewToken(a, b *hbToken) int {
	switch {
	case a.kind == hbNull && b.kind == hbNull:
		return 0
	case a.kind == hbNull:
		return -compareWithNull(b)
	case b.kind == hbNull:
		return compareWithNull(a)
	case a.kind == hbNumeric && b.kind == hbNumeric:
		return compareDigits(a.num, b.num)
	case a.kind == hbNumeric:
		return 1
	case b.kind == hbNumeric:
		return -1
	case a.kind == b.kind && a.kind >= hbAlpha:
		return compareDigits(a.num, b.num) // rev <=> other.rev
	case a.kind >= hbAlpha && b.kind >= hbAlpha && min(a.kind, b.kind) < hbPatch:
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	// Plain strings, a string against a composite token, patch against post.
	return strings.Compare(a.text, b.text)
}

// compareWithNull is t <=> NULL_TOKEN: a number is above it unless it is 0,
// pre-release tokens are below it, anything else is above it.
func compareWithNull(t *hbToken) int {
	switch t.kind {
	case hbNumeric:
		if t.num == "" {
			return 0
		}
		return 1
	case hbAlpha, hbBeta, hbPre, hbRC:
		return -1
	}
	return 1
}
