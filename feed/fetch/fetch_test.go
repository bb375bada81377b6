package fetch

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/patchcore/sdk/patchcore"
	"github.com/ulikunitz/xz"
)

const plain = "{\"hello\":\"feed\"}\n"

func compress(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch c {
	case None:
		return data
	case Gzip:
		w = gzip.NewWriter(&buf)
	case Zlib:
		w = zlib.NewWriter(&buf)
	case XZ:
		w, err = xz.NewWriter(&buf)
	case Zstd:
		w, err = zstd.NewWriter(&buf)
	case Bzip2:
		b, err := os.ReadFile("testdata/hello.json.bz2")
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != plain {
			t.Fatal("bzip2 fixture only holds the plain sample")
		}
		return b
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var allCompressions = []Compression{None, Gzip, Bzip2, XZ, Zstd, Zlib}

func TestDecompressByContent(t *testing.T) {
	for _, c := range allCompressions {
		t.Run(string(c), func(t *testing.T) {
			data := compress(t, c, []byte(plain))
			if got := Sniff(data); got != c {
				t.Fatalf("Sniff = %s, want %s", got, c)
			}
			rc, got, err := Decompress(bytes.NewReader(data), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if got != c {
				t.Errorf("compression = %s, want %s", got, c)
			}
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != plain {
				t.Errorf("content = %q, want %q", b, plain)
			}
		})
	}
}

func TestDecompressBadInput(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1<<20)
	tests := []struct {
		name    string
		data    []byte
		max     int64
		wantErr error
	}{
		{"truncated gzip", compress(t, Gzip, big)[:200], 0, patchcore.ErrMalformedFeed},
		{"truncated xz", compress(t, XZ, big)[:100], 0, patchcore.ErrMalformedFeed},
		{"truncated zstd", compress(t, Zstd, big)[:30], 0, patchcore.ErrMalformedFeed},
		{"truncated bzip2", compress(t, Bzip2, []byte(plain))[:20], 0, patchcore.ErrMalformedFeed},
		{"corrupt zlib", append([]byte{0x78, 0x9c}, bytes.Repeat([]byte{0xff}, 50)...), 0, patchcore.ErrMalformedFeed},
		{"gzip header only", []byte{0x1f, 0x8b, 8}, 0, patchcore.ErrMalformedFeed},
		{"gzip bomb", compress(t, Gzip, big), 1000, patchcore.ErrTooLarge},
		{"zstd bomb", compress(t, Zstd, big), 1000, patchcore.ErrTooLarge},
		{"plain over limit", big, 10, patchcore.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, _, err := Decompress(bytes.NewReader(tt.data), tt.max)
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDecompressExactLimit(t *testing.T) {
	rc, _, err := Decompress(strings.NewReader(plain), int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != plain {
		t.Fatalf("got %q, %v", b, err)
	}
}

// feedServer serves one document with an ETag and a Last-Modified date and
// honours conditional requests, counting full responses.
type feedServer struct {
	body  []byte
	sig   []byte
	full  atomic.Int32
	total atomic.Int32
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.total.Add(1)
	if strings.HasSuffix(r.URL.Path, ".sig") {
		if f.sig == nil {
			http.NotFound(w, r)
			return
		}
		w.Write(f.sig)
		return
	}
	const etag = `"v1"`
	const lm = "Tue, 09 Jan 2024 08:00:00 GMT"
	if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-Modified-Since") == lm {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.full.Add(1)
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", lm)
	w.Write(f.body)
}

func TestFetchHTTPConditional(t *testing.T) {
	for _, c := range allCompressions {
		t.Run(string(c), func(t *testing.T) {
			fs := &feedServer{body: compress(t, c, []byte(plain))}
			srv := httptest.NewServer(fs)
			defer srv.Close()
			var reports []Progress
			src := &Source{Location: srv.URL + "/feed", Client: srv.Client(), OnProgress: func(p Progress) { reports = append(reports, p) }}
			res, err := src.Fetch(context.Background(), Validators{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || string(b) != plain {
				t.Fatalf("body %q, %v", b, err)
			}
			if res.Compression != c {
				t.Errorf("compression %s, want %s", res.Compression, c)
			}
			if res.Validators.ETag != `"v1"` || res.Validators.LastModified == "" {
				t.Errorf("validators %+v", res.Validators)
			}
			if len(reports) == 0 || !reports[len(reports)-1].Done || reports[len(reports)-1].Read != int64(len(fs.body)) {
				t.Errorf("progress reports %+v, want a final Done with %d bytes", reports, len(fs.body))
			}
			res2, err := src.Fetch(context.Background(), res.Validators)
			if err != nil {
				t.Fatal(err)
			}
			if !res2.NotModified || res2.Body != nil {
				t.Errorf("second fetch: NotModified=%v Body=%v, want 304", res2.NotModified, res2.Body)
			}
			if fs.full.Load() != 1 {
				t.Errorf("server sent the full body %d times, want 1", fs.full.Load())
			}
		})
	}
}

func TestFetchSHA256(t *testing.T) {
	body := compress(t, Gzip, []byte(plain))
	sum := sha256.Sum256(body)
	srv := httptest.NewServer(&feedServer{body: body})
	defer srv.Close()
	tests := []struct {
		name    string
		sha     string
		wantErr error
	}{
		{"match", hex.EncodeToString(sum[:]), nil},
		{"match upper case", strings.ToUpper(hex.EncodeToString(sum[:])), nil},
		{"mismatch", strings.Repeat("0", 64), patchcore.ErrChecksumMismatch},
		{"not hex", "xyz", patchcore.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &Source{Location: srv.URL + "/feed.json.gz", Client: srv.Client(), SHA256: tt.sha}
			res, err := src.Fetch(context.Background(), Validators{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), srv.URL) {
					t.Errorf("error %q does not name the location", err)
				}
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if string(b) != plain {
				t.Errorf("body %q", b)
			}
		})
	}
}

func TestFetchSignature(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	body := compress(t, XZ, []byte(plain))
	sig, err := Sign(priv, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		name    string
		body    []byte
		sig     []byte
		pub     ed25519.PublicKey
		wantErr error
	}{
		{"valid base64", body, sig, pub, nil},
		{"valid raw", body, mustDecode(t, sig), pub, nil},
		{"tampered body", tampered, sig, pub, patchcore.ErrSignatureInvalid},
		{"other key", body, sig, otherPub, patchcore.ErrSignatureInvalid},
		{"garbage signature", body, []byte("not a signature"), pub, patchcore.ErrSignatureInvalid},
		{"missing signature", body, nil, pub, nil}, // 404: checked below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&feedServer{body: tt.body, sig: tt.sig})
			defer srv.Close()
			src := &Source{Location: srv.URL + "/feed.json.xz", Client: srv.Client(), PublicKey: tt.pub}
			res, err := src.Fetch(context.Background(), Validators{})
			if tt.sig == nil {
				if err == nil || !strings.Contains(err.Error(), "404") {
					t.Fatalf("err = %v, want a 404 for the signature", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if string(b) != plain {
					t.Errorf("body %q", b)
				}
			}
		})
	}
}

func mustDecode(t *testing.T, sig []byte) []byte {
	t.Helper()
	raw, err := DecodeSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestFetchLimitsAndErrors(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", "102400")
			w.Write(big)
		case "/chunked":
			w.(http.Flusher).Flush() // no Content-Length
			w.Write(big)
		case "/bomb":
			w.Write(compress(t, Gzip, big))
		case "/truncated":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("short"))
		default:
			http.Error(w, "gone", http.StatusGone)
		}
	}))
	defer srv.Close()
	tests := []struct {
		path    string
		max     int64
		wantErr error
		wantMsg string
	}{
		{"/big", 1000, patchcore.ErrTooLarge, "Content-Length"},
		{"/chunked", 1000, patchcore.ErrTooLarge, "1000"},
		{"/bomb", 2000, patchcore.ErrTooLarge, "decompressed"},
		{"/truncated", 0, io.ErrUnexpectedEOF, ""},
		{"/missing", 0, nil, "410 Gone"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			src := &Source{Location: srv.URL + tt.path, Client: srv.Client(), MaxBytes: tt.max}
			res, err := src.Fetch(context.Background(), Validators{})
			if err == nil {
				_, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	srv := httptest.NewServer(&feedServer{body: []byte(plain)})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Source{Location: srv.URL, Client: srv.Client()}).Fetch(ctx, Validators{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFetchLocalFile(t *testing.T) {
	dir := t.TempDir()
	data := compress(t, Zstd, []byte(plain))
	path := filepath.Join(dir, "feed.json.zst")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{1}, 64)))
	sig, _ := Sign(priv, bytes.NewReader(data))
	if err := os.WriteFile(path+".sig", sig, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{path, "file://" + path} {
		src := &Source{Location: loc, PublicKey: pub}
		res, err := src.Fetch(context.Background(), Validators{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != plain || res.Compression != Zstd {
			t.Fatalf("%s: body %q compression %s", loc, b, res.Compression)
		}
		res2, err := src.Fetch(context.Background(), res.Validators)
		if err != nil || !res2.NotModified {
			t.Fatalf("%s: refetch NotModified=%v err=%v", loc, res2 != nil && res2.NotModified, err)
		}
	}
	if _, err := (&Source{Location: filepath.Join(dir, "absent")}).Fetch(context.Background(), Validators{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: err = %v", err)
	}
	if _, err := (&Source{Location: path, MaxBytes: 3}).Fetch(context.Background(), Validators{}); !errors.Is(err, patchcore.ErrTooLarge) {
		t.Errorf("limit: err = %v", err)
	}
}

func FuzzDecompress(f *testing.F) {
	for _, c := range allCompressions {
		f.Add(compress(f, c, []byte(plain)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rc, _, err := Decompress(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	})
}

func FuzzDecodeSignature(f *testing.F) {
	f.Add([]byte("AAAA"))
	f.Add(bytes.Repeat([]byte{1}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := DecodeSignature(b)
		if err == nil && len(sig) != ed25519.SignatureSize {
			t.Fatalf("accepted %d-byte signature", len(sig))
		}
	})
}
