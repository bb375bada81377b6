// Package samples locates the real vendor and peer files that tests read.
// They live in the repository's testdata/feeds folder, with their origin and
// licence in testdata/feeds/SOURCES.md, so every test runs in a fresh clone.
package samples

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the absolute path of the repository's testdata/feeds folder.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testdata", "feeds")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "feeds")
}

// Path returns the path of the sample rel (slash-separated, relative to
// testdata/feeds) and fails the test when it does not exist: a missing
// sample is a broken checkout, never a reason to skip.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s: %v", rel, err)
	}
	return p
}
