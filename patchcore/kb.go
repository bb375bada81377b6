package patchcore

import "strings"

// NormalizeKB returns a Microsoft Knowledge Base article number in the one
// form the SDK compares: "KB" and the number without leading zeros. It
// accepts "KB5034441", "kb5034441", "KB 5034441" and "5034441", with
// surrounding white space, and a number of 4 to 9 digits (MSRC's oldest
// articles have 6, its newest 7; the range leaves room on both sides). It
// reports false for anything else ("File 1", "Q147222", "KB5034441-v2",
// "Release Notes", package names). Feeds, adapters and detection all
// normalise with it, so a KB a feed accepts is never dropped from an
// inventory.
func NormalizeKB(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == 'K' || s[0] == 'k') && (s[1] == 'B' || s[1] == 'b') {
		s = strings.TrimLeft(s[2:], " \t")
	}
	s = strings.TrimLeft(s, "0")
	if len(s) < 4 || len(s) > 9 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return "KB" + s, true
}
