package updateinfo

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// maxDepth bounds element nesting outside the decoded elements; real
// documents nest fewer than ten levels.
const maxDepth = 64

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

// xmlError turns err into a ParseError at the decoder's position.
func xmlError(file string, dec *xml.Decoder, field string, err error) error {
	var pe *feed.ParseError
	if errors.As(err, &pe) {
		return err
	}
	line, col := dec.InputPos()
	var se *xml.SyntaxError
	if errors.As(err, &se) && se.Line > 0 {
		line, col = se.Line, 0
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("truncated document: %w", io.ErrUnexpectedEOF)
	}
	if !errors.Is(err, patchcore.ErrMalformedFeed) && !errors.Is(err, patchcore.ErrTooLarge) {
		err = fmt.Errorf("%w: %w", patchcore.ErrMalformedFeed, err)
	}
	return &feed.ParseError{File: file, Line: line, Column: col, Offset: dec.InputOffset(), Field: field, Err: err}
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), patchcore.ErrMalformedFeed)
}
