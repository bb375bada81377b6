package brew

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters/commandtest"
)

func seeds(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "sonoma.txt"))
	if err != nil {
		f.Fatal(err)
	}
	recs, err := commandtest.Parse(data)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range recs {
		f.Add(r.Stdout, 0)
		f.Add(r.Stderr, 1)
	}
	f.Add([]byte(`{"casks":[{"name":"a","installed_versions":"1","current_version":"2"}]}`), 0)
}

func FuzzParseOutdated(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte, _ int) {
		items, err := parseOutdated(b)
		if err == nil {
			for _, it := range items {
				if it.Name == "" || it.CurrentVersion == "" {
					t.Errorf("empty field in %+v", it)
				}
			}
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte, _ int) {
		items, err := parseInfo(b)
		if err == nil {
			for _, it := range items {
				if it.Name == "" || it.Version == "" {
					t.Errorf("empty field in %+v", it)
				}
			}
		}
	})
}

func FuzzUpgradeResult(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte, exit int) {
		item, err := upgradeResult("x", exit, b)
		if err == nil && item.Status == "" {
			t.Error("no status")
		}
	})
}
