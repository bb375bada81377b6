package choco

import (
	"os"
	"path/filepath"
	"testing"
)

func addTestdata(f *testing.F) {
	for _, name := range []string{"choco2.txt", "choco1.txt", "upgrades.txt", "locked.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("git|2.43.0|2.44.0|true\n"))
	f.Add([]byte("|||\n"))
}

func FuzzParseList(f *testing.F) {
	addTestdata(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseList(b)
		if err == nil {
			for _, p := range pkgs {
				if p.Name == "" || p.Version == "" {
					t.Errorf("empty field in %+v", p)
				}
			}
		}
	})
}

func FuzzParseOutdated(f *testing.F) {
	addTestdata(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseOutdated(b)
		if err == nil {
			for _, p := range pkgs {
				if p.Name == "" || p.Current == "" || p.Available == "" {
					t.Errorf("empty field in %+v", p)
				}
			}
		}
	})
}

func FuzzParseUpgrade(f *testing.F) {
	addTestdata(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r := parseUpgrade(b)
		if r.Total < -1 {
			t.Errorf("Total = %d", r.Total)
		}
		_, _ = upgradeResult("git", 1603, r)
	})
}
