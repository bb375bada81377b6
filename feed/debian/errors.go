package debian

import (
	"fmt"
	"io"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// maxLine bounds one line of the text formats; a longer line is hostile or
// corrupt input and gives a ParseError wrapping patchcore.ErrTooLarge.
const maxLine = 4 << 20

// fileName is the name of r when it has one (an *os.File), for errors.
func fileName(r io.Reader, name string) string {
	if name != "" {
		return name
	}
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	return ""
}

// lineError builds a ParseError for a line-oriented format.
func lineError(file string, line int, field string, err error) *feed.ParseError {
	return &feed.ParseError{File: file, Line: line, Field: field, Err: err}
}

// malformed wraps patchcore.ErrMalformedFeed with a reason.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), patchcore.ErrMalformedFeed)
}
