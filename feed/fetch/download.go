package fetch

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// Saved is the outcome of [Source.Download].
type Saved struct {
	// NotModified reports that the document did not change since the
	// Validators given to Download; the file was left as it was.
	NotModified bool
	// Path is the file the document was saved to.
	Path string
	// Size is the size of the saved file (the document as transferred);
	// -1 when NotModified.
	Size int64
	// Resumed is how many bytes of an interrupted earlier download were
	// kept instead of transferred again; 0 when the download started over.
	Resumed int64
	// Compression is what the saved bytes are compressed with.
	Compression Compression
	// Validators to store and pass to the next Download.
	Validators Validators
}

// partialSuffix and partialMetaSuffix name the files an interrupted
// download leaves beside its destination: the bytes so far and what the
// server said about them.
const (
	partialSuffix     = ".part"
	partialMetaSuffix = ".part.json"
)

// partialMeta is what Download needs to resume: the location and the
// validators of the document the partial bytes belong to.
type partialMeta struct {
	Location string `json:"location"`
	Validators
}

// Download saves the document at the Source's location to the file path,
// as transferred (a compressed feed stays compressed; see [Decompress]).
//
// With prev from an earlier Saved, an unchanged document gives NotModified
// and leaves path alone. The bytes arrive in path+".part"; an interrupted
// download keeps them, with the server's validators in path+".part.json",
// and the next Download of the same location resumes with an HTTP Range
// request guarded by If-Range, so a document that changed meanwhile is
// transferred whole. MaxBytes bounds the whole document, resumed bytes
// included. The SHA256 digest and the signature, when set, are checked over
// the complete file before it is renamed to path; a file that fails them
// is removed. Local files are copied (no resume). Errors name the location
// and wrap patchcore.ErrTooLarge, ErrChecksumMismatch or
// ErrSignatureInvalid where those apply.
func (s *Source) Download(ctx context.Context, path string, prev Validators) (*Saved, error) {
	if s.Location == "" {
		return nil, fmt.Errorf("fetch: empty location: %w", patchcore.ErrInvalidInput)
	}
	if path == "" {
		return nil, fmt.Errorf("fetch %s: empty destination path: %w", s.Location, patchcore.ErrInvalidInput)
	}
	saved, err := s.download(ctx, path, prev)
	if err != nil {
		return nil, fmt.Errorf("downloading %s to %s: %w", s.Location, path, err)
	}
	return saved, nil
}

func (s *Source) download(ctx context.Context, path string, prev Validators) (*Saved, error) {
	part, metaPath := path+partialSuffix, path+partialMetaSuffix
	var (
		raw    io.ReadCloser
		res    *Result
		offset int64
		err    error
	)
	if isHTTP(s.Location) {
		raw, res, offset, err = s.openResumable(ctx, part, metaPath, prev)
	} else {
		raw, res, err = s.openFile(s.Location, prev)
	}
	if errors.Is(err, patchcore.ErrTooLarge) {
		// The partial bytes are of no use for a document over the limit.
		os.Remove(part)
		os.Remove(metaPath)
	}
	if err != nil {
		return nil, err
	}
	if res.NotModified {
		// The partial bytes (if any) belong to a version we need not fetch.
		os.Remove(part)
		os.Remove(metaPath)
		return &Saved{NotModified: true, Path: path, Size: -1, Validators: res.Validators}, nil
	}
	defer raw.Close()
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if offset > 0 {
		flags = os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return nil, err
	}
	if isHTTP(s.Location) && (res.Validators.ETag != "" || res.Validators.LastModified != "") {
		if err := writeMeta(metaPath, partialMeta{Location: s.Location, Validators: res.Validators}); err != nil {
			f.Close()
			return nil, err
		}
	} else {
		// Without validators the partial bytes cannot be resumed safely.
		os.Remove(metaPath)
	}
	n, err := io.Copy(f, ctxReader{ctx, raw})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, patchcore.ErrTooLarge) {
			os.Remove(part)
			os.Remove(metaPath)
		}
		return nil, err
	}
	size := offset + n
	comp, err := s.checkSaved(ctx, part)
	if err != nil {
		os.Remove(part)
		os.Remove(metaPath)
		return nil, err
	}
	if err := os.Rename(part, path); err != nil {
		return nil, err
	}
	os.Remove(metaPath)
	return &Saved{Path: path, Size: size, Resumed: offset, Compression: comp, Validators: res.Validators}, nil
}

