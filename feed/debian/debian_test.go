package debian

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

func parseFile(t testing.TB, f feed.Format, path string) []patchcore.Patch {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []patchcore.Patch
	if err := f.Parse(context.Background(), fh, func(p patchcore.Patch) error {
		out = append(out, p)
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func parseBytes(f feed.Format, b []byte) ([]patchcore.Patch, error) {
	var out []patchcore.Patch
	err := f.Parse(context.Background(), bytes.NewReader(b), func(p patchcore.Patch) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func find(ps []patchcore.Patch, id, pkg string) *patchcore.Patch {
	for i := range ps {
		if ps[i].ID == id && (pkg == "" || len(ps[i].Fixes) > 0 && ps[i].Fixes[0].Package == pkg) {
			return &ps[i]
		}
	}
	return nil
}

func fixFor(p *patchcore.Patch, release, pkg string) *patchcore.Fix {
	for i := range p.Fixes {
		if p.Fixes[i].Release == release && p.Fixes[i].Package == pkg {
			return &p.Fixes[i]
		}
	}
	return nil
}

func TestTrackerSample(t *testing.T) {
	ps := parseFile(t, Tracker{}, samples.Path(t, "debian/security-tracker-subset.json"))
	if len(ps) != 7 {
		t.Fatalf("got %d patches, want 7 (one per source package and CVE)", len(ps))
	}
	tests := []struct {
		id, pkg, release string
		status           patchcore.FixStatus
		fixed            string
		sev              patchcore.SeverityLevel
	}{
		{"CVE-2008-7220", "prototypejs", "stretch", patchcore.FixFixed, "1.6.0.2-1", patchcore.SeverityHigh},
		{"CVE-2007-2383", "prototypejs", "buster", patchcore.FixNotAffected, "", patchcore.SeverityLow},
		{"CVE-2022-0456", "chromium", "buster", patchcore.FixWontFix, "", patchcore.SeverityUnknown},
		{"CVE-2022-0456", "chromium", "bullseye", patchcore.FixFixed, "98.0.4758.80-1~deb11u1", patchcore.SeverityUnknown},
		{"CVE-2025-53603", "sope", "bookworm", patchcore.FixFixed, "5.8.0-1+deb12u1", patchcore.SeverityUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.id+"/"+tt.release, func(t *testing.T) {
			p := find(ps, tt.id, tt.pkg)
			if p == nil {
				t.Fatalf("no patch %s for %s", tt.id, tt.pkg)
			}
			if p.Source != "debian-tracker" || p.Vendor != "Debian" || p.Classification != patchcore.ClassSecurity {
				t.Errorf("source/vendor/class = %q %q %q", p.Source, p.Vendor, p.Classification)
			}
			if got := p.CVEIDs(); !slices.Equal(got, []string{tt.id}) {
				t.Errorf("CVEs = %v", got)
			}
			f := fixFor(p, tt.release, tt.pkg)
			if f == nil {
				t.Fatalf("no fix for %s", tt.release)
			}
			if f.Distro != "debian" || f.PackageKind != patchcore.PackageSource || f.Scheme != "deb" {
				t.Errorf("fix platform = %+v", f)
			}
			if f.Status != tt.status || f.FixedVersion != tt.fixed || f.Severity.Level != tt.sev {
				t.Errorf("fix = status %q fixed %q severity %v, want %q %q %v", f.Status, f.FixedVersion, f.Severity.Level, tt.status, tt.fixed, tt.sev)
			}
		})
	}
	p := find(ps, "CVE-2008-7220", "prototypejs")
	if p.Severity.Level != patchcore.SeverityHigh || p.Severity.Raw != "high" {
		t.Errorf("patch severity = %+v, want high", p.Severity)
	}
	if p.Fixes[0].Attributes["scope"] != "remote" {
		t.Errorf("scope attribute = %q", p.Fixes[0].Attributes["scope"])
	}
	if !slices.Contains(p.References, "https://bugs.debian.org/555217") {
		t.Errorf("references = %v", p.References)
	}
	if p := find(ps, "CVE-2022-0358", ""); p == nil || len(p.Fixes) != 0 {
		t.Errorf("CVE-2022-0358 with \"releases\": [] = %+v", p)
	}
}

func TestTrackerDetect(t *testing.T) {
	b, err := os.ReadFile(samples.Path(t, "debian/security-tracker-subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !(Tracker{}).Detect(b[:min(len(b), 4096)]) {
		t.Error("tracker sample not detected")
	}
	for _, head := range []string{`{"document":{"category":"csaf_vex"}}`, `VERSION 1`, `<updates>`, ``} {
		if (Tracker{}).Detect([]byte(head)) {
			t.Errorf("Detect(%q) = true", head)
		}
	}
}

func TestTrackerErrors(t *testing.T) {
	tests := []struct {
		name, doc, field string
	}{
		{"truncated", `{"pkg":{"CVE-1":{"releases":{"sid":{"status":"resol`, "pkg/CVE-1"},
		{"array top", `[1,2]`, ""},
		{"wrong type", `{"pkg":{"CVE-1":{"releases":{"sid":{"status":5}}}}}`, "pkg/CVE-1/releases"},
		{"releases string", `{"pkg":{"CVE-1":{"releases":"x"}}}`, "pkg/CVE-1"},
		{"trailing data", `{} {}`, ""},
		{"empty", ``, ""},
		{"not json", `<xml/>`, ""},
		{"cve not object", `{"pkg":{"CVE-1":"x"}}`, "pkg/CVE-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(Tracker{File: "t.json"}, []byte(tt.doc))
			var pe *feed.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
			}
			if !errors.Is(err, patchcore.ErrMalformedFeed) || pe.File != "t.json" {
				t.Errorf("error %v: want ErrMalformedFeed in t.json", err)
			}
			if !strings.HasPrefix(pe.Field, tt.field) {
				t.Errorf("field = %q, want prefix %q", pe.Field, tt.field)
			}
		})
	}
}

func TestTrackerEmitError(t *testing.T) {
	stop := errors.New("stop")
	err := (Tracker{}).Parse(context.Background(), strings.NewReader(`{"a":{"CVE-1":{"releases":{}},"CVE-2":{}}}`),
		func(patchcore.Patch) error { return stop })
	if err != stop {
		t.Fatalf("err = %v, want the emit error as is", err)
	}
}

// TestDebsecanSummary reproduces debsecan's own expected summary output for
// its test case 001 from the patches alone, which proves the mapping keeps
// everything debsecan decides with.
func TestDebsecanSummary(t *testing.T) {
	ps := parseFile(t, Debsecan{Release: "sid"}, samples.Path(t, "debsecan/001.sid"))
	want, err := os.ReadFile(samples.Path(t, "debsecan/001.exp.summary"))
	if err != nil {
		t.Fatal(err)
	}
	status := readStatus(t, samples.Path(t, "debsecan/001.status"))
	deb, err := version.Lookup("deb")
	if err != nil {
		t.Fatal(err)
	}
	less := func(a, b string) bool {
		c, err := deb.Compare(a, b)
		if err != nil {
			t.Fatalf("compare %q %q: %v", a, b, err)
		}
		return c < 0
	}
	var got []string
	for _, bp := range status {
		for _, p := range ps {
			for _, f := range p.Fixes {
				if f.Release != "sid" {
					t.Fatalf("release = %q", f.Release)
				}
				vuln := false
				switch {
				case f.PackageKind == patchcore.PackageBinary && f.Package == bp.name:
					vuln = f.FixedVersion == "" || less(bp.version, f.FixedVersion)
				case f.Package == bp.source:
					vuln = (f.FixedVersion == "" || less(bp.srcVersion, f.FixedVersion)) &&
						!slices.Contains(f.ExcludedVersions, bp.srcVersion)
				}
				if !vuln {
					continue
				}
				var notes []string
				if f.Attributes["fix_available"] == "yes" {
					notes = append(notes, "fixed")
				}
				if f.Attributes["remote"] == "yes" {
					notes = append(notes, "remotely exploitable")
				}
				if u := f.Attributes["urgency"]; u != "" {
					notes = append(notes, u+" urgency")
				}
				if f.Binaries != nil && !slices.Contains(f.Binaries, bp.name) {
					notes = append(notes, "obsolete")
				}
				got = append(got, fmt.Sprintf("%s %s (%s)", p.ID, bp.name, strings.Join(notes, ", ")))
			}
		}
	}
	sort.Strings(got)
	if g, w := strings.Join(got, "\n")+"\n", string(want); g != w {
		t.Errorf("summary differs:\ngot:\n%s\nwant:\n%s", g, w)
	}
}

type installed struct{ name, version, source, srcVersion string }

// readStatus reads the installed packages of a dpkg status file.
func readStatus(t *testing.T, path string) []installed {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []installed
	for _, rec := range strings.Split(string(b), "\n\n") {
		var p installed
		ok := false
		for _, l := range strings.Split(rec, "\n") {
			k, v, _ := strings.Cut(l, ": ")
			switch k {
			case "Package":
				p.name = v
			case "Version":
				p.version = v
			case "Status":
				ok = slices.Contains(strings.Fields(v), "installed")
			case "Source":
				src, ver, _ := strings.Cut(v, " ")
				p.source, p.srcVersion = src, strings.Trim(ver, "()")
			}
		}
		if !ok || p.name == "" {
			continue
		}
		if p.source == "" {
			p.source = p.name
		}
		if p.srcVersion == "" {
			p.srcVersion = p.version
		}
		out = append(out, p)
	}
	return out
}

func TestDebsecanSample(t *testing.T) {
	path := samples.Path(t, "debsecan/001.sid")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	fd, err := ReadDebsecan(context.Background(), fh, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(fd.Vulns) != 79 || len(fd.Entries) != 79 {
		t.Fatalf("vulns %d entries %d, want 79 and 79", len(fd.Vulns), len(fd.Entries))
	}
	e := fd.Entries[78]
	if fd.Vulns[e.Vuln].Name != "CVE-2005-3651" || e.Package != "ethereal" || e.Binary || e.Urgency != "medium" ||
		e.Remote == nil || !*e.Remote || e.FixAvailable || e.UnstableVersion != "" ||
		!slices.Equal(e.OtherVersions, []string{"0.10.10-2sarge4"}) || e.Line != 160 {
		t.Errorf("entry 78 = %+v", e)
	}
	if !slices.Equal(e.Binaries, []string{"ethereal", "ethereal-common", "ethereal-dev", "tethereal"}) {
		t.Errorf("binaries = %v", e.Binaries)
	}
	if fd.Entries[46].Remote != nil {
		t.Errorf("entry 46 remote = %v, want unknown", *fd.Entries[46].Remote)
	}
	ps := parseFile(t, Debsecan{}, path)
	p := find(ps, "CVE-2005-3184", "")
	if p == nil {
		t.Fatal("no CVE-2005-3184")
	}
	f := p.Fixes[0]
	if f.Status != patchcore.FixFixed || f.FixedVersion != "0.10.13-1" || f.Release != "" ||
		f.Severity.Level != patchcore.SeverityMedium || p.Severity.Level != patchcore.SeverityMedium ||
		f.Attributes["remote"] != "yes" || f.Attributes["flags"] != "SMRF" {
		t.Errorf("CVE-2005-3184 fix = %+v", f)
	}
	if p := find(ps, "CVE-2003-0428", ""); p == nil || p.Fixes[0].Status != patchcore.FixNotAffected {
		t.Errorf("CVE-2003-0428 (version 0) = %+v", p)
	}
	if p := find(ps, "CVE-2005-3313", ""); p == nil || p.Fixes[0].Status != patchcore.FixUnfixed {
		t.Errorf("CVE-2005-3313 = %+v", p)
	}
}

func zlibBytes(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	io.WriteString(w, s)
	w.Close()
	return b.Bytes()
}

func TestDebsecanErrors(t *testing.T) {
	good := "VERSION 1\nCVE-1,,desc\n\npkg,0,SMRF,1.0-1,\n\npkg,pkg pkg-bin\n"
	if ps, err := parseBytes(Debsecan{}, []byte(good)); err != nil || len(ps) != 1 {
		t.Fatalf("plain text: %v %v", ps, err)
	}
	if ps, err := parseBytes(Debsecan{}, zlibBytes(good)); err != nil || len(ps) != 1 ||
		!slices.Equal(ps[0].Fixes[0].Binaries, []string{"pkg", "pkg-bin"}) {
		t.Fatalf("zlib: %+v %v", ps, err)
	}
	tests := []struct {
		name  string
		doc   []byte
		line  int
		field string
		large bool
	}{
		{"bad header", []byte("VERSION 0\n"), 1, "header", false},
		{"empty", []byte(""), 1, "header", false},
		{"vuln line", []byte("VERSION 1\nnocomma\n"), 2, "vulnerability", false},
		{"index range", []byte("VERSION 1\nCVE-1,,d\n\npkg,1,SMRF,1,\n"), 4, "package line: vulnerability index", false},
		{"index word", []byte("VERSION 1\nCVE-1,,d\n\npkg,x,SMRF,1,\n"), 4, "package line: vulnerability index", false},
		{"flags length", []byte("VERSION 1\nCVE-1,,d\n\npkg,0,SM,1,\n"), 4, "package line: flags", false},
		{"flag urgency", []byte("VERSION 1\nCVE-1,,d\n\npkg,0,SXRF,1,\n"), 4, "package line: flags", false},
		{"fields", []byte("VERSION 1\nCVE-1,,d\n\npkg,0,SMRF\n"), 4, "package line", false},
		{"source line", []byte("VERSION 1\nCVE-1,,d\n\npkg,0,SMRF,1,\n\na,b,c\n"), 6, "source package", false},
		{"truncated zlib", zlibBytes(good)[:20], 0, "", false},
		{"not zlib", []byte{0x78, 0x9c, 0xff, 0xff, 0xff}, 0, "", false},
		{"garbage", []byte("\x00\x01garbage"), 0, "zlib header", false},
		{"long line", append([]byte("VERSION 1\n"), bytes.Repeat([]byte("a"), maxLine+10)...), 2, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(Debsecan{File: "sid"}, tt.doc)
			var pe *feed.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
			}
			if !errors.Is(err, patchcore.ErrMalformedFeed) || pe.File != "sid" {
				t.Errorf("error %v: want ErrMalformedFeed in sid", err)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tt.line, err)
			}
			if pe.Field != tt.field && tt.field != "" {
				t.Errorf("field = %q, want %q", pe.Field, tt.field)
			}
			if tt.large != errors.Is(err, patchcore.ErrTooLarge) {
				t.Errorf("ErrTooLarge = %v, want %v", !tt.large, tt.large)
			}
		})
	}
}

func TestDebsecanDetect(t *testing.T) {
	b, err := os.ReadFile(samples.Path(t, "debsecan/001.sid"))
	if err != nil {
		t.Fatal(err)
	}
	for _, head := range [][]byte{b[:16], []byte("VERSION 1\nCVE")} {
		if !(Debsecan{}).Detect(head) {
			t.Errorf("Detect(%q) = false", head)
		}
	}
	for _, head := range []string{"VERSION 0\n", "{", "\x1f\x8b", "x"} {
		if (Debsecan{}).Detect([]byte(head)) {
			t.Errorf("Detect(%q) = true", head)
		}
	}
}

func TestAdvisoryList(t *testing.T) {
	ps := parseFile(t, AdvisoryList{}, "testdata/DSA.list")
	if len(ps) != 3 {
		t.Fatalf("got %d advisories, want 3", len(ps))
	}
	p := ps[1]
	if p.ID != "DSA-5694-1" || p.Source != "debian-dsa" || p.Title != "chromium - security update" ||
		!p.Released.Equal(time.Date(2024, 5, 20, 0, 0, 0, 0, time.UTC)) ||
		!slices.Equal(p.CVEIDs(), []string{"CVE-2024-4947", "CVE-2024-4948"}) {
		t.Errorf("DSA-5694-1 = %+v", p)
	}
	if f := fixFor(&p, "bookworm", "chromium"); f == nil || f.FixedVersion != "125.0.6422.60-1~deb12u1" ||
		f.Status != patchcore.FixFixed || f.PackageKind != patchcore.PackageSource || f.Scheme != "deb" {
		t.Errorf("bookworm fix = %+v", f)
	}
	if f := fixFor(&p, "bullseye", "chromium"); f == nil || f.Status != patchcore.FixWontFix || f.Attributes["note"] != "<end-of-life>" {
		t.Errorf("bullseye fix = %+v", f)
	}
	if f := fixFor(&ps[2], "", "mgetty"); f == nil || f.FixedVersion != "1.1.21-3potato1" || len(ps[2].CVEs) != 0 {
		t.Errorf("DSA-011-2 = %+v", ps[2])
	}
	dla := parseFile(t, AdvisoryList{}, "testdata/DLA.list")
	if len(dla) != 1 || dla[0].Source != "debian-dla" || dla[0].Fixes[1].Status != patchcore.FixNotAffected {
		t.Errorf("DLA = %+v", dla)
	}
	if !(AdvisoryList{}).Detect([]byte("[21 May 2024] DSA-5695-1 chromium - security update\n")) || (AdvisoryList{}).Detect([]byte("{}")) {
		t.Error("Detect")
	}
}

// A malformed header costs its own entry only, as in the security
// tracker's tools; the recovery is reported with its line.
func TestAdvisoryListMalformedHeader(t *testing.T) {
	fh, err := os.Open(samples.Path(t, "debian/DLA-list-malformed-header"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var notices []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { notices = append(notices, n) })
	var ps []patchcore.Patch
	if err := (AdvisoryList{File: "DLA/list"}).Parse(ctx, fh, func(p patchcore.Patch) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != "DLA-2711-1" || len(ps[0].CVEs) != 4 || len(ps[0].Fixes) != 1 {
		t.Errorf("patches %+v", ps)
	}
	if len(notices) != 1 || notices[0].Kind != feed.NoticeRecovered || notices[0].File != "DLA/list" || notices[0].Line != 4 ||
		!strings.Contains(notices[0].Message, "MALFORMED HEADER") {
		t.Errorf("notices %+v", notices)
	}
	// The entry after a skipped one is read again.
	doc := "[21 May 2024] DSA-1-1 a - b\n\t[bookworm] - a 1\n[xx] bad\n\t[bookworm] - b 2\n[22 May 2024] DSA-2-1 c - d\n\t[bookworm] - c 3\n"
	notices = nil
	ps = nil
	if err := (AdvisoryList{}).Parse(ctx, strings.NewReader(doc), func(p patchcore.Patch) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 || ps[1].ID != "DSA-2-1" || len(ps[0].Fixes) != 1 || len(ps[1].Fixes) != 1 || len(notices) != 1 || notices[0].Line != 3 {
		t.Errorf("patches %+v, notices %+v", ps, notices)
	}
}

func TestAdvisoryListErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		line      int
		field     string
	}{
		{"bad header", "[21 May 2024 DSA-1-1 x - y\n", 1, "advisory header"},
		{"bad date", "[41 May 2024] DSA-1-1 x - y\n", 1, "advisory header: date"},
		{"orphan", "\t[bookworm] - x 1\n", 1, ""},
		{"bad release", "[21 May 2024] DSA-1-1 x - y\n\t[bookworm - x 1\n", 2, "release line"},
		{"no version", "[21 May 2024] DSA-1-1 x - y\n\t[bookworm] - x\n", 2, "release line"},
		{"unterminated cves", "[21 May 2024] DSA-1-1 x - y\n\t{CVE-1\n", 2, "CVE list"},
		{"stray", "[21 May 2024] DSA-1-1 x - y\nfoo\n", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(AdvisoryList{File: "list"}, []byte(tt.doc))
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) {
				t.Fatalf("error %v (%T) is not a malformed-feed *feed.ParseError", err, err)
			}
			if pe.Line != tt.line || pe.Field != tt.field || pe.File != "list" {
				t.Errorf("at %s:%d %q, want line %d field %q (%v)", pe.File, pe.Line, pe.Field, tt.line, tt.field, err)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := (Tracker{}).Parse(ctx, strings.NewReader(`{"a":{}}`), func(patchcore.Patch) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
