package main

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"
)

// feedSite serves real feed files through http.ServeContent (ETag,
// Last-Modified, conditional and Range requests) and can cut the next
// response of a path short, as a dropped connection does.
type feedSite struct {
	mu    sync.Mutex
	files map[string][]byte
	cut   map[string]int
	log   []string // "METHOD PATH STATUS RANGE"
}

func (s *feedSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	body, ok := s.files[r.URL.Path]
	cut := s.cut[r.URL.Path]
	delete(s.cut, r.URL.Path)
	s.mu.Unlock()
	// The request is logged when its status is written, before the client
	// can see the response.
	cw := &cutWriter{ResponseWriter: w, left: cut, onStatus: func(status int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.log = append(s.log, r.URL.Path+" "+http.StatusText(status)+" "+r.Header.Get("Range"))
	}}
	if !ok {
		http.NotFound(cw, r)
		return
	}
	w.Header().Set("ETag", `"`+r.URL.Path+`-v1"`)
	http.ServeContent(cw, r, r.URL.Path, time.Date(2024, 1, 9, 8, 0, 0, 0, time.UTC), bytes.NewReader(body))
}

// requests returns the log so far and empties it.
func (s *feedSite) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.log
	s.log = nil
	return l
}

type cutWriter struct {
	http.ResponseWriter
	status   int
	left     int
	onStatus func(int)
}

func (c *cutWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.onStatus(code)
	}
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.left > 0 {
		if len(p) >= c.left {
			n, _ := c.ResponseWriter.Write(p[:c.left])
			c.left = -1
			return n, errors.New("connection dropped")
		}
		c.left -= len(p)
	} else if c.left < 0 {
		return 0, errors.New("connection dropped")
	}
	return c.ResponseWriter.Write(p)
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(samples.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFeedFetch(t *testing.T) {
	site := &feedSite{
		files: map[string][]byte{
			"/tracker/debsecan.sid": readSample(t, "debsecan/001.sid"),
			"/osv/GHSA.json":        readSample(t, firstOSVSample(t)),
			"/notes/readme.txt":     []byte("not a feed\n"),
		},
		cut: map[string]int{},
	}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "feeds")
	fetchCmd := func(extra ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		args := append([]string{"feed", "fetch", "--dir", dir}, extra...)
		code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, args)
		return code, out.String(), errOut.String()
	}
	sid, osv := srv.URL+"/tracker/debsecan.sid", srv.URL+"/osv/GHSA.json"

	code, out, errOut := fetchCmd(sid, osv, srv.URL+"/notes/readme.txt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"saved         " + filepath.Join(dir, "debsecan.sid") + "  " + sid + "  (",
		"zlib, format debsecan)",
		filepath.Join(dir, "GHSA.json"), "format osv)",
		"readme.txt", "format not recognised)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first fetch output lacks %q:\n%s", want, out)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "debsecan.sid")); !bytes.Equal(got, site.files["/tracker/debsecan.sid"]) {
		t.Errorf("saved debsecan.sid differs from the served file")
	}
	// Not a terminal: progress is plain lines ending at 100%.
	if !strings.Contains(errOut, "debsecan.sid: ") || !strings.Contains(errOut, "(100%)\n") || strings.Contains(errOut, "\r") {
		t.Errorf("progress on a non-terminal: %q; want plain lines", errOut)
	}

	// The directory holds the feeds and, hidden, what the next run sends back.
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".GHSA.json.fetch.json", ".debsecan.sid.fetch.json", ".readme.txt.fetch.json", "GHSA.json", "debsecan.sid", "readme.txt"}; !slices.Equal(names, want) {
		t.Errorf("directory holds %v, want %v", names, want)
	}

	// The saved feeds parse as the repository's copies do.
	var pout, perr bytes.Buffer
	if code := run(t.Context(), &env{stdout: &pout, stderr: &perr}, []string{"feed", "parse", filepath.Join(dir, "debsecan.sid")}); code != 0 ||
		!strings.Contains(pout.String(), "CVE-2005-3184") {
		t.Errorf("feed parse of the fetched file: exit %d, %s", code, perr.String())
	}

	// Second run: conditional requests, nothing transferred.
	site.requests()
	code, out, errOut = fetchCmd("--progress", "none", sid, osv)
	if code != 0 || strings.Count(out, "not modified  ") != 2 || errOut != "" {
		t.Errorf("second fetch: exit %d\nstdout %s\nstderr %s; want two not-modified lines", code, out, errOut)
	}
	for _, l := range site.requests() {
		if !strings.Contains(l, "Not Modified") {
			t.Errorf("second fetch request %q; want 304", l)
		}
	}
}

