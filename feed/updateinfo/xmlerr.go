package updateinfo

import (
	"encoding/json"
	"encoding/xml"

	"github.com/patchcore/sdk/feed/internal/stream"
)

// maxDepth bounds element nesting outside the decoded elements; real
// documents nest fewer than ten levels.
const maxDepth = 64

// xmlError locates err at the decoder's position in file.
func xmlError(file string, dec *xml.Decoder, field string, err error) error {
	return stream.InFile(file, stream.XMLError(dec, field, err))
}

// jsonError locates err at the decoder's offset in file.
func jsonError(file string, dec *json.Decoder, field string, err error) error {
	return stream.InFile(file, stream.JSONError(dec, field, err))
}
