package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// rangeServer serves one document through http.ServeContent (ETag,
// Last-Modified, conditional and Range requests, If-Range) and can cut the
// next response short after a number of bytes, as a dropped connection does.
type rangeServer struct {
	mu       sync.Mutex
	body     []byte
	etag     string
	modified time.Time
	cutAfter int // >0: the next full or partial response stops after this many bytes
	requests []http.Header
	statuses []int
}

func (rs *rangeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	body, etag, mod, cut := rs.body, rs.etag, rs.modified, rs.cutAfter
	rs.cutAfter = 0
	rs.mu.Unlock()
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	// The request is logged when its status is written, before the client
	// can see the response.
	hdr := r.Header.Clone()
	rec := &statusRecorder{ResponseWriter: w, cut: cut, onStatus: func(code int) {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		rs.requests = append(rs.requests, hdr)
		rs.statuses = append(rs.statuses, code)
	}}
	http.ServeContent(rec, r, "feed.json", mod, bytes.NewReader(body))
}

func (rs *rangeServer) last() (http.Header, int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.requests[len(rs.requests)-1], rs.statuses[len(rs.statuses)-1]
}

// statusRecorder records the status and, with cut > 0, writes only that
// many body bytes (the Content-Length header still promises all of them).
type statusRecorder struct {
	http.ResponseWriter
	status   int
	cut      int
	written  int
	onStatus func(int)
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.onStatus(code)
	}
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if s.cut > 0 {
		room := s.cut - s.written
		if room <= 0 {
			return 0, errors.New("cut")
		}
		if len(p) > room {
			n, _ := s.ResponseWriter.Write(p[:room])
			s.written += n
			return n, errors.New("cut")
		}
	}
	n, err := s.ResponseWriter.Write(p)
	s.written += n
	return n, err
}

func bigBody(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		b.WriteString(`{"id":"GO-2024-` + strconv.Itoa(i) + `"}` + "\n")
	}
	return b.Bytes()[:n]
}

func TestDownloadConditional(t *testing.T) {
	rs := &rangeServer{body: bigBody(200 << 10), etag: `"v1"`, modified: time.Date(2024, 1, 9, 8, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "feed.json")
	var reports []Progress
	src := &Source{Location: srv.URL + "/feed.json", Client: srv.Client(), OnProgress: func(p Progress) { reports = append(reports, p) }}
	saved, err := src.Download(t.Context(), dst, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, rs.body) || saved.Size != int64(len(rs.body)) || saved.Resumed != 0 || saved.NotModified {
		t.Fatalf("saved %+v, file %d bytes; want the %d-byte document, not resumed", saved, len(got), len(rs.body))
	}
	if saved.Validators.ETag != `"v1"` || saved.Validators.LastModified != "Tue, 09 Jan 2024 08:00:00 GMT" {
		t.Errorf("validators %+v", saved.Validators)
	}
	if len(reports) < 2 || !reports[len(reports)-1].Done || reports[len(reports)-1].Total != int64(len(rs.body)) {
		t.Errorf("progress %+v, want several reports ending Done with total %d", reports, len(rs.body))
	}
	for _, leftover := range []string{dst + partialSuffix, dst + partialMetaSuffix} {
		if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", leftover, err)
		}
	}

	again, err := src.Download(t.Context(), dst, saved.Validators)
	if err != nil {
		t.Fatal(err)
	}
	hdr, status := rs.last()
	if !again.NotModified || status != http.StatusNotModified || hdr.Get("If-None-Match") != `"v1"` {
		t.Errorf("second download: %+v, status %d, If-None-Match %q; want 304", again, status, hdr.Get("If-None-Match"))
	}
	// Only Last-Modified: If-Modified-Since does it.
	onlyDate := Validators{LastModified: saved.Validators.LastModified}
	rs.etag = ""
	if again, err = src.Download(t.Context(), dst, onlyDate); err != nil || !again.NotModified {
		t.Errorf("download with Last-Modified only: %+v, %v; want not modified", again, err)
	}
}

