package feed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/debian"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/feed/osv"
	"github.com/patchcore/sdk/patchcore"
)

func sample(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(samples.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func add(t *testing.T, c *feed.Catalog, f feed.Format, data []byte) int {
	t.Helper()
	st, err := c.AddFrom(context.Background(), f, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return st.Patches
}

func TestMSRCMergeAndSupersedence(t *testing.T) {
	c := feed.NewCatalog()
	add(t, c, msrc.CVRF{}, sample(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	csaf, err := os.ReadFile("msrc/testdata/msrc_cve-2024-21338.json")
	if err != nil {
		t.Fatal(err)
	}
	add(t, c, msrc.CSAF{}, csaf) // KB5034765 from CSAF first ...
	nFeb := add(t, c, msrc.CVRF{}, sample(t, "microsoft/cvrfDocument-2024-Feb.xml"))
	if nFeb == 0 {
		t.Fatal("no Feb patches")
	}
	p, ok := c.Get("KB5034765")
	if !ok {
		t.Fatal("KB5034765 missing")
	}
	// ... then from CVRF: one patch, both sources, the 12243 fix merged with its Supercedence.
	if got := c.Sources("KB5034765"); !slices.Equal(got, []string{"msrc-csaf", "msrc-cvrf"}) {
		t.Errorf("sources %v", got)
	}
	n12243 := 0
	for _, f := range p.Fixes {
		if f.ProductID == "12243" {
			n12243++
			if f.FixedBuild != "10.0.22631.3155" || !slices.Contains(f.Supersedes, "KB5034123") {
				t.Errorf("merged fix %+v", f)
			}
		}
	}
	if n12243 != 1 {
		t.Errorf("%d fixes for 12243 after merge, want 1", n12243)
	}
	if got := c.SupersededBy("KB5034123"); !slices.Contains(got, "KB5034765") {
		t.Errorf("SupersededBy(KB5034123) = %v", got)
	}
	if got := c.SupersededByOn("KB5034123", "12243"); !slices.Equal(got, []string{"KB5034765"}) {
		t.Errorf("SupersededByOn(KB5034123, 12243) = %v", got)
	}
	// Jan's KB5034123 superseded KB5033375 (not in the catalog); Feb's KB5034765 supersedes KB5034123.
	if got := c.SupersededByTransitive("KB5033375"); !slices.Contains(got, "KB5034123") || !slices.Contains(got, "KB5034765") {
		t.Errorf("SupersededByTransitive(KB5033375) = %v", got)
	}
	if got := c.Supersedes("KB5034765"); !slices.Contains(got, "KB5034123") {
		t.Errorf("Supersedes(KB5034765) = %v", got)
	}
	refs := c.ForProduct("12243")
	kbs := map[string]string{}
	for _, r := range refs {
		kbs[r.Fix.KB] = r.Fix.FixedBuild
	}
	if kbs["KB5034123"] != "10.0.22631.3007" || kbs["KB5034765"] != "10.0.22631.3155" {
		t.Errorf("ForProduct(12243) builds %v", kbs)
	}
	// Every KB patch is for Windows; the product versions (Edge, Visual
	// Studio) and CBL-Mariner packages are not.
	kbPatches := 0
	for _, p := range c.All() {
		if strings.HasPrefix(p.ID, "KB") {
			kbPatches++
		}
	}
	if n := len(c.ForDistro("windows")); n != kbPatches || n == 0 {
		t.Errorf("ForDistro(windows) = %d, want the %d KB patches", n, kbPatches)
	}
	if len(c.ForDistro("mariner")) == 0 {
		t.Error("ForDistro(mariner) is empty")
	}
}

func TestCVEAliasesDoNotJoin(t *testing.T) {
	c := feed.NewCatalog()
	add(t, c, osv.Format{}, sample(t, "osv/GO-2024-2687.json"))
	c.Add(patchcore.Patch{ID: "CVE-2023-45288", Source: "debian-tracker", CVEs: []patchcore.CVE{{ID: "CVE-2023-45288"}},
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Package: "golang-1.19", FixedVersion: "1.19.8-2+deb12u2"}}})
	if c.Len() != 2 {
		t.Fatalf("%d patches, want the Go advisory and the Debian CVE apart", c.Len())
	}
	if got := c.ForCVE("CVE-2023-45288"); len(got) != 2 {
		t.Errorf("ForCVE = %d patches", len(got))
	}
	// A non-CVE alias joins: the GHSA record of the same advisory merges.
	c.Add(patchcore.Patch{ID: "GHSA-4v7x-pqxf-cx7m", Source: "ghsa", Aliases: []string{"CVE-2023-45288"},
		Fixes: []patchcore.Fix{{Ecosystem: "go", Package: "golang.org/x/net", FixedVersion: "0.23.0", Scheme: "semver"}}})
	if c.Len() != 2 {
		t.Errorf("GHSA did not merge into GO-2024-2687: %d patches", c.Len())
	}
	p, _ := c.Get("GHSA-4v7x-pqxf-cx7m")
	if p.ID != "GO-2024-2687" || !slices.Equal(c.Sources("GO-2024-2687"), []string{"osv", "ghsa"}) {
		t.Errorf("merged %s from %v", p.ID, c.Sources("GO-2024-2687"))
	}
}

func TestMergeFillsAndUnites(t *testing.T) {
	c := feed.NewCatalog()
	c.Add(patchcore.Patch{ID: "RLSA-2023:3220", Source: "osv", CVEs: []patchcore.CVE{{ID: "CVE-2023-32205"}},
		Fixes: []patchcore.Fix{{Distro: "rocky", Release: "8", Package: "firefox", FixedVersion: "0:102.11.0-2.el8_7", Scheme: "rpm"}}})
	c.Add(patchcore.Patch{ID: "RLSA-2023:3220", Source: "updateinfo", Title: "Important: firefox security update",
		Severity: patchcore.ParseSeverity("Important"), CVEs: []patchcore.CVE{{ID: "CVE-2023-32205", CVSSScore: 9.8}, {ID: "CVE-2023-32206"}},
		Fixes: []patchcore.Fix{
			{Distro: "rocky", Release: "8", Package: "firefox", FixedVersion: "0:102.11.0-2.el8_7", Scheme: "rpm", Arch: ""},
			{Distro: "rocky", Release: "8", Package: "firefox", FixedVersion: "0:102.11.0-2.el8_7", Scheme: "rpm", Arch: "x86_64"},
		}})
	p, _ := c.Get("RLSA-2023:3220")
	if p.Title == "" || p.Severity.Level != patchcore.SeverityHigh || len(p.CVEs) != 2 || p.CVEs[0].CVSSScore != 9.8 || len(p.Fixes) != 2 {
		t.Errorf("merged %+v", p)
	}
}

func TestSupersedenceGraph(t *testing.T) {
	c := feed.NewCatalog()
	c.Add(
		patchcore.Patch{ID: "A", Source: "s"},
		patchcore.Patch{ID: "B", Source: "s", Supersedes: []string{"A"}},
		patchcore.Patch{ID: "C", Source: "s", Aliases: []string{"C-ALIAS"}, Fixes: []patchcore.Fix{{Distro: "windows", ProductID: "1", Supersedes: []string{"B"}}}},
		patchcore.Patch{ID: "D", Source: "s", Supersedes: []string{"C-ALIAS", "D"}}, // via an alias; a self-reference is ignored
		patchcore.Patch{ID: "X", Source: "s", Supersedes: []string{"Y"}},
		patchcore.Patch{ID: "Y", Source: "s", Supersedes: []string{"X"}}, // a cycle
	)
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"direct A", c.SupersededBy("A"), []string{"B"}},
		{"direct C via alias", c.SupersededBy("C-ALIAS"), []string{"D"}},
		{"transitive A", c.SupersededByTransitive("A"), []string{"B", "C", "D"}},
		{"transitive D", c.SupersededByTransitive("D"), nil},
		{"cycle", c.SupersededByTransitive("X"), []string{"Y"}},
		{"on product", c.SupersededByOn("B", "1"), []string{"C"}},
		{"on other product", c.SupersededByOn("B", "2"), nil},
		{"supersedes D", c.Supersedes("D"), []string{"C"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestOverlays(t *testing.T) {
	c := feed.NewCatalog()
	c.Add(patchcore.Patch{ID: "KB1", Source: "s", Aliases: []string{"ALIAS-1"}, Severity: patchcore.ParseSeverity("Important")})
	low := patchcore.ParseSeverity("low")
	if c.SetOverlay("nope", feed.Overlay{Rating: 1}) {
		t.Error("overlay on unknown patch accepted")
	}
	if !c.SetOverlay("ALIAS-1", feed.Overlay{CustomSeverity: &low, Rating: 4}) {
		t.Fatal("overlay refused")
	}
	low.Level = patchcore.SeverityCritical // the catalog keeps its own copy
	p, _ := c.Get("KB1")
	if p.Severity.Level != patchcore.SeverityHigh || p.CustomSeverity == nil || p.CustomSeverity.Level != patchcore.SeverityLow || p.Rating != 4 {
		t.Errorf("overlaid %+v (custom %+v)", p, p.CustomSeverity)
	}
	if p.EffectiveSeverity().Level != patchcore.SeverityLow {
		t.Errorf("effective %v", p.EffectiveSeverity())
	}
	if all := c.All(); len(all) != 1 || all[0].Rating != 4 || all[0].CustomSeverity == nil ||
		all[0].CustomSeverity.Level != patchcore.SeverityLow || all[0].Severity.Level != patchcore.SeverityHigh {
		t.Errorf("All without the overlay, or with the vendor's severity changed: %+v", all)
	}
	if o, ok := c.Overlay("KB1"); !ok || o.Rating != 4 {
		t.Errorf("Overlay %+v %v", o, ok)
	}
	gen := c.Generation()
	if !c.RemoveOverlay("KB1") || c.RemoveOverlay("KB1") {
		t.Error("RemoveOverlay")
	}
	if c.Generation() != gen+1 {
		t.Errorf("generation %d after one removal from %d", c.Generation(), gen)
	}
	if p, _ := c.Get("KB1"); p.Rating != 0 {
		t.Errorf("after removal %+v", p)
	}
}

func TestForPackageReleases(t *testing.T) {
	c := feed.NewCatalog()
	c.Add(
		patchcore.Patch{ID: "DSA-1", Source: "s", Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Package: "unzip", FixedVersion: "6.0-28+deb12u1"}}},
		patchcore.Patch{ID: "DSA-2", Source: "s", Fixes: []patchcore.Fix{{Distro: "debian", Package: "unzip", FixedVersion: "6.0-29"}}},
		patchcore.Patch{ID: "DSA-3", Source: "s", Fixes: []patchcore.Fix{{Distro: "debian", Release: "bullseye", Package: "unzip", FixedVersion: "6.0-26+deb11u1"}}},
	)
	ids := func(refs []feed.FixRef) []string {
		var out []string
		for _, r := range refs {
			out = append(out, r.PatchID)
		}
		return out
	}
	if got := ids(c.ForPackage("debian", "bookworm", "unzip")); !slices.Equal(got, []string{"DSA-1", "DSA-2"}) {
		t.Errorf("bookworm %v", got)
	}
	if got := ids(c.ForPackage("debian", "", "unzip")); !slices.Equal(got, []string{"DSA-2"}) {
		t.Errorf("any release %v", got)
	}
	if got := c.ForPackage("ubuntu", "jammy", "unzip"); got != nil {
		t.Errorf("ubuntu %v", got)
	}
}

// TestForPackageCanonicalRelease: the catalog's index and its callers meet
// in canonical form, whichever spelling the feed and the caller used.
func TestForPackageCanonicalRelease(t *testing.T) {
	c := feed.NewCatalog()
	c.Add(
		patchcore.Patch{ID: "DSA-1", Source: "s", Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Package: "unzip", FixedVersion: "6.0-28+deb12u1"}}},
		patchcore.Patch{ID: "USN-1", Source: "s", Fixes: []patchcore.Fix{{Distro: "ubuntu", Release: "18.04", Package: "wayland", FixedVersion: "1.16.0-1ubuntu1.1~18.04.4"}}},
		patchcore.Patch{ID: "OVAL-1", Source: "s", Fixes: []patchcore.Fix{{Distro: "ubuntu", Release: "bionic", Package: "wayland", FixedVersion: "1.16.0-1ubuntu1.1~18.04.4"}}},
		patchcore.Patch{ID: "SUSE-1", Source: "s", Fixes: []patchcore.Fix{{Distro: "sles", Release: "15.4", Package: "openssl-3", FixedVersion: "3.0.8-150400.4.1"}}},
	)
	for _, q := range []struct {
		distro, release, pkg string
		want                 []string
	}{
		{"debian", "12", "unzip", []string{"DSA-1"}},
		{"Debian", "12.5", "unzip", []string{"DSA-1"}},
		{"debian", "bookworm", "unzip", []string{"DSA-1"}},
		{"debian", "11", "unzip", nil},
		{"ubuntu", "bionic", "wayland", []string{"OVAL-1", "USN-1"}},
		{"ubuntu", "18.04", "wayland", []string{"OVAL-1", "USN-1"}},
		{"sles", "15-SP4", "openssl-3", []string{"SUSE-1"}},
		{"sles", "15 SP3", "openssl-3", nil},
	} {
		var got []string
		for _, r := range c.ForPackage(q.distro, q.release, q.pkg) {
			got = append(got, r.PatchID)
		}
		slices.Sort(got)
		if !slices.Equal(got, q.want) {
			t.Errorf("ForPackage(%q, %q, %q) = %v, want %v", q.distro, q.release, q.pkg, got, q.want)
		}
	}
	if got := c.ForDistro("Debian"); len(got) != 1 || got[0].ID != "DSA-1" {
		t.Errorf("ForDistro(Debian) = %v", got)
	}
}

func TestSnapshotsAreImmutable(t *testing.T) {
	c := feed.NewCatalog()
	in := patchcore.Patch{ID: "P", Source: "a", Fixes: []patchcore.Fix{{Distro: "d", Package: "x", FixedVersion: "1"}}}
	c.Add(in)
	in.Fixes[0].FixedVersion = "mutated by caller"
	refs := c.ForPackage("d", "", "x")
	before, _ := c.Get("P")
	c.Add(patchcore.Patch{ID: "P", Source: "b", Fixes: []patchcore.Fix{{Distro: "d", Package: "y", FixedVersion: "2"}}})
	if len(before.Fixes) != 1 || before.Fixes[0].FixedVersion != "1" || refs[0].Fix.FixedVersion != "1" {
		t.Errorf("earlier snapshot changed: %+v", before)
	}
	if p, _ := c.Get("P"); len(p.Fixes) != 2 {
		t.Errorf("merged %+v", p)
	}
}

// TestReturnedValuesAreCopies: whatever a caller does to a patch, fix or
// overlay the catalog returned, down to the slices, maps and pointers inside
// it, the catalog's own data stays as it was.
func TestReturnedValuesAreCopies(t *testing.T) {
	c := feed.NewCatalog()
	high := patchcore.ParseSeverity("high")
	c.Add(patchcore.Patch{ID: "P", Source: "s", Aliases: []string{"ALIAS-1"}, Products: []string{"prod"},
		CVEs: []patchcore.CVE{{ID: "CVE-2024-1", CVSSScore: 7}}, Supersedes: []string{"OLD"}, References: []string{"https://x"},
		Fixes: []patchcore.Fix{{Distro: "debian", Release: "bookworm", Package: "x", FixedVersion: "1", ProductID: "12243",
			Supersedes: []string{"OLD"}, Binaries: []string{"libx"}, ExcludedVersions: []string{"0.9"},
			Attributes: map[string]string{"k": "v"}, Installer: &patchcore.Installer{URL: "https://x/i"}}}})
	c.SetOverlay("P", feed.Overlay{CustomSeverity: &high, Rating: 3})
	want, _ := c.Get("P")
	wantJSON, _ := json.Marshal(want)
	if shared := c.AllShared(); len(shared) != 1 || shared[0].Rating != 3 || shared[0].CustomSeverity.Level != patchcore.SeverityHigh {
		t.Errorf("AllShared without the overlay: %+v", shared)
	} else if sharedJSON, _ := json.Marshal(shared[0]); string(sharedJSON) != string(wantJSON) {
		t.Errorf("AllShared gives\n%s\nGet\n%s", sharedJSON, wantJSON)
	}

	vandalise := func(p *patchcore.Patch) {
		p.ID, p.Aliases[0], p.Products[0], p.CVEs[0].ID, p.Supersedes[0], p.References[0] = "X", "X", "X", "X", "X", "X"
		p.CustomSeverity.Level, p.Rating = patchcore.SeverityLow, 1
		vandaliseFix(&p.Fixes[0])
	}
	got := map[string]func(){
		"Get":        func() { p, _ := c.Get("ALIAS-1"); vandalise(&p) },
		"All":        func() { vandalise(&c.All()[0]) },
		"ForDistro":  func() { vandalise(&c.ForDistro("debian")[0]) },
		"ForCVE":     func() { vandalise(&c.ForCVE("CVE-2024-1")[0]) },
		"ForPackage": func() { vandaliseFix(&c.ForPackage("debian", "bookworm", "x")[0].Fix) },
		"ForProduct": func() { vandaliseFix(&c.ForProduct("12243")[0].Fix) },
		"Overlay":    func() { o, _ := c.Overlay("P"); o.CustomSeverity.Level = patchcore.SeverityLow },
		// The read-only view: what is the caller's own, and appends.
		"AllShared": func() {
			p := &c.AllShared()[0]
			p.ID, p.Rating, p.CustomSeverity.Level = "X", 1, patchcore.SeverityLow
			p.Fixes, p.CVEs = append(p.Fixes, patchcore.Fix{Package: "X"}), append(p.CVEs, patchcore.CVE{ID: "X"})
			p.Aliases, p.Products = append(p.Aliases, "X"), append(p.Products, "X")
			p.Supersedes, p.References = append(p.Supersedes, "X"), append(p.References, "X")
		},
	}
	for name, mutate := range got {
		mutate()
		p, ok := c.Get("P")
		if gotJSON, _ := json.Marshal(p); !ok || string(gotJSON) != string(wantJSON) {
			t.Errorf("after changing what %s returned, the catalog holds\n%s\nwant\n%s", name, gotJSON, wantJSON)
		}
		if o, _ := c.Overlay("P"); o.CustomSeverity == nil || o.CustomSeverity.Level != patchcore.SeverityHigh {
			t.Errorf("after changing what %s returned, the overlay is %+v", name, o.CustomSeverity)
		}
	}
}

func vandaliseFix(f *patchcore.Fix) {
	f.FixedVersion, f.Supersedes[0], f.Binaries[0], f.ExcludedVersions[0] = "X", "X", "X", "X"
	f.Attributes["k"] = "X"
	f.Installer.URL = "X"
}

func TestConcurrentAddAndRead(t *testing.T) {
	c := feed.NewCatalog()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				c.Add(patchcore.Patch{ID: fmt.Sprintf("P%d", i%50), Source: fmt.Sprint(w), Supersedes: []string{fmt.Sprintf("P%d", i%50+1)},
					Fixes: []patchcore.Fix{{Distro: "d", Package: "x", FixedVersion: fmt.Sprint(i)}}})
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				for _, r := range c.ForPackage("d", "", "x") {
					_ = r.Fix.FixedVersion + r.PatchID
				}
				c.SupersededByTransitive("P10")
				c.Get("P1")
			}
		}()
	}
	wg.Wait()
	if c.Len() != 50 {
		t.Errorf("%d patches", c.Len())
	}
}

