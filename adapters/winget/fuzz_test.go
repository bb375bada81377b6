package winget

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters/commandtest"
)

func FuzzParseTables(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "win11.txt"))
	if err != nil {
		f.Fatal(err)
	}
	recs, err := commandtest.Parse(data)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range recs {
		f.Add(r.Stdout)
	}
	f.Add([]byte("Name Id\n---\n微信 X\n\x1b[31m\r\b\b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tables, err := parseTables(b)
		if err != nil {
			return
		}
		for _, tb := range tables {
			for _, r := range tb.Rows {
				if len(r) != len(tb.Header) {
					t.Fatalf("row %q has %d cells, header %d", r, len(r), len(tb.Header))
				}
			}
		}
		rows := tableRows(tables)
		_ = resolveTruncated(rows, rows)
		_, _ = itemResult("x", 0x8A150101, b)
	})
}