func firstOSVSample(t *testing.T) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(samples.Path(t, "debsecan/001.sid")), "..", "osv", "*.json"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no OSV sample: %v", err)
	}
	return "osv/" + filepath.Base(m[0])
}

func TestFeedFetchResumes(t *testing.T) {
	body := bytes.Repeat(readSample(t, "debsecan/001.sid"), 1)
	for len(body) < 300<<10 {
		body = append(body, body...)
	}
	site := &feedSite{files: map[string][]byte{"/big.sid": body}, cut: map[string]int{"/big.sid": 100 << 10}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"feed", "fetch", "--dir", dir, "--progress", "bar", srv.URL + "/big.sid"})
	if code != 1 || !strings.Contains(errOut.String(), "run the command again to resume") {
		t.Fatalf("interrupted fetch: exit %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "\rbig.sid [") {
		t.Errorf("--progress bar drew no bar: %q", errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"feed", "fetch", "--dir", dir, srv.URL + "/big.sid"})
	if code != 0 || !strings.Contains(out.String(), "resumed at ") {
		t.Fatalf("second fetch: exit %d, stdout %q, stderr %q; want a resumed download", code, out.String(), errOut.String())
	}
	if log := site.requests(); len(log) == 0 || !strings.Contains(log[len(log)-1], "Partial Content bytes=") {
		t.Errorf("requests %q; want the last a Range request answered 206", log)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "big.sid")); !bytes.Equal(got, body) {
		t.Errorf("resumed file differs from the served one (%d vs %d bytes)", len(got), len(body))
	}
}

func TestFeedFetchRefuses(t *testing.T) {
	site := &feedSite{files: map[string][]byte{"/a/feed.sid": readSample(t, "debsecan/001.sid"), "/b/feed.sid": []byte("x")}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"too large", []string{"--max-bytes", "100", srv.URL + "/a/feed.sid"}, 1, "limit 100: input too large"},
		{"wrong digest", []string{"--sha256", strings.Repeat("00", 32), srv.URL + "/a/feed.sid"}, 1, "checksum mismatch"},
		{"not found", []string{srv.URL + "/missing.sid"}, 1, "HTTP status 404"},
		{"no URL", nil, 2, "no URL given"},
		{"not http", []string{"/etc/passwd"}, 2, "want an http:// or https:// URL"},
		{"no file name", []string{srv.URL + "/"}, 2, "does not end in a file name"},
		{"same name twice", []string{srv.URL + "/a/feed.sid", srv.URL + "/b/feed.sid"}, 2, "would both be saved as feed.sid"},
		{"digest for two", []string{"--sha256", strings.Repeat("00", 32), srv.URL + "/a/feed.sid", srv.URL + "/x.sid"}, 2, "--sha256 checks one feed"},
		{"bad progress", []string{"--progress", "fancy", srv.URL + "/a/feed.sid"}, 2, `--progress "fancy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, append([]string{"feed", "fetch", "--dir", dir}, tt.args...))
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.code, tt.want)
			}
			if code == 1 {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					t.Errorf("%s left in the directory after a refused download", e.Name())
				}
			}
		})
	}
}
