package suse

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"

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

func TestSample(t *testing.T) {
	b, err := os.ReadFile(samples.Path(t, "suse/cvrf-suse-su-2019-1608-1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !(CVRF{}).Detect(b[:2048]) {
		t.Error("not detected")
	}
	ps, err := parseBytes(CVRF{}, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("got %d patches", len(ps))
	}
	p := ps[0]
	if p.ID != "SUSE-SU-2019:1608-1" || p.Source != "suse-cvrf" || p.Title != "Security update for compat-openssl098" ||
		p.Severity.Level != patchcore.SeverityMedium || !p.Released.Equal(time.Date(2019, 6, 21, 8, 27, 12, 0, time.UTC)) ||
		len(p.CVEs) == 0 || p.CVEs[0].ID != "CVE-2019-1559" || !strings.Contains(p.Description, "CVE-2019-1559") {
		t.Errorf("patch = %+v", p)
	}
	var f *patchcore.Fix
	for i := range p.Fixes {
		if p.Fixes[i].Product == "SUSE Linux Enterprise Module for Legacy Software 12" && p.Fixes[i].Package == "libopenssl0_9_8-32bit" {
			f = &p.Fixes[i]
		}
	}
	if f == nil || f.Distro != "sles" || f.Release != "12" || f.FixedVersion != "0.9.8j-106.12.1" || f.Status != patchcore.FixFixed ||
		f.Scheme != "rpm" || f.PackageKind != patchcore.PackageBinary {
		t.Errorf("libopenssl0_9_8-32bit fix = %+v", f)
	}
	found := false
	for _, f := range p.Fixes {
		if f.Product == "SUSE Linux Enterprise Server for SAP Applications 12 SP4" && f.Distro == "sles_sap" && f.Release == "12.4" {
			found = true
		}
	}
	if !found {
		t.Errorf("no sles_sap 12.4 fix in %+v", p.Fixes)
	}
}

// openSUSE-SU-2016:0874-1 has two Latin-1 bytes in its changelog note; the
// advisory is read, and each repair reported with its position.
func TestInvalidUTF8InFreeText(t *testing.T) {
	b, err := os.ReadFile(samples.Path(t, "suse/cvrf-opensuse-su-2016-0874-1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var notices []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { notices = append(notices, n) })
	var ps []patchcore.Patch
	if err := (CVRF{File: "a.xml"}).Parse(ctx, bytes.NewReader(b), func(p patchcore.Patch) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != "openSUSE-SU-2016:0874-1" || len(ps[0].CVEs) != 1 || ps[0].CVEs[0].ID != "CVE-2016-3116" ||
		!strings.Contains(ps[0].Description, "Ga\uFFFDl Portay") {
		t.Fatalf("patches %+v", ps)
	}
	want := []feed.Notice{
		{Kind: feed.NoticeRecovered, File: "a.xml", Offset: 3159, ID: "openSUSE-SU-2016:0874-1"},
		{Kind: feed.NoticeRecovered, File: "a.xml", Offset: 5664, ID: "openSUSE-SU-2016:0874-1"},
	}
	if len(notices) != len(want) {
		t.Fatalf("notices %+v", notices)
	}
	for i, w := range want {
		n := notices[i]
		if n.Kind != w.Kind || n.File != w.File || n.Offset != w.Offset || n.ID != w.ID || n.Line != bytes.Count(b[:w.Offset], []byte("\n"))+1 {
			t.Errorf("notice %d = %+v, want %+v", i, n, w)
		}
	}
	// In data detection reads, the same byte fails the document.
	bad := bytes.Replace(b, []byte(">openSUSE-SU-2016:0874-1</ID"), []byte(">openSUSE-SU-2016:0874-1\xe9</ID"), 1)
	if bytes.Equal(bad, b) {
		t.Fatal("no tracking ID to corrupt")
	}
	_, err = parseBytes(CVRF{File: "a.xml"}, bad)
	var pe *feed.ParseError
	if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) || pe.Field != "DocumentTracking/Identification/ID" || pe.Line == 0 {
		t.Errorf("invalid UTF-8 in the ID: %v", err)
	}
}

// TestOpenSUSE13Products: openSUSE 13.1 and 13.2 advisories (no Leap in
// the product name) give fixes for "opensuse" 13.1 / 13.2; before, they had
// no distro or release and never applied to any device.
func TestOpenSUSE13Products(t *testing.T) {
	for _, c := range []struct{ file, id, release, pkg, fixed string }{
		{"suse/cvrf-opensuse-su-2015-0225-1.xml", "openSUSE-SU-2015:0225-1", "13.1", "libvirt-client", "1.1.2-2.48.1"},
		{"suse/cvrf-opensuse-su-2015-0798-1.xml", "openSUSE-SU-2015:0798-1", "13.2", "python-Pillow", "2.8.1-3.3.1"},
	} {
		b, err := os.ReadFile(samples.Path(t, c.file))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := parseBytes(CVRF{}, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].ID != c.id || len(ps[0].Fixes) == 0 {
			t.Fatalf("%s: %d patches %+v", c.file, len(ps), ps)
		}
		found := false
		for _, f := range ps[0].Fixes {
			if f.Distro != "opensuse" || f.Release != c.release {
				t.Errorf("%s: fix for %q %q (product %q), want opensuse %s", c.file, f.Distro, f.Release, f.Product, c.release)
			}
			found = found || f.Package == c.pkg && f.FixedVersion == c.fixed
		}
		if !found {
			t.Errorf("%s: no fix %s %s in %+v", c.file, c.pkg, c.fixed, ps[0].Fixes)
		}
	}
}

func TestPlatformOf(t *testing.T) {
	tests := []struct{ in, distro, release string }{
		{"SUSE Linux Enterprise Server 15 SP1-LTSS", "sles", "15.1"},
		{"SUSE Linux Enterprise Desktop 12 SP3", "sled", "12.3"},
		{"SUSE Linux Enterprise Server 12", "sles", "12"},
		{"openSUSE Leap 15.5", "opensuse-leap", "15.5"},
		{"openSUSE 13.1", "opensuse", "13.1"},
		{"openSUSE 13.2 NonFree", "opensuse", "13.2"},
		{"openSUSE Evergreen 11.4", "opensuse", "11.4"},
		{"openSUSE Tumbleweed", "opensuse-tumbleweed", ""},
		{"Something else", "", ""},
	}
	for _, tt := range tests {
		if d, r := platformOf(tt.in); d != tt.distro || r != tt.release {
			t.Errorf("platformOf(%q) = %q %q, want %q %q", tt.in, d, r, tt.distro, tt.release)
		}
	}
}

func TestErrors(t *testing.T) {
	good, err := os.ReadFile(samples.Path(t, "suse/cvrf-suse-su-2019-1608-1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, doc, field string }{
		{"truncated", string(good[:len(good)/2]), ""},
		{"empty", "", "cvrfdoc"},
		{"wrong root", "<updates/>", "updates"},
		{"no id", "<cvrfdoc><DocumentTitle>x</DocumentTitle></cvrfdoc>", "DocumentTracking/Identification/ID"},
		{"bad date", "<cvrfdoc><DocumentTracking><Identification><ID>X</ID></Identification><InitialReleaseDate>soon</InitialReleaseDate></DocumentTracking></cvrfdoc>", "DocumentTracking/InitialReleaseDate"},
		{"entity", `<!DOCTYPE x [<!ENTITY a "aaaa">]><cvrfdoc><DocumentTitle>&a;</DocumentTitle></cvrfdoc>`, "DocumentTitle"},
		{"bad vulnerability", "<cvrfdoc><Vulnerability><CVE>x</Vulnerability></cvrfdoc>", "Vulnerability[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(CVRF{File: "cvrf.xml"}, []byte(tt.doc))
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) {
				t.Fatalf("error %v (%T) is not a malformed-feed *feed.ParseError", err, err)
			}
			if pe.File != "cvrf.xml" || (tt.field != "" && pe.Field != tt.field) {
				t.Errorf("error %v: field %q, want %q", err, pe.Field, tt.field)
			}
		})
	}
}

func FuzzCVRF(f *testing.F) {
	if b, err := os.ReadFile(samples.Path(f, "suse/cvrf-suse-su-2019-1608-1.xml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`<cvrfdoc><DocumentTracking><Identification><ID>SUSE-SU-1</ID></Identification></DocumentTracking><ProductTree><Relationship ProductReference="a-1-2.x86_64" RelatesToProductReference="SUSE Linux Enterprise Server 15 SP5"><FullProductName ProductID="p:a"/></Relationship></ProductTree><Vulnerability><CVE>CVE-1</CVE><ProductStatuses><Status Type="Fixed"><ProductID>p:a</ProductID></Status></ProductStatuses></Vulnerability></cvrfdoc>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		(CVRF{}).Detect(b)
		_, err := parseBytes(CVRF{}, b)
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
	})
}

func BenchmarkCVRFSample(b *testing.B) {
	doc, err := os.ReadFile(samples.Path(b, "suse/cvrf-suse-su-2019-1608-1.xml"))
	if err != nil {
		b.Fatal(err)
	}
	benchDoc(b, doc)
}

func BenchmarkCVRFLarge(b *testing.B) { benchDoc(b, largeCVRF()) }

func benchDoc(b *testing.B, doc []byte) {
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := parseBytes(CVRF{}, doc); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
}

// largeCVRF generates a kernel-sized SUSE CVRF document, about 15 MB.
func largeCVRF() []byte {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<cvrfdoc xmlns="http://www.icasi.org/CVRF/schema/cvrf/1.1"><DocumentTitle>Security update for the Linux Kernel</DocumentTitle><DocumentType>SUSE Patch</DocumentType>
<DocumentTracking><Identification><ID>SUSE-SU-2024:9999-1</ID></Identification><InitialReleaseDate>2024-06-21T08:27:12Z</InitialReleaseDate><CurrentReleaseDate>2024-06-21T08:27:12Z</CurrentReleaseDate></DocumentTracking>
<ProductTree xmlns="http://www.icasi.org/CVRF/schema/prod/1.1">
`)
	var ids []string
	for sp := range 6 {
		prod := "SUSE Linux Enterprise Server 15 SP" + strconv.Itoa(sp)
		for k := range 60 {
			nvr := "kernel-sub" + strconv.Itoa(k) + "-5.14.21-150500.55.19.1"
			id := prod + ":" + nvr
			ids = append(ids, id)
			buf.WriteString(`<Relationship ProductReference="` + nvr + `" RelationType="Default Component Of" RelatesToProductReference="` + prod + `"><FullProductName ProductID="` + id + `">` + nvr + ` as a component of ` + prod + "</FullProductName></Relationship>\n")
		}
	}
	buf.WriteString("</ProductTree>\n")
	for c := range 400 {
		buf.WriteString(`<Vulnerability xmlns="http://www.icasi.org/CVRF/schema/vuln/1.1"><Notes><Note Type="General">A flaw in the kernel.</Note></Notes><CVE>CVE-2024-` + strconv.Itoa(10000+c) + "</CVE><ProductStatuses><Status Type=\"Fixed\">\n")
		for _, id := range ids {
			buf.WriteString("<ProductID>" + id + "</ProductID>\n")
		}
		buf.WriteString(`</Status></ProductStatuses><Threats><Threat Type="Impact"><Description>important</Description></Threat></Threats><CVSSScoreSets><ScoreSetV3><BaseScoreV3>7.8</BaseScoreV3><VectorV3>CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H</VectorV3></ScoreSetV3></CVSSScoreSets></Vulnerability>` + "\n")
	}
	buf.WriteString("</cvrfdoc>\n")
	return buf.Bytes()
}
