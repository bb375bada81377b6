// Package fetch downloads patch feeds over HTTP(S), or reads them from a
// local file for offline use, with conditional requests (ETag,
// Last-Modified), decompression recognised from content (gzip, bzip2, xz,
// zstd, zlib), size limits, integrity checks (SHA-256 digest or detached
// Ed25519 signature) and progress reports. Source.Fetch hands the
// decompressed document to a parser; Source.Download saves it to a file as
// transferred and resumes an interrupted download with an HTTP Range
// request.
//
// A Source never hands out bytes it has not verified: when a digest or a
// signature is expected, the body is spooled to a temporary file while it is
// hashed, checked, and only then decompressed for the parser.
package fetch

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Validators are what a previous fetch learnt about a feed, sent back so the
// server can answer 304 Not Modified.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Progress reports how much of a feed was read so far. Total is -1 when the
// size is unknown.
type Progress struct {
	Location string
	Read     int64
	Total    int64
	Done     bool
}

// Source is one feed document at a location: an http:// or https:// URL, a
// file:// URL or a local path. The zero values of the optional fields mean
// "no check" and "defaults".
type Source struct {
	// Location is the URL or path of the document.
	Location string
	// Client is the HTTP client to use; nil means a client with a 5 minute timeout.
	Client *http.Client
	// UserAgent is sent with HTTP requests; empty means "patchcore-feed-fetch".
	UserAgent string
	// MaxBytes limits both the transferred and the decompressed size;
	// <= 0 means DefaultMaxBytes. Beyond it, reads fail with patchcore.ErrTooLarge.
	MaxBytes int64
	// SHA256 is the expected lower- or upper-case hex SHA-256 digest of the
	// document as transferred (before decompression). Empty means no check.
	SHA256 string
	// PublicKey, when set, requires a detached Ed25519 signature of the
	// document as transferred, read from SignatureLocation (default:
	// Location + ".sig"). See VerifySignature for the signature form.
	PublicKey         ed25519.PublicKey
	SignatureLocation string
	// OnProgress, when set, is called as transferred bytes arrive (at most
	// once per 64 KiB read) and once with Done at the end.
	OnProgress func(Progress)
}

// Result is a fetched feed document.
type Result struct {
	// NotModified reports that the server (or file) says the document did not
	// change since the Validators given to Fetch; Body is nil then.
	NotModified bool
	// Body is the decompressed, verified document. The caller must Close it.
	Body io.ReadCloser
	// Compression is what the transferred bytes were compressed with.
	Compression Compression
	// Validators to store and pass to the next Fetch.
	Validators Validators
	// Size is the transferred size when known, -1 otherwise.
	Size int64
}

// Fetch opens the document. With prev from an earlier Result, an unchanged
// document gives a Result with NotModified and no Body. Errors wrap
// patchcore.ErrTooLarge, ErrChecksumMismatch, ErrSignatureInvalid or
// ErrMalformedFeed where those apply, and always name the location.
func (s *Source) Fetch(ctx context.Context, prev Validators) (*Result, error) {
	if s.Location == "" {
		return nil, fmt.Errorf("fetch: empty location: %w", patchcore.ErrInvalidInput)
	}
	raw, res, err := s.open(ctx, s.Location, prev)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", s.Location, err)
	}
	if res.NotModified {
		return res, nil
	}
	body, err := s.verified(ctx, raw, res.Size)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", s.Location, err)
	}
	dec, c, err := Decompress(body, s.MaxBytes)
	if err != nil {
		body.Close()
		return nil, fmt.Errorf("fetching %s: %w", s.Location, err)
	}
	res.Compression = c
	res.Body = &stackCloser{Reader: dec, closers: []io.Closer{dec, body}}
	return res, nil
}

func (s *Source) maxBytes() int64 {
	if s.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return s.MaxBytes
}

// open returns the transferred bytes of loc, bounded by MaxBytes and counted
// for progress, or NotModified.
func (s *Source) open(ctx context.Context, loc string, prev Validators) (io.ReadCloser, *Result, error) {
	if isHTTP(loc) {
		return s.openHTTP(ctx, loc, prev)
	}
	return s.openFile(loc, prev)
}

func isHTTP(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}

func filePath(loc string) (string, error) {
	if !strings.HasPrefix(loc, "file:") {
		return loc, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("%w: %w", patchcore.ErrInvalidInput, err)
	}
	return u.Path, nil
}

func (s *Source) openFile(loc string, prev Validators) (io.ReadCloser, *Result, error) {
	p, err := filePath(loc)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	v := Validators{LastModified: st.ModTime().UTC().Format(http.TimeFormat)}
	if prev.LastModified != "" && prev.LastModified == v.LastModified && prev.ETag == "" {
		f.Close()
		return nil, &Result{NotModified: true, Validators: v, Size: st.Size()}, nil
	}
	if st.Size() > s.maxBytes() {
		f.Close()
		return nil, nil, fmt.Errorf("file is %d bytes, limit %d: %w", st.Size(), s.maxBytes(), patchcore.ErrTooLarge)
	}
	return s.counted(f, loc, st.Size()), &Result{Validators: v, Size: st.Size()}, nil
}

