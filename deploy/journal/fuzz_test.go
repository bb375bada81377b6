package journal_test

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/deploy/journal"
)

// FuzzOpen writes the fuzzer's lines as journal records (with correct
// checksums, so the decoder and the replay are reached) plus the raw input
// as a torn tail, and opens the journal: it must return a store or an
// error, never panic.
func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"kind":"create","id":"d","deployment":{"id":"d","patches":["P"],"policy":{},"created":"2026-03-02T09:00:00Z","start":"2026-03-02T09:00:00Z","stages":1,"status":"active"},"targets":[{"device":"a","stage":0}],"items":[{"device":"a","patch":"P","state":"posted","version":0}]}
{"kind":"apply","id":"d","batch":{"updates":[{"item":{"device":"a","patch":"P","state":"downloading","attempt":1,"version":1}}],"alerts":[{"id":"d/a/P/1","deployment":"d","kind":"download_initiated","level":"info","at":"2026-03-02T09:00:00Z"}]}}
{"kind":"acquire","id":"d","device":"a"}
{"kind":"ack","ack_ids":["d/a/P/1"]}
{"kind":"status","id":"d","status":{"status":"halted","alert":{"id":"h","deployment":"d","kind":"rollout_halted","level":"critical","at":"2026-03-02T09:00:00Z"}}}`))
	f.Add([]byte(`{"kind":"apply","id":"d"}`))
	f.Add([]byte(`{"kind":"create"}`))
	f.Add([]byte(`{"kind":"status","id":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var file bytes.Buffer
		for _, line := range bytes.Split(data, []byte("\n")) {
			fmt.Fprintf(&file, "%08x %s\n", crc32.Checksum(line, crc32.MakeTable(crc32.Castagnoli)), line)
		}
		file.Write(data) // a torn tail
		path := filepath.Join(t.TempDir(), "journal")
		if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := journal.Open(path, journal.WithoutSync())
		if err == nil {
			s.Close()
		}
	})
}
