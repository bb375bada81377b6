// Package feedtest holds the checks every feed parser's tests share: read a
// sample, run a parser over hostile input and require a located error (never
// a panic), and measure throughput.
package feedtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

// Shared returns the path of a real sample under the repository's
// testdata/feeds folder, failing the test when it is missing.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	return samples.Path(t, rel)
}

// Parse runs f over data and returns the patches it emitted.
func Parse(t testing.TB, f feed.Format, data []byte) ([]patchcore.Patch, error) {
	t.Helper()
	var out []patchcore.Patch
	err := f.Parse(context.Background(), bytes.NewReader(data), func(p patchcore.Patch) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// ParseFile reads path and runs f over it, failing the test on error.
func ParseFile(t testing.TB, f feed.Format, path string) []patchcore.Patch {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Detect(head(data)) {
		t.Errorf("%s: Detect(%s) = false", f.Name(), path)
	}
	ps, err := Parse(t, f, data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ps
}

func head(b []byte) []byte {
	if len(b) > 8192 {
		return b[:8192]
	}
	return b
}

// Find returns the patch with the given ID, failing the test when absent.
func Find(t testing.TB, ps []patchcore.Patch, id string) patchcore.Patch {
	t.Helper()
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	ids := make([]string, 0, len(ps))
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	t.Fatalf("no patch %q among %d: %s", id, len(ps), strings.Join(ids, " "))
	return patchcore.Patch{}
}

// Bad is a hostile or broken document and what its error must say.
type Bad struct {
	Name string
	Data []byte
	// Want is a substring of the error message ("line 3", "offset", a field).
	Want string
	// TooLarge requires patchcore.ErrTooLarge instead of ErrMalformedFeed.
	TooLarge bool
}

// CheckBad runs f over each case and requires a *feed.ParseError wrapping
// patchcore.ErrMalformedFeed (or ErrTooLarge) whose message contains Want.
func CheckBad(t *testing.T, f feed.Format, cases []Bad) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			_, err := Parse(t, f, c.Data)
			if err == nil {
				t.Fatal("no error")
			}
			var pe *feed.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
			}
			want := patchcore.ErrMalformedFeed
			if c.TooLarge {
				want = patchcore.ErrTooLarge
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v does not wrap %v", err, want)
			}
			if pe.Line == 0 && pe.Offset == 0 && len(c.Data) > 0 {
				t.Errorf("error %v has no position", err)
			}
			if !strings.Contains(err.Error(), c.Want) {
				t.Errorf("error %q does not mention %q", err, c.Want)
			}
		})
	}
}

// XMLHostile returns hostile XML documents that open with root: deep
// nesting, a huge attribute, billion-laughs entities, an external entity,
// truncation and bytes that are not XML.
func XMLHostile(root string) []Bad {
	open := "<" + root + ">"
	deep := open + strings.Repeat("<a>", 2000) + strings.Repeat("</a>", 2000) + "</" + root + ">"
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
` + open + `<x>&lol3;</x></` + root + ">"
	xxe := `<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
` + open + `<x>&xxe;</x></` + root + ">"
	return []Bad{
		{Name: "deep nesting", Data: []byte(deep), Want: "nested", TooLarge: true},
		{Name: "huge attribute", Data: []byte(open + "\n<x a=\"" + strings.Repeat("A", 65<<10) + "\"/></" + root + ">"), Want: ":2:", TooLarge: true},
		{Name: "billion laughs", Data: []byte(laughs), Want: ":4:"},
		{Name: "external entity", Data: []byte(xxe), Want: ":3:"},
		{Name: "truncated", Data: []byte(open + "<x>abc"), Want: ":1:"},
		{Name: "mismatched", Data: []byte(open + "\n<x></y>"), Want: ":2:"},
		{Name: "binary", Data: []byte{0x00, 0xff, 0xfe, 0x01}, Want: ""},
		{Name: "empty", Data: nil, Want: ""},
	}
}

// JSONHostile returns hostile JSON documents: deep nesting, truncation,
// wrong types and bytes that are not JSON.
func JSONHostile() []Bad {
	return []Bad{
		{Name: "deep nesting", Data: []byte(`{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "}"), Want: "offset"},
		{Name: "truncated", Data: []byte(`{"id": "X-1", "affected": [`), Want: "offset"},
		{Name: "garbage", Data: []byte("\x00\xff\x01"), Want: "offset"},
		{Name: "wrong root", Data: []byte(`[1,2]`), Want: "offset"},
		{Name: "trailing garbage", Data: []byte(`{} xx`), Want: "offset"},
	}
}

// Bench measures f parsing data: throughput (b.SetBytes) and allocations
// and, for documents of 1 MiB or more, the peak heap in use while parsing
// beyond what was in use before ("peak-heap-MB", sampled every 2 ms; it
// includes garbage not yet collected, so it is what the process needs, not
// only what the parser holds).
func Bench(b *testing.B, f feed.Format, data []byte) {
	b.Helper()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	parse := func() {
		if err := f.Parse(context.Background(), bytes.NewReader(data), func(patchcore.Patch) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := cpuTime()
	defer func() {
		if secs := (cpuTime() - cpu0).Seconds(); secs > 0 {
			// Throughput over the CPU time the process used: on a shared
			// machine, wall-clock MB/s says more about the neighbours.
			b.ReportMetric(float64(len(data))*float64(b.N)/secs/1e6, "MB/cpu-s")
		}
	}()
	if len(data) < 1<<20 {
		for b.Loop() {
			parse()
		}
		return
	}
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	for b.Loop() {
		parse()
	}
	close(stop)
	<-done
	b.ReportMetric(float64(max(int64(peak.Load())-int64(base), 0))/(1<<20), "peak-heap-MB")
}