func (s *Source) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{Timeout: 5 * time.Minute}
}

// get sends a GET for loc, conditional on prev, with the extra headers.
func (s *Source) get(ctx context.Context, loc string, prev Validators, extra http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", patchcore.ErrInvalidInput, err)
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "patchcore-feed-fetch"
	}
	req.Header.Set("User-Agent", ua)
	// Ask for identity so the bytes we hash are the bytes the publisher signed.
	req.Header.Set("Accept-Encoding", "identity")
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *Source) openHTTP(ctx context.Context, loc string, prev Validators) (io.ReadCloser, *Result, error) {
	resp, err := s.get(ctx, loc, prev, nil)
	if err != nil {
		return nil, nil, err
	}
	v := Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		resp.Body.Close()
		if v == (Validators{}) {
			v = prev
		}
		return nil, &Result{NotModified: true, Validators: v, Size: -1}, nil
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return nil, nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	size := resp.ContentLength
	if size > s.maxBytes() {
		resp.Body.Close()
		return nil, nil, fmt.Errorf("Content-Length %d exceeds limit %d: %w", size, s.maxBytes(), patchcore.ErrTooLarge)
	}
	return s.counted(resp.Body, loc, size), &Result{Validators: v, Size: size}, nil
}

// counted limits rc to MaxBytes and reports progress.
func (s *Source) counted(rc io.ReadCloser, loc string, total int64) io.ReadCloser {
	return &countingReader{rc: rc, loc: loc, total: total, max: s.maxBytes(), progress: s.OnProgress}
}

type countingReader struct {
	rc       io.ReadCloser
	loc      string
	n, total int64
	max      int64
	lastRep  int64
	done     bool
	progress func(Progress)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("transferred more than %d bytes: %w", c.max, patchcore.ErrTooLarge)
	}
	if c.progress != nil {
		if err == io.EOF && !c.done {
			c.done = true
			c.progress(Progress{Location: c.loc, Read: c.n, Total: c.total, Done: true})
		} else if c.n-c.lastRep >= 64<<10 {
			c.lastRep = c.n
			c.progress(Progress{Location: c.loc, Read: c.n, Total: c.total})
		}
	}
	if err == io.ErrUnexpectedEOF || (err == io.EOF && c.total > 0 && c.n < c.total) {
		return n, fmt.Errorf("connection closed after %d of %d bytes: %w", c.n, c.total, io.ErrUnexpectedEOF)
	}
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

// verified returns raw unchanged when no check is configured; otherwise it
// spools raw to a temporary file while hashing it, checks the digest and the
// signature, and returns the spooled file (removed on Close).
func (s *Source) verified(ctx context.Context, raw io.ReadCloser, size int64) (io.ReadCloser, error) {
	if s.SHA256 == "" && s.PublicKey == nil {
		return raw, nil
	}
	defer raw.Close()
	var want []byte
	if s.SHA256 != "" {
		var err error
		want, err = hex.DecodeString(strings.TrimSpace(s.SHA256))
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("expected SHA-256 %q is not 64 hex digits: %w", s.SHA256, patchcore.ErrInvalidInput)
		}
	}
	var sig []byte
	if s.PublicKey != nil {
		if len(s.PublicKey) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("public key has %d bytes, want %d: %w", len(s.PublicKey), ed25519.PublicKeySize, patchcore.ErrInvalidInput)
		}
		var err error
		if sig, err = s.signature(ctx); err != nil {
			return nil, err
		}
	}
	tmp, err := os.CreateTemp("", "patchcore-feed-*")
	if err != nil {
		return nil, fmt.Errorf("spooling for verification: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	h256, h512 := sha256.New(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h256, h512), ctxReader{ctx, raw}); err != nil {
		cleanup()
		return nil, err
	}
	if want != nil {
		if got := h256.Sum(nil); !hmacEqual(got, want) {
			cleanup()
			return nil, fmt.Errorf("SHA-256 is %x, want %x: %w", got, want, patchcore.ErrChecksumMismatch)
		}
	}
	if sig != nil {
		if err := verifyDigest(s.PublicKey, h512, sig); err != nil {
			cleanup()
			return nil, err
		}
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, err
	}
	return &tempFile{File: tmp}, nil
}

func hmacEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// signature reads the detached signature, at most 4 KiB.
func (s *Source) signature(ctx context.Context) ([]byte, error) {
	loc := s.SignatureLocation
	if loc == "" {
		loc = s.Location + ".sig"
	}
	sub := Source{Location: loc, Client: s.Client, UserAgent: s.UserAgent, MaxBytes: 4 << 10}
	rc, _, err := sub.open(ctx, loc, Validators{})
	if err != nil {
		return nil, fmt.Errorf("reading signature %s: %w", loc, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading signature %s: %w", loc, err)
	}
	sig, err := DecodeSignature(b)
	if err != nil {
		return nil, fmt.Errorf("signature %s: %w", loc, err)
	}
	return sig, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	if rerr := os.Remove(t.Name()); err == nil && rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = rerr
	}
	return err
}

type stackCloser struct {
	io.Reader
	closers []io.Closer
}

func (s *stackCloser) Close() error {
	var errs []error
	for _, c := range s.closers {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
