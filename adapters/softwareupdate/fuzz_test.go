package softwareupdate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/commandtest"
)

func seeds(f *testing.F) {
	for _, name := range []string{"sonoma.txt", "mojave.txt", "none.txt", "applesilicon.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		recs, err := commandtest.Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range recs {
			f.Add(append(r.Stdout, r.Stderr...))
		}
	}
}

func FuzzParseList(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseList(b)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Label == "" || it.Title == "" || it.Size < 0 {
				t.Errorf("bad item %+v", it)
			}
			_ = toUpdate(it)
		}
	})
}

func FuzzParseHistory(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHistory(b)
		if err == nil {
			for _, e := range h {
				if e.Name == "" {
					t.Errorf("entry without name: %+v", e)
				}
			}
		}
	})
}

func FuzzStepResult(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		item, err := stepResult("x", swItem{}, "install", command.Result{Stdout: b, ExitCode: 1}, &command.ExitError{ExitCode: 1})
		if err == nil && item.Status != adapters.ItemFailed && item.Status != adapters.ItemNotApplicable {
			t.Errorf("exit 1 gave %q", item.Status)
		}
		_, _ = parseSwVers(b)
	})
}
