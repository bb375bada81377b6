// Package formats is the explicit list of every feed format patchcore
// reads, with lookup by name, detection by content and a ParseFile that
// decompresses by content (gzip, bzip2, xz, zstd, zlib), detects the
// format and names the file in every error.
//
// The list is a function returning fresh values, not a registry: nothing is
// registered at init time and callers may build their own list.
package formats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/chocolatey"
	"github.com/patchcore/sdk/feed/csaf"
	"github.com/patchcore/sdk/feed/debian"
	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/feed/native"
	"github.com/patchcore/sdk/feed/osv"
	"github.com/patchcore/sdk/feed/oval"
	"github.com/patchcore/sdk/feed/suse"
	"github.com/patchcore/sdk/feed/updateinfo"
	"github.com/patchcore/sdk/feed/winget"
	"github.com/patchcore/sdk/patchcore"
)

// HeadSize is how many decompressed bytes Detect is shown.
const HeadSize = 8 << 10

// All returns every format, in the order Detect tries them: the most
// specific signatures first, OSV (the loosest) last.
func All() []feed.Format {
	return []feed.Format{
		native.Format{},
		msrc.CSAF{}, // before csaf.Reader, which accepts any CSAF
		msrc.CVRF{}, // before suse.CVRF, which looks for "SUSE"
		csaf.Reader{},
		suse.CVRF{},
		oval.Reader{},
		chocolatey.Format{},
		winget.Format{},
		debian.Tracker{},
		debian.Debsecan{},
		debian.AdvisoryList{},
		updateinfo.Reader{},
		updateinfo.AlmaErrata{},
		osv.Format{},
	}
}

// Names returns the names of All, in order.
func Names() []string {
	var out []string
	for _, f := range All() {
		out = append(out, f.Name())
	}
	return out
}

// ByName returns the format with the given name. An unknown name gives an
// error wrapping patchcore.ErrUnknownFormat that lists the known names.
func ByName(name string) (feed.Format, error) {
	for _, f := range All() {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, fmt.Errorf("format %q (known: %s): %w", name, strings.Join(Names(), ", "), patchcore.ErrUnknownFormat)
}

// Detect returns the first format of All whose Detect accepts head (the
// first decompressed bytes of a document), or an error wrapping
// patchcore.ErrUnknownFormat.
func Detect(head []byte) (feed.Format, error) {
	for _, f := range All() {
		if f.Detect(head) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("content not recognised as any of %s: %w", strings.Join(Names(), ", "), patchcore.ErrUnknownFormat)
}

// Options tune Parse and ParseFile.
type Options struct {
	// Format, when set, is used instead of detecting the format from
	// content; a document it does not recognise (its Detect) fails with a
	// *feed.ParseError wrapping patchcore.ErrUnknownFormat that names the
	// format the content does have, rather than giving no patches.
	Format feed.Format
	// MaxBytes limits the decompressed size (fetch.DefaultMaxBytes when <= 0).
	MaxBytes int64
}

// ParseFile parses the feed document at path, detecting its compression and
// format from its content, and calls emit for each patch. A directory is
// read as a winget manifest version directory. Every error names path;
// parse errors are *feed.ParseError with File set to path.
func ParseFile(ctx context.Context, path string, emit func(patchcore.Patch) error) error {
	_, err := ParseFileWith(ctx, path, Options{}, emit)
	return err
}

// ParseFileWith is ParseFile with options; it returns the format used.
func ParseFileWith(ctx context.Context, path string, opts Options, emit func(patchcore.Patch) error) (feed.Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		if opts.Format != nil && opts.Format.Name() != winget.Source {
			return nil, fmt.Errorf("%s is a directory; only the winget format reads directories: %w", path, patchcore.ErrInvalidInput)
		}
		return winget.Format{}, winget.ParseDir(ctx, path, emit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(ctx, path, f, opts, emit)
}

// Parse is ParseFileWith for a reader; name labels errors.
func Parse(ctx context.Context, name string, r io.Reader, opts Options, emit func(patchcore.Patch) error) (feed.Format, error) {
	dec, comp, err := fetch.Decompress(r, opts.MaxBytes)
	if err != nil {
		return nil, locate(name, err)
	}
	defer dec.Close()
	br := bufio.NewReaderSize(dec, HeadSize)
	head, err := br.Peek(HeadSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, locate(name, err)
	}
	format := opts.Format
	if format == nil {
		if format, err = Detect(head); err != nil {
			if comp != fetch.None {
				err = fmt.Errorf("%s-compressed %w", comp, err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else if !format.Detect(head) {
		// A format's parser shown another format's document may find
		// nothing in it and succeed: never answer that with zero patches.
		what := "no format patchcore knows"
		if other, err := Detect(head); err == nil {
			what = "format " + other.Name()
		}
		return format, &feed.ParseError{File: name, Err: fmt.Errorf("content is not format %s but %s: %w", format.Name(), what, patchcore.ErrUnknownFormat)}
	}
	if err := format.Parse(ctx, br, emit); err != nil {
		return format, locate(name, err)
	}
	return format, nil
}

// locate names the file in err: a *feed.ParseError gets File (replacing a
// parser's placeholder), anything else is prefixed with the name.
func locate(name string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pe *feed.ParseError
	if errors.As(err, &pe) {
		if pe.File == "" || !strings.ContainsAny(pe.File, "/\\.") {
			pe.File = name
			return err
		}
		if pe.File == name {
			return err
		}
	}
	if strings.Contains(err.Error(), name) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}
