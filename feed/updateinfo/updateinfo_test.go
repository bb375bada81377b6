package updateinfo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

func parseBytes(f feed.Format, b []byte) ([]patchcore.Patch, error) {
	var out []patchcore.Patch
	err := f.Parse(context.Background(), bytes.NewReader(b), func(p patchcore.Patch) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func parseFile(t testing.TB, f feed.Format, path string) []patchcore.Patch {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parseBytes(f, b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ps
}

func byID(t *testing.T, ps []patchcore.Patch, id string) patchcore.Patch {
	t.Helper()
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no patch %s", id)
	return patchcore.Patch{}
}

func fix(t *testing.T, p patchcore.Patch, pkg, arch string) patchcore.Fix {
	t.Helper()
	for _, f := range p.Fixes {
		if f.Package == pkg && f.Arch == arch {
			return f
		}
	}
	t.Fatalf("%s: no fix for %s.%s in %+v", p.ID, pkg, arch, p.Fixes)
	return patchcore.Fix{}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRocky(t *testing.T) {
	ps := parseFile(t, Reader{}, samples.Path(t, "rocky/updateinfo.xml"))
	if len(ps) != 4 {
		t.Fatalf("got %d updates, want 4", len(ps))
	}
	p := byID(t, ps, "RLSA-2021:2575")
	if p.Source != "updateinfo" || p.Classification != patchcore.ClassSecurity || p.Severity.Level != patchcore.SeverityMedium ||
		p.Severity.Raw != "Moderate" || !p.Released.Equal(utc("2021-07-22 03:13:55")) || !p.Revised.Equal(utc("2021-06-29 00:00:00")) ||
		!slices.Equal(p.CVEIDs(), []string{"CVE-2021-3520"}) {
		t.Errorf("RLSA-2021:2575 = %+v", p)
	}
	f := fix(t, p, "lz4", "x86_64")
	if f.Distro != "rocky" || f.Release != "8" || f.Scheme != "rpm" || f.PackageKind != patchcore.PackageBinary ||
		f.FixedVersion != "0:1.8.3-3.el8_4" || f.Status != patchcore.FixFixed || f.ModuleStream != "" {
		t.Errorf("lz4 fix = %+v", f)
	}
	for _, f := range p.Fixes {
		if f.Arch == "src" {
			t.Errorf("source rpm kept: %+v", f)
		}
	}
	bug := byID(t, ps, "RLBA-2021:2580")
	if bug.Classification != patchcore.ClassBugfix || bug.Severity.Level != patchcore.SeverityNone {
		t.Errorf("RLBA-2021:2580 = %v %+v", bug.Classification, bug.Severity)
	}
	ruby := byID(t, ps, "RLSA-2019:1972")
	if f := fix(t, ruby, "rubygem-abrt", "noarch"); f.ModuleStream != "ruby:2.6" || f.Release != "8" ||
		f.FixedVersion != "0:0.3.0-4.module+el8.5.0+738+032c9c02" {
		t.Errorf("ruby module fix = %+v", f)
	}
}

func TestAmazon(t *testing.T) {
	ps := parseFile(t, Reader{}, samples.Path(t, "amazon/updateinfo_AL2023.xml.gz"))
	p := byID(t, ps, "ALAS2023-2023-001")
	if p.Vendor != "Amazon" || p.Severity.Level != patchcore.SeverityHigh || !p.Released.Equal(utc("2023-02-17 20:41:00")) ||
		!slices.Contains(p.CVEIDs(), "CVE-2022-24903") {
		t.Errorf("ALAS2023-2023-001 = %+v", p)
	}
	if f := fix(t, p, "rsyslog-debugsource", "x86_64"); f.Distro != "amzn" || f.Release != "2023" || f.FixedVersion != "0:8.2204.0-3.amzn2023.0.2" {
		t.Errorf("rsyslog fix = %+v", f)
	}
	ps = parseFile(t, Reader{}, samples.Path(t, "amazon/updateinfo_2_items.xml.gz"))
	if len(ps) != 2 {
		t.Fatalf("got %d updates, want 2", len(ps))
	}
	p = byID(t, ps, "ALAS2-2018-942")
	if p.Severity.Level != patchcore.SeverityHigh || p.Severity.Raw != "important" {
		t.Errorf("severity = %+v", p.Severity)
	}
	if f := fix(t, p, "qemu-kvm", "x86_64"); f.Release != "2" || f.FixedVersion != "10:1.5.3-141.amzn2.5.3" {
		t.Errorf("qemu-kvm fix = %+v", f)
	}
}

func TestFedoraFixtureCompressions(t *testing.T) {
	plain, err := os.ReadFile("testdata/fedora-updateinfo.xml")
	if err != nil {
		t.Fatal(err)
	}
	bz, err := os.ReadFile("testdata/fedora-updateinfo.xml.bz2")
	if err != nil {
		t.Fatal(err)
	}
	var xzb, zsb bytes.Buffer
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(plain)
	xw.Close()
	zw, _ := zstd.NewWriter(&zsb)
	zw.Write(plain)
	zw.Close()
	for name, doc := range map[string][]byte{"plain": plain, "bz2": bz, "xz": xzb.Bytes(), "zst": zsb.Bytes()} {
		t.Run(name, func(t *testing.T) {
			ps, err := parseBytes(Reader{}, doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 {
				t.Fatalf("got %d patches", len(ps))
			}
			p := ps[0]
			if p.ID != "FEDORA-2024-1a2b3c4d5e" || p.Vendor != "Fedora Project" || p.Severity.Level != patchcore.SeverityHigh ||
				!p.Revised.Equal(time.Unix(1715302923, 0)) || !slices.Equal(p.CVEIDs(), []string{"CVE-2024-26925"}) {
				t.Errorf("patch = %+v", p)
			}
			if len(p.Fixes) != 2 {
				t.Fatalf("fixes = %+v", p.Fixes)
			}
			k := fix(t, p, "kernel", "x86_64")
			if k.Distro != "fedora" || k.Release != "40" || k.Reboot != patchcore.RebootRequired || k.FixedVersion != "0:6.8.9-300.fc40" {
				t.Errorf("kernel fix = %+v", k)
			}
			pg := fix(t, p, "postgresql-server", "x86_64")
			if pg.ModuleStream != "postgresql:16" || pg.FixedVersion != "16.3-1.module_f40+19000+abc" || pg.Reboot != "" {
				t.Errorf("module fix = %+v", pg)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	doc := `<updates><update type="security"><id>X-1</id><pkglist><collection><package name="a" version="1" release="2" arch="aarch64"/></collection></pkglist></update></updates>`
	ps, err := parseBytes(Reader{Distro: "myos", Release: "7"}, []byte(doc))
	if err != nil || len(ps) != 1 || ps[0].Fixes[0].Distro != "myos" || ps[0].Fixes[0].Release != "7" || ps[0].Fixes[0].FixedVersion != "1-2" {
		t.Fatalf("%+v %v", ps, err)
	}
}

func TestRepomd(t *testing.T) {
	fh, err := os.Open(samples.Path(t, "rocky/repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	md, err := ReadRepomd(context.Background(), fh, "")
	if err != nil {
		t.Fatal(err)
	}
	d, err := md.Updateinfo()
	if err != nil {
		t.Fatal(err)
	}
	if d.Location.Href != "repodata/updateinfo.xml.gz" || d.Checksum.Type != "sha256" || len(d.Checksum.Value) != 64 {
		t.Errorf("updateinfo entry = %+v", d)
	}
	if _, err := (&Repomd{}).Updateinfo(); !errors.Is(err, patchcore.ErrNotFound) {
		t.Errorf("empty repomd: %v", err)
	}
	_, err = ReadRepomd(context.Background(), strings.NewReader("<updates/>"), "repomd.xml")
	var pe *feed.ParseError
	if !errors.As(err, &pe) || pe.File != "repomd.xml" {
		t.Errorf("wrong root: %v", err)
	}
}

func TestAlma(t *testing.T) {
	ps := parseFile(t, AlmaErrata{}, samples.Path(t, "alma/errata.json"))
	if len(ps) != 4 {
		t.Fatalf("got %d errata", len(ps))
	}
	p := byID(t, ps, "ALSA-2021:3253")
	if p.Source != "alma-errata" || p.Severity.Level != patchcore.SeverityHigh || !p.Released.Equal(time.UnixMilli(1629790196000)) ||
		!slices.Equal(p.CVEIDs(), []string{"CVE-2021-3246"}) || p.Classification != patchcore.ClassSecurity {
		t.Errorf("ALSA-2021:3253 = %+v", p)
	}
	if f := fix(t, p, "libsndfile", "i686"); f.Distro != "almalinux" || f.Release != "8" || f.FixedVersion != "0:1.0.28-10.el8_4.1" {
		t.Errorf("libsndfile fix = %+v", f)
	}
	virt := byID(t, ps, "ALSA-2020:0279")
	if len(virt.Fixes) == 0 || virt.Fixes[0].ModuleStream != "virt:rhel" {
		t.Errorf("virt module fixes = %+v", virt.Fixes)
	}
}

func TestDetect(t *testing.T) {
	if !(Reader{}).Detect([]byte("<?xml version=\"1.0\" ?>\n<updates><update")) || !(Reader{}).Detect([]byte("<updates>")) {
		t.Error("updateinfo not detected")
	}
	if (Reader{}).Detect([]byte("<updatesfoo>")) || (Reader{}).Detect([]byte("<oval_definitions>")) {
		t.Error("false positive")
	}
	if !(AlmaErrata{}).Detect([]byte(`[ {"_id": {}, "updateinfo_id": "ALSA-1"`)) || (AlmaErrata{}).Detect([]byte(`{"updateinfo_id"`)) {
		t.Error("alma detect")
	}
}

func TestErrors(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzipWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return b.Bytes()
	}
	good := `<updates><update type="security"><id>X-1</id></update></updates>`
	tests := []struct {
		name  string
		f     feed.Format
		doc   []byte
		field string
		line  int
	}{
		{"truncated", Reader{}, []byte("<updates>\n<update><id>X</id>\n<title>t"), "update[1]", 3},
		{"unclosed root", Reader{}, []byte("<updates>\n"), "", 2},
		{"wrong root", Reader{}, []byte("<oval_definitions/>"), "oval_definitions", 1},
		{"empty", Reader{}, nil, "updates", 0},
		{"no id", Reader{}, []byte("<updates><update></update></updates>"), "update[1]/id", 1},
		{"bad date", Reader{}, []byte("<updates>\n<update><id>X-1</id><issued date=\"yesterday\"/></update></updates>"), "update[1] X-1/issued/@date", 2},
		{"deep", Reader{}, []byte("<updates>" + deep + "</updates>"), "a", 1},
		{"entity", Reader{}, []byte(`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><updates><update><id>&lol2;</id></update></updates>`), "update[1]", 1},
		{"bad gzip", Reader{}, gz(good)[:30], "", 0},
		{"alma truncated", AlmaErrata{}, []byte(`[{"updateinfo_id":"ALSA-1","issued_date":{"$date":`), "[0]", 0},
		{"alma type", AlmaErrata{}, []byte(`[{"updateinfo_id":"ALSA-1","pkglist":{"packages":[{"name":5}]}}]`), "[0]/pkglist/packages/name", 0},
		{"alma date", AlmaErrata{}, []byte(`[{"updateinfo_id":"ALSA-1","issued_date":{"$date":"soon"}}]`), "[0]", 0},
		{"alma object", AlmaErrata{}, []byte(`{"updateinfo_id":"x"}`), "", 0},
		{"alma trailing", AlmaErrata{}, []byte(`[] []`), "", 0},
		{"alma no id", AlmaErrata{}, []byte(`[{}]`), "[0].updateinfo_id", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(withFile(tt.f, "doc"), tt.doc)
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) {
				t.Fatalf("error %v (%T) is not a malformed-feed *feed.ParseError", err, err)
			}
			if pe.File != "doc" || (tt.field != "" && pe.Field != tt.field) || (tt.line != 0 && pe.Line != tt.line) {
				t.Errorf("at %s:%d field %q, want line %d field %q (%v)", pe.File, pe.Line, pe.Field, tt.line, tt.field, err)
			}
		})
	}
}

func withFile(f feed.Format, name string) feed.Format {
	switch f.(type) {
	case Reader:
		return Reader{File: name}
	case AlmaErrata:
		return AlmaErrata{File: name}
	}
	return f
}

func TestEmitErrorAndCancel(t *testing.T) {
	doc := []byte(`<updates><update><id>X-1</id></update><update><id>X-2</id></update></updates>`)
	stop := errors.New("stop")
	if err := (Reader{}).Parse(context.Background(), bytes.NewReader(doc), func(patchcore.Patch) error { return stop }); err != stop {
		t.Errorf("err = %v, want the emit error as is", err)
	}
	if err := (AlmaErrata{}).Parse(context.Background(), strings.NewReader(`[{"updateinfo_id":"A"}]`), func(patchcore.Patch) error { return stop }); err != stop {
		t.Errorf("alma err = %v, want the emit error as is", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (AlmaErrata{}).Parse(ctx, strings.NewReader(`[{"updateinfo_id":"A"}]`), func(patchcore.Patch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
