package fetch

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/patchcore/sdk/patchcore"
	"github.com/ulikunitz/xz"
)

// Compression names how a feed's bytes are compressed, as recognised from
// their first bytes (never from a file name or a Content-Type header).
type Compression string

// Compressions that Decompress recognises.
const (
	None  Compression = "none"
	Gzip  Compression = "gzip"
	Bzip2 Compression = "bzip2"
	XZ    Compression = "xz"
	Zstd  Compression = "zstd"
	Zlib  Compression = "zlib"
)

// DefaultMaxBytes is the decompressed size limit used when a caller gives
// none: large enough for a whole Red Hat OVAL stream, small enough to stop a
// decompression bomb.
const DefaultMaxBytes int64 = 2 << 30

// Sniff recognises the compression of a document from its first bytes (6 are
// enough). Anything unrecognised is None.
func Sniff(head []byte) Compression {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return Gzip
	case len(head) >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd:
		return Zstd
	case len(head) >= 6 && bytes.Equal(head[:6], []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return XZ
	case len(head) >= 4 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h' && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	case len(head) >= 2 && head[0] == 0x78 && head[1]&0x20 == 0 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0:
		// RFC 1950: CM=8, window 32K, no preset dictionary, FCHECK valid.
		return Zlib
	}
	return None
}

// Decompress returns a reader of r's decompressed content, recognising the
// compression from the first bytes, and the compression it found. The
// reader stops with an error wrapping patchcore.ErrTooLarge once more than
// maxBytes decompressed bytes were read (maxBytes <= 0 means
// DefaultMaxBytes). Corrupt compressed data gives an error wrapping
// patchcore.ErrMalformedFeed. Close releases decoder resources; it does not
// close r.
func Decompress(r io.Reader, maxBytes int64) (io.ReadCloser, Compression, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(6)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, None, fmt.Errorf("reading first bytes: %w", err)
	}
	c := Sniff(head)
	var dec io.Reader
	var closer func()
	switch c {
	case None:
		dec = br
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, malformed(c, err)
		}
		dec, closer = zr, func() { zr.Close() }
	case Zlib:
		zr, err := zlib.NewReader(br)
		if err != nil {
			return nil, c, malformed(c, err)
		}
		dec, closer = zr, func() { zr.Close() }
	case Bzip2:
		dec = bzip2.NewReader(br)
	case XZ:
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, c, malformed(c, err)
		}
		dec = xr
	case Zstd:
		// One goroutine and a bounded window: feeds are decoded one at a time
		// and a hostile frame must not reserve gigabytes.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(min(maxBytes, 1<<30))))
		if err != nil {
			return nil, c, malformed(c, err)
		}
		dec, closer = zr, zr.Close
	}
	return &limitedReader{r: dec, c: c, left: maxBytes, max: maxBytes, closer: closer}, c, nil
}

func malformed(c Compression, err error) error {
	return fmt.Errorf("%s data: %w: %w", c, patchcore.ErrMalformedFeed, err)
}

// limitedReader enforces the decompressed size limit and labels decoder
// errors with the compression and the offset reached.
type limitedReader struct {
	r      io.Reader
	c      Compression
	n      int64
	left   int64
	max    int64
	closer func()
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: exactly max bytes is fine, more is not.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("decompressed %s data exceeds %d bytes: %w", l.c, l.max, patchcore.ErrTooLarge)
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return 0, l.wrap(err)
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	l.left -= int64(n)
	return n, l.wrap(err)
}

func (l *limitedReader) wrap(err error) error {
	if err == nil || err == io.EOF || l.c == None {
		return err
	}
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return fmt.Errorf("%s data needs more memory than the %d byte limit: %w: %w", l.c, l.max, patchcore.ErrTooLarge, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s data truncated after %d decompressed bytes: %w: %w", l.c, l.n, patchcore.ErrMalformedFeed, err)
	}
	return fmt.Errorf("%s data corrupt after %d decompressed bytes: %w: %w", l.c, l.n, patchcore.ErrMalformedFeed, err)
}

// Close releases the decoder.
func (l *limitedReader) Close() error {
	if l.closer != nil {
		l.closer()
		l.closer = nil
	}
	return nil
}
