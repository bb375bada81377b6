package msrc_test

import (
	"context"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/patchcore"
)

// cveElement finds the CVE of each Vulnerability in the raw XML, without
// the parser.
var cveElement = regexp.MustCompile(`<(?:[A-Za-z0-9]+:)?CVE>\s*([^<]*?)\s*</(?:[A-Za-z0-9]+:)?CVE>`)

type coverage struct {
	inDocument, withPatch, notCovered []string
	notices                           []feed.Notice
	patches                           []patchcore.Patch
}

func readCoverage(t *testing.T, rel string) coverage {
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
	raw, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	var c coverage
	for _, m := range cveElement.FindAllSubmatch(raw, -1) {
		if id := string(m[1]); !slices.Contains(c.inDocument, id) {
			c.inDocument = append(c.inDocument, id)
		}
	}
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { c.notices = append(c.notices, n) })
	if _, err := msrc.ParseCVRF(ctx, strings.NewReader(string(raw)), func(p patchcore.Patch) error {
		c.patches = append(c.patches, p)
		for _, cve := range p.CVEs {
			if !slices.Contains(c.withPatch, cve.ID) {
				c.withPatch = append(c.withPatch, cve.ID)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.notices {
		if n.Kind == feed.NoticeNotCovered && !slices.Contains(c.notCovered, n.ID) {
			c.notCovered = append(c.notCovered, n.ID)
		}
	}
	return c
}

// TestEveryCVEAccounted: every CVE of an MSRC document becomes a patch or
// a "not covered" notice, never nothing. The CVEs in the document are
// counted from the XML text, not through the parser.
func TestEveryCVEAccounted(t *testing.T) {
	for _, tc := range []struct {
		file string
		// minPatched is how many CVEs must at least have a patch (January
		// 2024 had 46 before products beyond the OS were read).
		minPatched int
	}{
		{"microsoft/cvrfDocument-2024-Jan.xml", 80},
		{"microsoft/cvrfDocument-2024-Feb.xml", 60},
		{"microsoft/cvrfDocument-2024-Mar.xml.gz", 50},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := readCoverage(t, tc.file)
			if len(c.inDocument) == 0 {
				t.Fatal("no CVE elements in the document")
			}
			for _, id := range c.notCovered {
				if slices.Contains(c.withPatch, id) {
					t.Errorf("%s has a patch and a not-covered notice", id)
				}
			}
			for _, id := range c.inDocument {
				if !slices.Contains(c.withPatch, id) && !slices.Contains(c.notCovered, id) {
					t.Errorf("%s: neither a patch nor a not-covered notice", id)
				}
			}
			if len(c.withPatch)+len(c.notCovered) != len(c.inDocument) {
				t.Errorf("%d CVEs with a patch + %d not covered != %d CVEs in the document", len(c.withPatch), len(c.notCovered), len(c.inDocument))
			}
			if len(c.withPatch) < tc.minPatched {
				t.Errorf("%d CVEs with a patch, want at least %d", len(c.withPatch), tc.minPatched)
			}
			for _, n := range c.notices {
				if n.Kind != feed.NoticeNotCovered || !strings.HasPrefix(n.ID, "CVE-") && !strings.HasPrefix(n.ID, "ADV") || n.Line == 0 || n.Field == "" || n.Message == "" {
					t.Errorf("notice %+v", n)
				}
			}
			t.Logf("%d CVEs, %d with a patch, %d not covered", len(c.inDocument), len(c.withPatch), len(c.notCovered))
		})
	}
}

// TestProductsBeyondWindows: January 2024's Edge, Visual Studio and
// CBL-Mariner remediations are patches (before, 39 of its 85 CVEs gave no
// patch at all).
func TestProductsBeyondWindows(t *testing.T) {
	c := readCoverage(t, "microsoft/cvrfDocument-2024-Jan.xml")
	if len(c.withPatch) != len(c.inDocument) || len(c.notCovered) != 0 {
		t.Errorf("%d of %d CVEs with a patch, %d not covered", len(c.withPatch), len(c.inDocument), len(c.notCovered))
	}
	edge := feedtest.Find(t, c.patches, "msrc:11655@121.0.2277.83")
	f := edge.Fixes[0]
	if f.Ecosystem != patchcore.EcosystemMicrosoft || f.Package != "Microsoft Edge (Chromium-based)" || f.FixedVersion != "121.0.2277.83" || f.Scheme != "dotted" || edge.Title == "" || !slices.Contains(edge.CVEIDs(), "CVE-2024-21388") {
		t.Errorf("Edge patch %+v", edge)
	}
	sqlite := feedtest.Find(t, c.patches, "mariner:sqlite@3.39.2-1")
	var arches []string
	for _, f := range sqlite.Fixes {
		if f.Distro != "mariner" || f.Release != "2.0" || f.Package != "sqlite" || f.FixedVersion != "3.39.2-1" || f.Ecosystem != patchcore.EcosystemRPM {
			t.Errorf("sqlite fix %+v", f)
		}
		arches = append(arches, f.Arch)
	}
	slices.Sort(arches)
	if !slices.Equal(arches, []string{"aarch64", "x86_64"}) || !slices.Contains(sqlite.CVEIDs(), "CVE-2022-35737") {
		t.Errorf("sqlite arches %v CVEs %v", arches, sqlite.CVEIDs())
	}
	vs := feedtest.Find(t, c.patches, "msrc:"+productID(t, c.patches, "Microsoft Visual Studio 2022 version 17.8")+"@17.8.4")
	if vs.Fixes[0].Package != "Microsoft Visual Studio 2022 version 17.8" {
		t.Errorf("Visual Studio patch %+v", vs)
	}
}

// TestNotCoveredNotice: February 2024's CVEs that give no patch are
// reported with their location and the reason.
func TestNotCoveredNotice(t *testing.T) {
	c := readCoverage(t, "microsoft/cvrfDocument-2024-Feb.xml")
	if len(c.notices) == 0 {
		t.Fatal("no notices")
	}
	want := map[string][]string{
		"CVE-2024-21402": {"Click to Run", "Microsoft 365 Apps for Enterprise for 64-bit Systems", "is not a version"},
		"CVE-2024-20695": {"no Vendor Fix remediation", "Skype for Business Server 2019 CU7"},
		"CVE-2024-21381": {"Update Guidance", "no FixedBuild"},
	}
	for _, n := range c.notices {
		t.Logf("%s", n)
		for _, sub := range want[n.ID] {
			if !strings.Contains(n.Message, sub) {
				t.Errorf("%s: %q does not say %q", n.ID, n.Message, sub)
			}
		}
		delete(want, n.ID)
		if n.Line == 0 || n.Column == 0 || !strings.HasPrefix(n.Field, "Vulnerability[") {
			t.Errorf("%s: not located: %+v", n.ID, n)
		}
	}
	for id := range want {
		t.Errorf("%s: no notice", id)
	}
}

func productID(t *testing.T, ps []patchcore.Patch, name string) string {
	t.Helper()
	for _, p := range ps {
		for _, f := range p.Fixes {
			if f.Product == name {
				return f.ProductID
			}
		}
	}
	t.Fatalf("no fix for %s", name)
	return ""
}
