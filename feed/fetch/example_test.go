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
