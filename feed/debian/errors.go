package debian

import (
	"encoding/json"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/internal/stream"
)

// maxLine bounds one line of the text formats; a longer line is hostile or
// corrupt input and gives a ParseError wrapping patchcore.ErrTooLarge.
const maxLine = 4 << 20

// lineError builds a ParseError for a line-oriented format.
func lineError(file string, line int, field string, err error) *feed.ParseError {
	return &feed.ParseError{File: file, Line: line, Field: field, Err: err}
}

// jsonError locates err at the decoder's offset in file.
func jsonError(file string, dec *json.Decoder, field string, err error) error {
	return stream.InFile(file, stream.JSONError(dec, field, err))
}
