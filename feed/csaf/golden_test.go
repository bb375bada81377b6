package csaf

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// render writes patches as text for a golden file: each patch's fields
// but its fixes as indented JSON, then one line of compact JSON per fix,
// so that a changed field shows as a changed line.
func render(t *testing.T, ps []patchcore.Patch) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range ps {
		fixes := p.Fixes
		p.Fixes = nil
		head, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "patch %s\n%d fixes:\n", head, len(fixes))
		for _, f := range fixes {
			line, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// golden compares got with the golden file testdata/golden/name (gzip
// compressed when name ends in .gz: the large documents' renderings are
// regular and big), rewriting it under -update, and reports the lines
// that differ.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		var out bytes.Buffer
		if strings.HasSuffix(name, ".gz") {
			zw := gzip.NewWriter(&out)
			zw.Write(got)
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			out.Write(got)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (go test ./feed/csaf/ -run TestGolden -update writes it): %v", err)
	}
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(want))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if want, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./feed/csaf/ -run TestGolden -update rewrites it):\n%s", path, lineDiff(got, want))
	}
}

// lineDiff shows the lines that differ between got and want, numbered
// (want's numbers for removed lines, got's for added ones), at most 40: a
// longest-common-subsequence diff of the part between their common first
// and last lines, or that whole part when it is too large to align.
func lineDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	pre := 0
	for pre < len(g) && pre < len(w) && g[pre] == w[pre] {
		pre++
	}
	suf := 0
	for suf < len(g)-pre && suf < len(w)-pre && g[len(g)-1-suf] == w[len(w)-1-suf] {
		suf++
	}
	gm, wm := g[pre:len(g)-suf], w[pre:len(w)-suf]
	type edit struct {
		sign string
		line int
		text string
	}
	var edits []edit
	if len(gm)*len(wm) <= 4_000_000 {
		// lcs[i][j] is the LCS length of wm[i:] and gm[j:].
		lcs := make([][]int32, len(wm)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(gm)+1)
		}
		for i := len(wm) - 1; i >= 0; i-- {
			for j := len(gm) - 1; j >= 0; j-- {
				if wm[i] == gm[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(wm) || j < len(gm) {
			switch {
			case i < len(wm) && j < len(gm) && wm[i] == gm[j]:
				i, j = i+1, j+1
			case j < len(gm) && (i == len(wm) || lcs[i][j+1] >= lcs[i+1][j]):
				edits = append(edits, edit{"+", pre + j + 1, gm[j]})
				j++
			default:
				edits = append(edits, edit{"-", pre + i + 1, wm[i]})
				i++
			}
		}
	} else {
		for i, l := range wm {
			edits = append(edits, edit{"-", pre + i + 1, l})
		}
		for j, l := range gm {
			edits = append(edits, edit{"+", pre + j + 1, l})
		}
	}
	var b strings.Builder
	for k, e := range edits {
		if k == 40 {
			fmt.Fprintf(&b, "... %d more changed lines\n", len(edits)-k)
			break
		}
		fmt.Fprintf(&b, "%s %5d %s\n", e.sign, e.line, e.text)
	}
	return b.String()
}