func TestAddFromError(t *testing.T) {
	c := feed.NewCatalog()
	st, err := c.AddFrom(context.Background(), osv.Format{}, bytes.NewReader([]byte(`[{"id": "A-1", "modified": "2024-01-01T00:00:00Z"}, {"id": 5}]`)))
	if !errors.Is(err, patchcore.ErrMalformedFeed) || st.Patches != 1 || c.Len() != 1 {
		t.Errorf("n=%d len=%d err=%v", st.Patches, c.Len(), err)
	}
}

// AddFrom's result is the document's ingest status: patches, CVEs and the
// parser's notices, which still reach a function the caller installed.
func TestAddFromIngestStatus(t *testing.T) {
	c := feed.NewCatalog()
	var seen []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { seen = append(seen, n) })
	st, err := c.AddFrom(ctx, debian.AdvisoryList{File: "DLA/list"}, bytes.NewReader(sample(t, "debian/DLA-list-malformed-header")))
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != "debian-advisory-list" || st.Patches != 1 || st.CVEs != 4 || st.Recovered != 1 || st.NotCovered != 0 ||
		len(st.Notices) != 1 || st.Notices[0].Line != 4 || st.Notices[0].File != "DLA/list" {
		t.Errorf("ingest %+v", st)
	}
	if len(seen) != 1 || seen[0] != st.Notices[0] {
		t.Errorf("caller's function got %+v", seen)
	}
	var s feed.Ingest
	for _, n := range []feed.Notice{{Kind: feed.NoticeNotCovered, ID: "CVE-1"}, {Kind: feed.NoticeNotCovered, ID: "CVE-1"}, {Kind: feed.NoticeNotCovered, ID: "CVE-2"}, {Kind: feed.NoticeNotCovered}} {
		s.AddNotice(n)
	}
	s.AddPatch(&patchcore.Patch{CVEs: []patchcore.CVE{{ID: "CVE-3"}, {ID: "CVE-4"}}})
	s.AddPatch(&patchcore.Patch{CVEs: []patchcore.CVE{{ID: "CVE-3"}}})
	if s.NotCovered != 3 || s.Patches != 2 || s.CVEs != 2 || s.Recovered != 0 || len(s.Notices) != 4 {
		t.Errorf("tally %+v", s)
	}
}

func ExampleCatalog() {
	c := feed.NewCatalog()
	c.Add(
		patchcore.Patch{ID: "KB5034123", Source: "msrc-cvrf", Supersedes: []string{"KB5033375"},
			Fixes: []patchcore.Fix{{Distro: "windows", ProductID: "12243", KB: "KB5034123", FixedBuild: "10.0.22631.3007", Supersedes: []string{"KB5033375"}}}},
		patchcore.Patch{ID: "KB5034765", Source: "msrc-cvrf", Supersedes: []string{"KB5034123"},
			Fixes: []patchcore.Fix{{Distro: "windows", ProductID: "12243", KB: "KB5034765", FixedBuild: "10.0.22631.3155", Supersedes: []string{"KB5034123"}}}},
	)
	for _, r := range c.ForProduct("12243") {
		fmt.Println(r.Fix.KB, r.Fix.FixedBuild)
	}
	fmt.Println(c.SupersededByTransitive("KB5033375"))
	// Output:
	// KB5034123 10.0.22631.3007
	// KB5034765 10.0.22631.3155
	// [KB5034123 KB5034765]
}