// openResumable sends the request: a conditional one with prev and, when a
// partial download of the same location exists, a Range request for the
// rest guarded by If-Range. It returns the body, the offset it continues
// from (0 when the server sent the whole document) and the result headers.
func (s *Source) openResumable(ctx context.Context, part, metaPath string, prev Validators) (io.ReadCloser, *Result, int64, error) {
	offset, ifRange := resumePoint(part, metaPath, s.Location)
	hdr := http.Header{}
	if offset > 0 {
		hdr.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
		hdr.Set("If-Range", ifRange)
	}
	resp, err := s.get(ctx, s.Location, prev, hdr)
	if err != nil {
		return nil, nil, 0, err
	}
	v := Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	var length int64
	switch resp.StatusCode {
	case http.StatusNotModified:
		resp.Body.Close()
		if v == (Validators{}) {
			v = prev
		}
		return nil, &Result{NotModified: true, Validators: v, Size: -1}, 0, nil
	case http.StatusOK:
		offset, length = 0, resp.ContentLength
	case http.StatusPartialContent:
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || offset == 0 || start != offset {
			resp.Body.Close()
			return nil, nil, 0, fmt.Errorf("server answered a request for bytes %d- with Content-Range %q: %w",
				offset, resp.Header.Get("Content-Range"), patchcore.ErrMalformedFeed)
		}
		length = total
		if length < 0 && resp.ContentLength >= 0 {
			length = offset + resp.ContentLength
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The partial file is not a prefix of what the server has now:
		// start over without it.
		resp.Body.Close()
		if offset == 0 {
			return nil, nil, 0, fmt.Errorf("HTTP status %s to a request without Range", resp.Status)
		}
		os.Remove(part)
		os.Remove(metaPath)
		return s.openResumable(ctx, part, metaPath, prev)
	default:
		resp.Body.Close()
		return nil, nil, 0, fmt.Errorf("HTTP status %s", resp.Status)
	}
	if length > s.maxBytes() {
		resp.Body.Close()
		return nil, nil, 0, fmt.Errorf("document is %d bytes, limit %d: %w", length, s.maxBytes(), patchcore.ErrTooLarge)
	}
	rc := &countingReader{rc: resp.Body, loc: s.Location, n: offset, lastRep: offset, total: length,
		max: s.maxBytes(), progress: s.OnProgress}
	return rc, &Result{Validators: v, Size: length}, offset, nil
}

// resumePoint returns how many bytes of a partial download of loc can be
// kept and the If-Range value that guards them; 0 when there is nothing to
// resume (no partial file, another location, or no validator a server can
// compare: a weak ETag never matches If-Range).
func resumePoint(part, metaPath, loc string) (int64, string) {
	st, err := os.Stat(part)
	if err != nil || st.Size() == 0 {
		return 0, ""
	}
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return 0, ""
	}
	var m partialMeta
	if json.Unmarshal(b, &m) != nil || m.Location != loc {
		return 0, ""
	}
	switch {
	case m.ETag != "" && !strings.HasPrefix(m.ETag, "W/"):
		return st.Size(), m.ETag
	case m.LastModified != "":
		return st.Size(), m.LastModified
	}
	return 0, ""
}

// parseContentRange reads "bytes START-END/TOTAL" (TOTAL may be "*", then -1).
func parseContentRange(v string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("not a byte range: %q", v)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("no total: %q", v)
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("no range: %q", v)
	}
	if start, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, err
	}
	end, err := strconv.ParseInt(last, 10, 64)
	if err != nil || end < start {
		return 0, 0, fmt.Errorf("bad range %q", rng)
	}
	if tot == "*" {
		return start, -1, nil
	}
	if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total <= end {
		return 0, 0, fmt.Errorf("bad total %q", tot)
	}
	return start, total, nil
}

// checkSaved verifies the complete file against the digest and signature
// the Source expects and sniffs its compression.
func (s *Source) checkSaved(ctx context.Context, path string) (Compression, error) {
	var want []byte
	if s.SHA256 != "" {
		var err error
		want, err = hex.DecodeString(strings.TrimSpace(s.SHA256))
		if err != nil || len(want) != sha256.Size {
			return "", fmt.Errorf("expected SHA-256 %q is not 64 hex digits: %w", s.SHA256, patchcore.ErrInvalidInput)
		}
	}
	var sig []byte
	if s.PublicKey != nil {
		if len(s.PublicKey) != ed25519.PublicKeySize {
			return "", fmt.Errorf("public key has %d bytes, want %d: %w", len(s.PublicKey), ed25519.PublicKeySize, patchcore.ErrInvalidInput)
		}
		var err error
		if sig, err = s.signature(ctx); err != nil {
			return "", err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	comp := Sniff(head[:n])
	if want == nil && sig == nil {
		return comp, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h256, h512 := sha256.New(), sha512.New()
	if _, err := io.Copy(io.MultiWriter(h256, h512), ctxReader{ctx, f}); err != nil {
		return "", err
	}
	if want != nil {
		if got := h256.Sum(nil); !hmacEqual(got, want) {
			return "", fmt.Errorf("SHA-256 is %x, want %x: %w", got, want, patchcore.ErrChecksumMismatch)
		}
	}
	if sig != nil {
		if err := verifyDigest(s.PublicKey, h512, sig); err != nil {
			return "", err
		}
	}
	return comp, nil
}

func writeMeta(path string, m partialMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
