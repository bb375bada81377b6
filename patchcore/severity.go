package patchcore

import (
	"fmt"
	"strings"
)

// SeverityLevel orders severities: Critical > High > Medium > Low > None > Unknown.
// The zero value is SeverityUnknown, so a severity nobody stated is never
// mistaken for a low one.
type SeverityLevel int

// Severity levels in increasing order. Vendor words map onto them:
// "Important" is High, "Moderate" is Medium.
const (
	SeverityUnknown SeverityLevel = iota
	SeverityNone
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"unknown", "none", "low", "medium", "high", "critical"}

// String returns the level's lower-case name ("critical").
func (l SeverityLevel) String() string {
	if l < 0 || int(l) >= len(severityNames) {
		return fmt.Sprintf("SeverityLevel(%d)", int(l))
	}
	return severityNames[l]
}

// MarshalText encodes the level by name.
func (l SeverityLevel) MarshalText() ([]byte, error) {
	if l < 0 || int(l) >= len(severityNames) {
		return nil, fmt.Errorf("severity level %d: %w", int(l), ErrInvalidInput)
	}
	return []byte(severityNames[l]), nil
}

// UnmarshalText decodes a level name as written by MarshalText.
func (l *SeverityLevel) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if string(b) == n {
			*l = SeverityLevel(i)
			return nil
		}
	}
	return fmt.Errorf("severity level %q: %w", b, ErrInvalidInput)
}

// Severity is a vendor's (or a customer's) rating of a patch: the ordered
// Level and the vendor's own word, kept as published.
type Severity struct {
	Level SeverityLevel `json:"level"`
	// Raw is the vendor's word ("Important", "moderate", "unimportant"), empty when none was given.
	Raw string `json:"raw,omitempty"`
}

// String returns the raw word when there is one, otherwise the level's name.
func (s Severity) String() string {
	if s.Raw != "" {
		return s.Raw
	}
	return s.Level.String()
}

// ParseSeverity maps a vendor's severity word to a Severity, keeping the word.
// It knows the words of Microsoft, Red Hat, SUSE, Debian, Ubuntu, CVSS and
// OSV; an unrecognised word gives SeverityUnknown with the word kept, so the
// caller can still show it.
func ParseSeverity(raw string) Severity {
	s := Severity{Raw: strings.TrimSpace(raw)}
	switch strings.ToLower(s.Raw) {
	case "critical", "urgent":
		s.Level = SeverityCritical
	case "important", "high":
		s.Level = SeverityHigh
	case "moderate", "medium":
		s.Level = SeverityMedium
	case "low", "unimportant", "negligible":
		s.Level = SeverityLow
	case "none", "not affected":
		s.Level = SeverityNone
	}
	return s
}

// Compare orders two severities by level: -1 if s is less severe than t, 0 if
// equal, +1 if more severe. Raw words do not take part.
func (s Severity) Compare(t Severity) int {
	switch {
	case s.Level < t.Level:
		return -1
	case s.Level > t.Level:
		return 1
	}
	return 0
}
