package csaf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
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

func parseOne(t *testing.T, path string) patchcore.Patch {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := parseBytes(Reader{}, b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(ps) != 1 {
		t.Fatalf("%s: %d patches, want 1", path, len(ps))
	}
	return ps[0]
}

func findFix(p patchcore.Patch, product, pkg, arch string) *patchcore.Fix {
	for i, f := range p.Fixes {
		if (product == "" || f.Product == product || f.ProductID == product) && f.Package == pkg && f.Arch == arch {
			return &p.Fixes[i]
		}
	}
	return nil
}

func TestRHSA2024_6163(t *testing.T) {
	p := parseOne(t, samples.Path(t, "redhat/rhsa-2024_6163.csaf.json"))
	if p.ID != "RHSA-2024:6163" || p.Source != "csaf" || p.Vendor != "Red Hat" || p.Severity.Level != patchcore.SeverityMedium ||
		p.Severity.Raw != "Moderate" || !p.Released.Equal(time.Date(2024, 9, 3, 17, 57, 24, 0, time.UTC)) ||
		!p.Revised.Equal(time.Date(2026, 3, 26, 18, 50, 3, 0, time.UTC)) {
		t.Errorf("patch = %+v", p)
	}
	if !slices.Equal(p.CVEIDs(), []string{"CVE-2024-8088"}) || p.CVEs[0].CVSSScore != 5.3 || !strings.HasPrefix(p.CVEs[0].CVSSVector, "CVSS:3.1/AV:N") {
		t.Errorf("CVEs = %+v", p.CVEs)
	}
	// The sample lists only the source rpm: it is kept as a source fix.
	f := findFix(p, "Red Hat Enterprise Linux AppStream (v. 9)", "python3.9", "")
	if f == nil {
		t.Fatalf("no python3.9 fix in %+v", p.Fixes)
	}
	if f.Distro != "rhel" || f.Release != "9" || f.FixedVersion != "0:3.9.18-3.el9_4.5" || f.Scheme != "rpm" ||
		f.PackageKind != patchcore.PackageSource || f.Status != patchcore.FixFixed || f.ProductID != "cpe:/a:redhat:enterprise_linux:9::appstream" {
		t.Errorf("python3.9 fix = %+v", f)
	}
	if len(p.Fixes) != 3 {
		t.Errorf("got %d fixes, want one per product (AppStream, BaseOS, CRB)", len(p.Fixes))
	}
}

func TestRHSA2022_0011(t *testing.T) {
	p := parseOne(t, samples.Path(t, "redhat/rhsa-2022-0011.csaf.json"))
	if p.ID != "RHSA-2022:0011" || p.Severity.Level != patchcore.SeverityHigh || !slices.Equal(p.CVEIDs(), []string{"CVE-2020-10188"}) {
		t.Errorf("patch = %+v", p)
	}
	f := findFix(p, "cpe:/o:redhat:rhel_e4s:7.6::server", "telnet-server", "ppc64le")
	// An E4S stream's fix is its minor release's.
	if f == nil || f.Release != "7.6" || f.FixedVersion != "1:0.17-65.el7_6" || f.PackageKind != patchcore.PackageBinary {
		t.Errorf("telnet-server fix = %+v", f)
	}
	for _, f := range p.Fixes {
		if f.PackageKind == patchcore.PackageSource {
			t.Errorf("source fix kept although binaries exist: %+v", f)
		}
	}
}

// TestEUSStreams: RHSA-2024:0811 ships sudo to the 8.6, 8.8, 9.0 and 9.2
// EUS streams and to mainline 8 and 9; each EUS fix carries its minor
// release, so that it is told from the mainline one.
func TestEUSStreams(t *testing.T) {
	p := parseOne(t, samples.Path(t, "redhat/rhsa-2024_0811.csaf.json"))
	want := map[string]string{ // product CPE -> release, version of sudo x86_64
		"cpe:/o:redhat:rhel_eus:8.6::baseos":       "8.6 0:1.9.5p2-1.el8_6",
		"cpe:/o:redhat:rhel_eus:8.8::baseos":       "8.8 0:1.9.5p2-1.el8_8",
		"cpe:/o:redhat:enterprise_linux:8::baseos": "8 0:1.9.5p2-1.el8_9",
		"cpe:/o:redhat:rhel_eus:9.0::baseos":       "9.0 0:1.9.5p2-7.el9_0.4",
		"cpe:/o:redhat:rhel_eus:9.2::baseos":       "9.2 0:1.9.5p2-9.el9_2.2",
		"cpe:/o:redhat:enterprise_linux:9::baseos": "9 0:1.9.5p2-10.el9_3",
	}
	for cpe, w := range want {
		f := findFix(p, cpe, "sudo", "x86_64")
		if f == nil {
			t.Errorf("%s: no sudo x86_64 fix", cpe)
			continue
		}
		if got := f.Release + " " + f.FixedVersion; got != w {
			t.Errorf("%s: sudo fix %s, want %s", cpe, got, w)
		}
	}
}

func TestVEXSample(t *testing.T) {
	p := parseOne(t, samples.Path(t, "redhat/cve-2024-24786.vex.json"))
	if p.ID != "CVE-2024-24786" || p.Source != "csaf-vex" || p.Severity.Level != patchcore.SeverityMedium ||
		!slices.Equal(p.CVEIDs(), []string{"CVE-2024-24786"}) || p.CVEs[0].CVSSScore != 5.9 {
		t.Errorf("patch = %+v", p)
	}
	f := findFix(p, "Red Hat OpenShift Container Platform 4.16", "cri-tools", "aarch64")
	if f == nil || f.Status != patchcore.FixFixed || f.FixedVersion != "0:1.29.0-3.1.el9" || f.Release != "9" || f.Attributes["vex_status"] != "fixed" {
		t.Errorf("cri-tools fix = %+v", f)
	}
}

func TestVEXStatuses(t *testing.T) {
	p := parseOne(t, "testdata/cve-2023-99999.vex.json")
	if p.ID != "CVE-2023-99999" || p.Severity.Level != patchcore.SeverityHigh || p.Description != "A made-up flaw." {
		t.Errorf("patch = %+v", p)
	}
	tests := []struct {
		product, pkg, arch string
		status             patchcore.FixStatus
		fixed, stream      string
		kind               patchcore.PackageKind
		remediation        string
	}{
		{"cpe:/a:redhat:enterprise_linux:9::appstream", "nodejs", "x86_64", patchcore.FixFixed, "1:18.14.2-2.module+el9.2.0+18000+abcd", "nodejs:18", patchcore.PackageBinary, "vendor_fix"},
		{"cpe:/o:redhat:enterprise_linux:8", "libexample", "", patchcore.FixUnfixed, "", "", patchcore.PackageSource, "none_available"},
		{"cpe:/o:redhat:enterprise_linux:7", "oldlib", "", patchcore.FixWontFix, "", "", patchcore.PackageSource, "no_fix_planned"},
		{"cpe:/o:redhat:enterprise_linux:6", "libexample", "", patchcore.FixNotAffected, "", "", patchcore.PackageSource, ""},
	}
	for _, tt := range tests {
		t.Run(tt.pkg+"/"+string(tt.status), func(t *testing.T) {
			f := findFix(p, tt.product, tt.pkg, tt.arch)
			if f == nil {
				t.Fatalf("no fix in %+v", p.Fixes)
			}
			if f.Status != tt.status || f.FixedVersion != tt.fixed || f.ModuleStream != tt.stream || f.PackageKind != tt.kind ||
				f.Attributes["remediation"] != tt.remediation {
				t.Errorf("fix = %+v", f)
			}
		})
	}
	if f := findFix(p, "", "nodejs", "x86_64"); f == nil || f.Attributes["advisory"] != "RHSA-2023:1234" {
		t.Errorf("advisory attribute: %+v", f)
	}
	if len(p.Fixes) != 4 {
		t.Errorf("got %d fixes (containers and unknown IDs must be skipped): %+v", len(p.Fixes), p.Fixes)
	}
}

func TestDetect(t *testing.T) {
	for _, name := range []string{"redhat/rhsa-2024_6163.csaf.json", "redhat/cve-2024-24786.vex.json"} {
		b, err := os.ReadFile(samples.Path(t, name))
		if err != nil {
			t.Fatal(err)
		}
		if !(Reader{}).Detect(b[:min(len(b), 2048)]) {
			t.Errorf("%s not detected", name)
		}
	}
	if (Reader{}).Detect([]byte(`{"schema_version":"1.4.0","id":"GO-1"}`)) || (Reader{}).Detect([]byte(`<x/>`)) {
		t.Error("false positive")
	}
}

func TestErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/cve-2023-99999.vex.json")
	if err != nil {
		t.Fatal(err)
	}
	deep := `{"document":{"tracking":{"id":"X"}},"product_tree":{"branches":` + strings.Repeat(`[{"branches":`, 40) + `[]` + strings.Repeat(`}]`, 40) + `}}`
	tests := []struct {
		name, doc, field string
		large            bool
	}{
		{"truncated", string(good[:len(good)/2]), "", false},
		{"no tracking id", `{"document":{"category":"csaf_vex"}}`, "document/tracking/id", false},
		{"array", `[]`, "", false},
		{"bad date", `{"document":{"tracking":{"id":"X","initial_release_date":"yesterday"}}}`, "document/tracking/initial_release_date", false},
		{"wrong type", `{"document":{"tracking":{"id":5}}}`, "document/tracking/id", false},
		{"vulns object", `{"document":{"tracking":{"id":"X"}},"vulnerabilities":{}}`, "vulnerabilities", false},
		{"vuln type", `{"document":{"tracking":{"id":"X"}},"vulnerabilities":[{"cve":1}]}`, "vulnerabilities", false},
		{"trailing", `{"document":{"tracking":{"id":"X"}}} x`, "", false},
		{"deep branches", deep, "product_tree/branches", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBytes(Reader{File: "doc.json"}, []byte(tt.doc))
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) {
				t.Fatalf("error %v (%T) is not a malformed-feed *feed.ParseError", err, err)
			}
			if pe.File != "doc.json" || !strings.HasPrefix(pe.Field, tt.field) || errors.Is(err, patchcore.ErrTooLarge) != tt.large {
				t.Errorf("error %v: field %q, want %q, large %v", err, pe.Field, tt.field, tt.large)
			}
		})
	}
}

func TestNEVRA(t *testing.T) {
	tests := []struct{ in, name, ver, arch string }{
		{"telnet-1:0.17-65.el7_6.x86_64", "telnet", "1:0.17-65.el7_6", "x86_64"},
		{"python3.9-0:3.9.18-3.el9_4.5.src", "python3.9", "0:3.9.18-3.el9_4.5", "src"},
		{"kernel-rt-debug-devel-5.14.0-70.el9.noarch", "kernel-rt-debug-devel", "5.14.0-70.el9", "noarch"},
	}
	for _, tt := range tests {
		n, v, a, ok := parseNEVRA(tt.in)
		if !ok || n != tt.name || v != tt.ver || a != tt.arch {
			t.Errorf("parseNEVRA(%q) = %q %q %q %v", tt.in, n, v, a, ok)
		}
	}
	for _, bad := range []string{"golang", "x.x86_64", "-1-2.x86_64"} {
		if _, _, _, ok := parseNEVRA(bad); ok {
			t.Errorf("parseNEVRA(%q) ok", bad)
		}
	}
}