func TestDownloadResume(t *testing.T) {
	tests := []struct {
		name        string
		etag        string
		change      bool // the document changes between the two attempts
		wantResumed bool
	}{
		{name: "strong etag", etag: `"v1"`, wantResumed: true},
		{name: "last-modified only", wantResumed: true},
		{name: "weak etag, last-modified", etag: `W/"v1"`, wantResumed: true},
		{name: "changed meanwhile", etag: `"v1"`, change: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bigBody(300 << 10)
			const cut = 100 << 10
			rs := &rangeServer{body: body, etag: tt.etag, modified: time.Date(2024, 1, 9, 8, 0, 0, 0, time.UTC), cutAfter: cut}
			srv := httptest.NewServer(rs)
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "feed.json")
			var reports []Progress
			src := &Source{Location: srv.URL + "/feed.json", Client: srv.Client(), OnProgress: func(p Progress) { reports = append(reports, p) }}

			_, err := src.Download(t.Context(), dst, Validators{})
			if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("interrupted download: %v, want an unexpected EOF naming the URL", err)
			}
			st, err := os.Stat(dst + partialSuffix)
			if err != nil || st.Size() == 0 || st.Size() > cut {
				t.Fatalf("partial file after the interruption: %v, %v; want 1..%d bytes", st, err, cut)
			}
			kept := st.Size()
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("destination exists after an interrupted download: %v", err)
			}

			if tt.change {
				rs.mu.Lock()
				rs.body = bigBody(310 << 10)
				rs.body[0] = '['
				rs.etag = `"v2"`
				rs.modified = rs.modified.Add(time.Hour)
				rs.mu.Unlock()
			}
			reports = nil
			saved, err := src.Download(t.Context(), dst, Validators{})
			if err != nil {
				t.Fatal(err)
			}
			hdr, status := rs.last()
			if hdr.Get("Range") != "bytes="+strconv.FormatInt(kept, 10)+"-" || hdr.Get("If-Range") == "" {
				t.Errorf("second request Range %q If-Range %q; want bytes=%d- with a validator", hdr.Get("Range"), hdr.Get("If-Range"), kept)
			}
			got, _ := os.ReadFile(dst)
			if !bytes.Equal(got, rs.body) {
				t.Fatalf("saved %d bytes differing from the %d-byte document", len(got), len(rs.body))
			}
			if tt.wantResumed {
				if status != http.StatusPartialContent || saved.Resumed != kept || saved.Size != int64(len(body)) {
					t.Errorf("status %d, saved %+v; want 206 resuming at %d", status, saved, kept)
				}
				if len(reports) == 0 || reports[0].Read <= kept || reports[len(reports)-1].Total != int64(len(body)) {
					t.Errorf("progress %+v; want counts from %d to the total %d", reports, kept, len(body))
				}
			} else if status != http.StatusOK || saved.Resumed != 0 {
				t.Errorf("status %d, saved %+v; want the changed document whole (200, not resumed)", status, saved)
			}
			if _, err := os.Stat(dst + partialMetaSuffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("partial metadata left behind: %v", err)
			}
		})
	}
}

func TestDownloadRefuses(t *testing.T) {
	body := bigBody(64 << 10)
	sum := sha256.Sum256(body)
	tests := []struct {
		name    string
		src     Source
		partial int // bytes of an earlier partial download to leave in place
		want    error
	}{
		{name: "larger than the limit", src: Source{MaxBytes: 1000}, want: patchcore.ErrTooLarge},
		{name: "resumed total larger than the limit", src: Source{MaxBytes: 60 << 10}, partial: 10 << 10, want: patchcore.ErrTooLarge},
		{name: "digest mismatch", src: Source{SHA256: strings.Repeat("00", 32)}, want: patchcore.ErrChecksumMismatch},
		{name: "digest mismatch after resume", src: Source{SHA256: strings.Repeat("ab", 32)}, partial: 1 << 10, want: patchcore.ErrChecksumMismatch},
		{name: "bad digest", src: Source{SHA256: "xyz"}, want: patchcore.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := &rangeServer{body: body, etag: `"v1"`, modified: time.Now()}
			srv := httptest.NewServer(rs)
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "feed.json")
			src := tt.src
			src.Location, src.Client = srv.URL+"/feed.json", srv.Client()
			if tt.partial > 0 {
				if err := os.WriteFile(dst+partialSuffix, body[:tt.partial], 0o644); err != nil {
					t.Fatal(err)
				}
				if err := writeMeta(dst+partialMetaSuffix, partialMeta{Location: src.Location, Validators: Validators{ETag: `"v1"`}}); err != nil {
					t.Fatal(err)
				}
			}
			_, err := src.Download(t.Context(), dst, Validators{})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), src.Location) {
				t.Fatalf("err = %v, want %v naming the URL", err, tt.want)
			}
			for _, p := range []string{dst, dst + partialSuffix} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists after a refused download: %v", p, err)
				}
			}
		})
	}
	// The right digest, resumed, passes.
	rs := &rangeServer{body: body, etag: `"v1"`, modified: time.Now()}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "feed.json")
	src := Source{Location: srv.URL + "/feed.json", Client: srv.Client(), SHA256: hex.EncodeToString(sum[:])}
	os.WriteFile(dst+partialSuffix, body[:1000], 0o644)
	writeMeta(dst+partialMetaSuffix, partialMeta{Location: src.Location, Validators: Validators{ETag: `"v1"`}})
	if saved, err := src.Download(t.Context(), dst, Validators{}); err != nil || saved.Resumed != 1000 {
		t.Errorf("resumed download with the right digest: %+v, %v", saved, err)
	}
}

// TestDownloadBadServer covers answers a resuming client must not trust.
func TestDownloadBadServer(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    error
		wantMsg string
	}{
		{"range from the wrong offset", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes 0-9/10")
			w.WriteHeader(http.StatusPartialContent)
			w.Write([]byte("0123456789"))
		}, patchcore.ErrMalformedFeed, "Content-Range"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}, nil, "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			dst := filepath.Join(t.TempDir(), "feed.json")
			src := Source{Location: srv.URL + "/feed.json", Client: srv.Client()}
			os.WriteFile(dst+partialSuffix, []byte("01234"), 0o644)
			writeMeta(dst+partialMetaSuffix, partialMeta{Location: src.Location, Validators: Validators{ETag: `"v1"`}})
			_, err := src.Download(t.Context(), dst, Validators{})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tt.want, tt.wantMsg)
			}
		})
	}
}

