package feed

import (
	"context"
)

// NoticeKind says what a Notice reports.
type NoticeKind string

const (
	// NoticeRecovered: the parser met sloppy vendor data (a malformed
	// entry, an invalid byte in free text) and recovered, keeping the rest
	// of the document; the Message says what was repaired or left out.
	NoticeRecovered NoticeKind = "recovered"
	// NoticeNotCovered: the parser read a record it does not turn into a
	// patch that detection can apply (a product patchcore has no model
	// for); the record is counted, never silently dropped.
	NoticeNotCovered NoticeKind = "not_covered"
)

// Notice is what a parser reports about a document besides its patches.
// Notices never replace errors: a document whose data cannot be trusted
// still fails with a *ParseError.
type Notice struct {
	Kind NoticeKind `json:"kind"`
	// File, Line, Column, Offset and Field locate the record as in
	// ParseError; zero values are unknown.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Offset int64  `json:"offset,omitempty"`
	Field  string `json:"field,omitempty"`
	// ID names the record concerned (an advisory or CVE ID), when known.
	ID string `json:"id,omitempty"`
	// Message says what was recovered or is not covered, and why.
	Message string `json:"message"`
}

// String formats n as "file:line: field: id: kind: message".
func (n Notice) String() string {
	s := location(n.File, n.Line, n.Column, n.Offset, n.Field)
	if n.ID != "" {
		s += ": " + n.ID
	}
	return s + ": " + string(n.Kind) + ": " + n.Message
}

type noticeKey struct{}

// WithNotices returns a context under which parsers deliver their notices
// to fn, in document order, on the parsing goroutine (as net/http/httptrace
// delivers its events). Without it notices are dropped.
func WithNotices(ctx context.Context, fn func(Notice)) context.Context {
	return context.WithValue(ctx, noticeKey{}, fn)
}

// Notify delivers n to the function installed by WithNotices, if any.
// Parsers call it; users install a function with WithNotices.
func Notify(ctx context.Context, n Notice) {
	if fn, ok := ctx.Value(noticeKey{}).(func(Notice)); ok && fn != nil {
		fn(n)
	}
}
