package updateinfo

import (
	"bytes"
	"compress/gzip"
	"io"
)

func gzipWriter(w io.Writer) *gzip.Writer { return gzip.NewWriter(w) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