func TestDownloadRangeNotSatisfiable(t *testing.T) {
	body := bigBody(1000)
	rs := &rangeServer{body: body, etag: `"v1"`, modified: time.Now()}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "feed.json")
	src := Source{Location: srv.URL + "/feed.json", Client: srv.Client()}
	// A partial file longer than the document now is: 416, then a fresh download.
	os.WriteFile(dst+partialSuffix, bigBody(2000), 0o644)
	writeMeta(dst+partialMetaSuffix, partialMeta{Location: src.Location, Validators: Validators{ETag: `"v1"`}})
	saved, err := src.Download(t.Context(), dst, Validators{})
	if err != nil || saved.Resumed != 0 {
		t.Fatalf("saved %+v, %v; want a fresh download", saved, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, body) {
		t.Errorf("saved %d bytes, want the %d-byte document", len(got), len(body))
	}
}

func TestDownloadOtherLocationStartsOver(t *testing.T) {
	body := bigBody(5000)
	rs := &rangeServer{body: body, etag: `"v1"`, modified: time.Now()}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "feed.json")
	os.WriteFile(dst+partialSuffix, []byte("garbage"), 0o644)
	writeMeta(dst+partialMetaSuffix, partialMeta{Location: srv.URL + "/other.json", Validators: Validators{ETag: `"v1"`}})
	src := Source{Location: srv.URL + "/feed.json", Client: srv.Client()}
	saved, err := src.Download(t.Context(), dst, Validators{})
	if err != nil || saved.Resumed != 0 {
		t.Fatalf("saved %+v, %v", saved, err)
	}
	if hdr, _ := rs.last(); hdr.Get("Range") != "" {
		t.Errorf("sent Range %q for a partial file of another location", hdr.Get("Range"))
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, body) {
		t.Errorf("saved %d bytes, want the %d-byte document", len(got), len(body))
	}
}

func TestDownloadCancelledKeepsPartial(t *testing.T) {
	body := bigBody(1 << 20)
	ctx, cancel := context.WithCancel(t.Context())
	rs := &rangeServer{body: body, etag: `"v1"`, modified: time.Now()}
	srv := httptest.NewServer(rs)
	defer srv.Close()
	dst := filepath.Join(t.TempDir(), "feed.json")
	src := Source{Location: srv.URL + "/feed.json", Client: srv.Client(), OnProgress: func(p Progress) {
		if p.Read > 200<<10 {
			cancel()
		}
	}}
	if _, err := src.Download(ctx, dst, Validators{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if st, err := os.Stat(dst + partialSuffix); err != nil || st.Size() == 0 {
		t.Fatalf("no partial file after cancellation: %v", err)
	}
	saved, err := src.Download(t.Context(), dst, Validators{})
	if err != nil || saved.Resumed == 0 {
		t.Fatalf("saved %+v, %v; want a resumed download", saved, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, body) {
		t.Errorf("saved %d bytes, want the %d-byte document", len(got), len(body))
	}
}

func TestDownloadLocalFile(t *testing.T) {
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "in.json.gz")
	body := compress(t, Gzip, []byte(plain))
	os.WriteFile(srcPath, body, 0o644)
	dst := filepath.Join(dir, "out.json.gz")
	src := Source{Location: srcPath}
	saved, err := src.Download(t.Context(), dst, Validators{})
	if err != nil || saved.Compression != Gzip || saved.Size != int64(len(body)) {
		t.Fatalf("saved %+v, %v", saved, err)
	}
	again, err := src.Download(t.Context(), dst, saved.Validators)
	if err != nil || !again.NotModified {
		t.Errorf("second copy %+v, %v; want not modified", again, err)
	}
	if _, err := (&Source{Location: filepath.Join(dir, "missing")}).Download(t.Context(), dst, Validators{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in           string
		start, total int64
		bad          bool
	}{
		{in: "bytes 100-199/200", start: 100, total: 200},
		{in: "bytes 0-0/1", start: 0, total: 1},
		{in: "bytes 5-9/*", start: 5, total: -1},
		{in: "bytes 100-199/150", bad: true},
		{in: "bytes 9-5/20", bad: true},
		{in: "items 0-1/2", bad: true},
		{in: "bytes 0-1", bad: true},
		{in: "bytes x-1/2", bad: true},
		{in: "", bad: true},
	}
	for _, tt := range tests {
		start, total, err := parseContentRange(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("%q: no error", tt.in)
			}
			continue
		}
		if err != nil || start != tt.start || total != tt.total {
			t.Errorf("%q = %d, %d, %v; want %d, %d", tt.in, start, total, err, tt.start, tt.total)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 100-199/200", "bytes 5-9/*", "bytes 0-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, total, err := parseContentRange(s)
		if err == nil && (start < 0 || (total != -1 && total <= start)) {
			t.Fatalf("%q = %d, %d without error", s, start, total)
		}
	})
}
