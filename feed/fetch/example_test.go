package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/patchcore/sdk/feed/fetch"
)

func ExampleSource_Fetch() {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	zw.Write([]byte(`{"id": "GO-2024-2687"}`))
	zw.Close()
	sum := sha256.Sum256(body.Bytes())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write(body.Bytes())
	}))
	defer srv.Close()

	src := &fetch.Source{Location: srv.URL + "/feed.json.gz", Client: srv.Client(), SHA256: hex.EncodeToString(sum[:])}
	res, err := src.Fetch(context.Background(), fetch.Validators{})
	if err != nil {
		fmt.Println(err)
		return
	}
	doc, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Compression, string(doc))

	// Next time, send back what the server said: an unchanged feed is not downloaded again.
	again, err := src.Fetch(context.Background(), res.Validators)
	fmt.Println(again.NotModified, err)
	// Output:
	// gzip {"id": "GO-2024-2687"}
	// true <nil>
}

// Download saves a feed to a file; the next Download sends the validators
// back, and an unchanged feed is not transferred again. An interrupted
// download leaves FILE.part behind and the next Download resumes it.
func ExampleSource_Download() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "feed.json", time.Date(2024, 1, 9, 8, 0, 0, 0, time.UTC),
			strings.NewReader(`{"id": "GO-2024-2687"}`))
	}))
	defer srv.Close()
	dir, err := os.MkdirTemp("", "feeds")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	src := &fetch.Source{Location: srv.URL + "/feed.json", Client: srv.Client(), MaxBytes: 1 << 20}
	saved, err := src.Download(context.Background(), filepath.Join(dir, "feed.json"), fetch.Validators{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(saved.Path), saved.Size, "bytes, etag", saved.Validators.ETag)

	again, err := src.Download(context.Background(), saved.Path, saved.Validators)
	fmt.Println("not modified:", again.NotModified, err)
	// Output:
	// feed.json 22 bytes, etag "v1"
	// not modified: true <nil>
}
