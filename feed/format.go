package feed

import (
	"context"
	"fmt"
	"io"

	"github.com/patchcore/sdk/patchcore"
)

// Format reads one feed format. Implementations live in feed/<format>
// packages; feed/formats lists them all for detection by content.
type Format interface {
	// Name is the format's short name, as `patchctl feed parse --format` takes it ("msrc-cvrf").
	Name() string
	// Detect reports whether head, the first bytes of a (decompressed)
	// document, look like this format. It must be cheap and never fail.
	Detect(head []byte) bool
	// Parse reads a whole document from r and calls emit for each patch, in
	// document order, without holding the document in memory twice. An error
	// from emit stops parsing and is returned as is. A malformed document
	// gives a *ParseError. Sloppy data recovered from and records read but
	// not turned into an applicable patch are reported as Notices through
	// Notify(ctx, ...), never dropped silently.
	Parse(ctx context.Context, r io.Reader, emit func(patchcore.Patch) error) error
}

// ParseError says what is wrong in a feed document and where. It wraps
// patchcore.ErrMalformedFeed (or patchcore.ErrTooLarge for limits) so callers
// can test with errors.Is.
type ParseError struct {
	// File names the document, when known.
	File string
	// Line and Column (1-based) or Offset (bytes, 0-based) locate the problem;
	// zero when unknown.
	Line, Column int
	Offset       int64
	// Field is the element, attribute or JSON path concerned ("Vulnerability/Remediations/Remediation[2]/FixedBuild").
	Field string
	// Err is the underlying problem.
	Err error
}

func (e *ParseError) Error() string {
	return location(e.File, e.Line, e.Column, e.Offset, e.Field) + ": " + e.Err.Error()
}

// location formats where a ParseError or Notice is: "file:line:col: field",
// "file: offset N: field", "feed" when the file is not known.
func location(file string, line, col int, offset int64, field string) string {
	s := file
	if s == "" {
		s = "feed"
	}
	switch {
	case line > 0 && col > 0:
		s += fmt.Sprintf(":%d:%d", line, col)
	case line > 0:
		s += fmt.Sprintf(":%d", line)
	case offset > 0:
		s += fmt.Sprintf(": offset %d", offset)
	}
	if field != "" {
		s += ": " + field
	}
	return s
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Is makes every ParseError match patchcore.ErrMalformedFeed.
func (e *ParseError) Is(target error) bool { return target == patchcore.ErrMalformedFeed }
