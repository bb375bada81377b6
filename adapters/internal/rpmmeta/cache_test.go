package rpmmeta

import (
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func writeUpdateInfo(t *testing.T, path, id, pkg string, mtime time.Time) {
	t.Helper()
	doc := strings.NewReplacer("RLSA-2024:1234", id, `name="y"`, `name="`+pkg+`"`).Replace(advisoryXML)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateInfoCache(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a-updateinfo.xml.gz"), filepath.Join(dir, "b-updateinfo.xml.gz")
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	writeUpdateInfo(t, a, "A-1", "y", t0)
	writeUpdateInfo(t, b, "B-1", "z", t0)
	var c UpdateInfoCache

	ids := func(idx Index, name string) string {
		var s []string
		for _, adv := range idx.Lookup(name, "2-3", "x86_64") {
			s = append(s, adv.ID)
		}
		return strings.Join(s, ",")
	}
	first, err := c.Index([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if ids(first, "y") != "A-1" || ids(first, "z") != "B-1" || ids(first, "x") != "" {
		t.Fatalf("index = %v", first)
	}
	if x := first.Lookup("x", "1:2-3", "noarch"); len(x) != 2 {
		t.Errorf("x is in both files' advisories, index has %d", len(x))
	}

	t.Run("unchanged files give the same index", func(t *testing.T) {
		again, err := c.Index([]string{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Lookup("y", "2-3", "x86_64")) == 0 || again.Lookup("y", "2-3", "x86_64")[0] != first.Lookup("y", "2-3", "x86_64")[0] {
			t.Error("the index was rebuilt for unchanged files")
		}
	})
	t.Run("a subset is indexed from the cache", func(t *testing.T) {
		idx, err := c.Index([]string{b})
		if err != nil {
			t.Fatal(err)
		}
		if ids(idx, "y") != "" || ids(idx, "z") != "B-1" {
			t.Errorf("index of b alone = %v", idx)
		}
	})
	t.Run("a rewritten file is read again", func(t *testing.T) {
		writeUpdateInfo(t, a, "A-2", "y", t0.Add(time.Second))
		idx, err := c.Index([]string{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if ids(idx, "y") != "A-2" || ids(idx, "z") != "B-1" {
			t.Errorf("after rewriting a: y %q, z %q", ids(idx, "y"), ids(idx, "z"))
		}
	})
	t.Run("a file replaced by rename with the same size and time is read again", func(t *testing.T) {
		tmp := filepath.Join(dir, "new.gz")
		writeUpdateInfo(t, tmp, "A-3", "y", t0.Add(time.Second))
		if err := os.Rename(tmp, a); err != nil {
			t.Fatal(err)
		}
		idx, err := c.Index([]string{a, b})
		if err != nil {
			t.Fatal(err)
		}
		if ids(idx, "y") != "A-3" {
			t.Errorf("after replacing a: y %q, want A-3", ids(idx, "y"))
		}
	})
	t.Run("a missing file is an error and leaves the cache", func(t *testing.T) {
		if err := os.Remove(b); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Index([]string{a, b}); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Index with a missing file: %v, want fs.ErrNotExist", err)
		}
		if _, err := c.Index([]string{a}); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		_, kept := c.files[b]
		c.mu.Unlock()
		if kept {
			t.Error("the removed file is still cached")
		}
	})
	t.Run("a bad file is an error", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.xml")
		os.WriteFile(bad, []byte("<updates><update>"), 0o644)
		if _, err := c.Index([]string{a, bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("Index with a bad file: %v, want an error naming it", err)
		}
	})
}

// TestUpdateInfoCacheConcurrent runs Index and appends to the advisories
// it returns from several goroutines (go test -race).
func TestUpdateInfoCacheConcurrent(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "updateinfo.xml.gz")
	writeUpdateInfo(t, a, "A-1", "y", time.Now())
	var c UpdateInfoCache
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				idx, err := c.Index([]string{a})
				if err != nil {
					t.Error(err)
					return
				}
				for _, adv := range idx.Lookup("y", "2-3", "x86_64") {
					cves := append(adv.CVEs, "CVE-2024-9")
					if len(adv.CVEs) != 1 || len(cves) != 2 {
						t.Errorf("CVEs %v, appended %v", adv.CVEs, cves)
					}
				}
			}
		})
	}
	wg.Wait()
}
