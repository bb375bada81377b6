package updateinfo

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/patchcore/sdk/patchcore"
)

// maxDecompressed bounds the decompressed size of one document; the
// largest real updateinfo.xml files are a few hundred megabytes.
const maxDecompressed = 4 << 30

// decompress returns a reader of r's content, decompressed when r starts
// with a gzip, bzip2, xz or zstd header. The closer releases decoder state.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(6)
	nop := func() {}
	wrap := func(err error) error {
		return fmt.Errorf("decompressing: %w: %w", patchcore.ErrMalformedFeed, err)
	}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nop, wrap(err)
		}
		return capped(zr), func() { zr.Close() }, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return capped(bzip2.NewReader(br)), nop, nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, nop, wrap(err)
		}
		return capped(xr), nop, nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nop, wrap(err)
		}
		return capped(zr), zr.Close, nil
	}
	return br, nop, nil
}

func capped(r io.Reader) io.Reader { return &capReader{r: r, left: maxDecompressed} }

// capReader fails once more than left bytes were read: a compression bomb.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("decompressed data beyond %d bytes: %w", int64(maxDecompressed), patchcore.ErrTooLarge)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
