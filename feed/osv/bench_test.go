package osv_test

import (
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/osv"
)

func benchParse(b *testing.B, data []byte) { feedtest.Bench(b, osv.Format{}, data) }

func BenchmarkParse(b *testing.B) {
	var all []string
	for _, f := range []string{"ubuntu/USN-5614-1.osv.json", "rocky/RLSA-2023_3220.osv.json", "osv/GO-2024-2687.json", "osv/PYSEC-2023-120.json"} {
		data, err := os.ReadFile(feedtest.Shared(b, f))
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, string(data))
		b.Run(f, func(b *testing.B) { benchParse(b, data) })
	}
	// A 21 MB array of the samples, the shape of an OSV bulk export.
	one := strings.Join(all, ",")
	big := "[" + strings.Repeat(one+",", 900) + one + "]"
	b.Run("generated21MB", func(b *testing.B) { benchParse(b, []byte(big)) })
}
