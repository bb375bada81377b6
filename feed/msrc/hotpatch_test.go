package msrc_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/patchcore"
)

// parseShared parses a shared MSRC CVRF document, compressed or not, and
// returns its patches and the notices the parser gave.
func parseShared(t *testing.T, rel string) ([]patchcore.Patch, *msrc.Document) {
	t.Helper()
	fh, err := os.Open(feedtest.Shared(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, _, err := fetch.Decompress(fh, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ps []patchcore.Patch
	doc, err := msrc.ParseCVRF(context.Background(), r, func(p patchcore.Patch) error {
		ps = append(ps, p)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return ps, doc
}

// TestHotpatchSubType: in MSRC's March 2024 document KB5035959 is the
// Windows Server 2022 hotpatch (SubType SecurityHotpatchUpdate, FixedBuild
// 10.0.20348.2333) and KB5035857 the month's cumulative update (Security
// Update, 10.0.20348.2340). The hotpatch's fixes are marked, and each names
// the other as its equivalent on both Server 2022 products.
func TestHotpatchSubType(t *testing.T) {
	ps, _ := parseShared(t, "microsoft/cvrfDocument-2024-Mar.xml.gz")
	hot := feedtest.Find(t, ps, "KB5035959")
	cu := feedtest.Find(t, ps, "KB5035857")
	for _, id := range []string{"11923", "11924"} {
		h, c := fixFor(t, hot, id), fixFor(t, cu, id)
		if !h.Hotpatch || h.FixedBuild != "10.0.20348.2333" || !slices.Equal(h.Equivalents, []string{"KB5035857"}) {
			t.Errorf("KB5035959 on %s: hotpatch %v, build %s, equivalents %v", id, h.Hotpatch, h.FixedBuild, h.Equivalents)
		}
		if c.Hotpatch || c.FixedBuild != "10.0.20348.2340" || !slices.Equal(c.Equivalents, []string{"KB5035959"}) {
			t.Errorf("KB5035857 on %s: hotpatch %v, build %s, equivalents %v", id, c.Hotpatch, c.FixedBuild, c.Equivalents)
		}
	}
	if !slices.Equal(hot.Supersedes, []string{"KB5034860"}) {
		t.Errorf("KB5035959 supersedes %v, want the February hotpatch KB5034860", hot.Supersedes)
	}
	// Only hotpatch KBs are marked: every other patch of the document is not.
	var marked []string
	for _, p := range ps {
		for _, f := range p.Fixes {
			if f.Hotpatch {
				marked = append(marked, p.ID)
				break
			}
		}
	}
	if len(marked) == 0 || slices.Contains(marked, "KB5035857") {
		t.Errorf("patches with hotpatch fixes: %v", marked)
	}
}
