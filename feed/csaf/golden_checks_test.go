package csaf

// The hand-written checks of TestGolden: for each document, what its
// patch must hold, written from reading the document (or, for the
// generated ones, its generator in bench_test.go and largeVEX), not from
// the parser's output.

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// header is the patch-level part of a patch: everything but its fixes.
type header struct {
	id, source, title string
	severity          patchcore.Severity
	released, revised string // RFC 3339
	cves              []patchcore.CVE
}

func checkHeader(t *testing.T, p patchcore.Patch, h header) {
	t.Helper()
	rel, _ := time.Parse(time.RFC3339, h.released)
	rev, _ := time.Parse(time.RFC3339, h.revised)
	if p.ID != h.id || p.Source != h.source || p.Vendor != "Red Hat" || p.Title != h.title ||
		p.Classification != patchcore.ClassSecurity || p.Severity != h.severity || !p.Released.Equal(rel) || !p.Revised.Equal(rev) {
		t.Errorf("patch %s %s %q %q %s %+v %v %v, want %+v", p.ID, p.Source, p.Vendor, p.Title, p.Classification, p.Severity, p.Released, p.Revised, h)
	}
	if !reflect.DeepEqual(p.CVEs, h.cves) {
		t.Errorf("CVEs %+v\nwant %+v", p.CVEs, h.cves)
	}
}

// checkFixes compares the fixes, in any order, with want.
func checkFixes(t *testing.T, got, want []patchcore.Fix) {
	t.Helper()
	key := func(f patchcore.Fix) string { return fmt.Sprintf("%+v", f) }
	g, w := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		g[i] = key(got[i])
	}
	for i := range want {
		w[i] = key(want[i])
	}
	slices.Sort(g)
	slices.Sort(w)
	if len(g) != len(w) {
		t.Errorf("%d fixes, want %d", len(g), len(w))
	}
	for _, x := range w {
		if _, ok := slices.BinarySearch(g, x); !ok {
			t.Errorf("missing fix %s", x)
			return
		}
	}
	for _, x := range g {
		if _, ok := slices.BinarySearch(w, x); !ok {
			t.Errorf("unexpected fix %s", x)
			return
		}
	}
}

// rpmFix is a binary rpm fix on a Red Hat platform.
func rpmFix(release, product, cpe, pkg, arch, version string, status patchcore.FixStatus, attrs ...string) patchcore.Fix {
	f := patchcore.Fix{Distro: "rhel", Release: release, Product: product, ProductID: cpe, Ecosystem: patchcore.EcosystemRPM,
		Package: pkg, PackageKind: patchcore.PackageBinary, Arch: arch, Scheme: "rpm", Status: status, FixedVersion: version,
		Attributes: map[string]string{"cpe": cpe}}
	if arch == "" {
		f.PackageKind = patchcore.PackageSource
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		f.Attributes[attrs[i]] = attrs[i+1]
	}
	return f
}

// The generated kernel advisory: 5 products that all carry the AppStream
// CPE, 150 kernel-subN packages on 4 architectures, 60 CVEs (CVSS 7.8)
// fixing every package on every product, the vendor_fix pointing at the
// advisory itself.
const (
	largeCPE     = "cpe:/a:redhat:enterprise_linux:9::appstream"
	largeVersion = "0:5.14.0-427.33.1.el9_4"
)

var largeArches = []string{"x86_64", "aarch64", "ppc64le", "s390x"}

func largeCVEs() []patchcore.CVE {
	var out []patchcore.CVE
	for c := range 60 {
		out = append(out, patchcore.CVE{ID: fmt.Sprintf("CVE-2024-%05d", c), CVSSScore: 7.8, CVSSVector: "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"})
	}
	return out
}

// largeFixes is one fix per package and architecture for each status:
// the five products share one CPE, so they are one platform, named after
// the first product listed.
func largeFixes(statuses func(add func(status patchcore.FixStatus, version string, attrs ...string))) []patchcore.Fix {
	var out []patchcore.Fix
	for _, arch := range largeArches {
		for k := range 150 {
			statuses(func(status patchcore.FixStatus, version string, attrs ...string) {
				out = append(out, rpmFix("9", "AppStream-9.4.0.Z.MAIN", largeCPE, fmt.Sprintf("kernel-sub%d", k), arch, version, status, attrs...))
			})
		}
	}
	return out
}

func checkLargeRHSA(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "RHSA-2024:9999", source: "csaf", title: "Important: kernel security update",
		severity: patchcore.Severity{Level: patchcore.SeverityHigh, Raw: "Important"},
		released: "2024-09-03T17:57:24Z", revised: "2024-09-04T00:00:00Z", cves: largeCVEs()})
	if p.Description != "The kernel packages contain the Linux kernel." {
		t.Errorf("description %q", p.Description)
	}
	// Fixed by this advisory: no "advisory" attribute naming itself.
	checkFixes(t, p.Fixes, largeFixes(func(add func(patchcore.FixStatus, string, ...string)) {
		add(patchcore.FixFixed, largeVersion, "remediation", "vendor_fix")
	}))
}

// The large advisory as a VEX document (largeVEX): no aggregate severity
// (the first CVEs' threat impact is Moderate), and by CVE: 0-9
// known_affected with no_fix_planned, 10-19 known_not_affected with
// none_available, 20-29 under_investigation with a vendor_fix of
// RHSA-2024:1234, 30-39 first_fixed and 40-59 fixed with the vendor_fix
// of the document's own ID (the fixed entries repeat the first_fixed ones).
func checkLargeVEX(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "RHSA-2024:9999", source: "csaf-vex", title: "Important: kernel security update",
		severity: patchcore.Severity{Level: patchcore.SeverityMedium, Raw: "Moderate"},
		released: "2024-09-03T17:57:24Z", revised: "2024-09-04T00:00:00Z", cves: largeCVEs()})
	checkFixes(t, p.Fixes, largeFixes(func(add func(patchcore.FixStatus, string, ...string)) {
		add(patchcore.FixWontFix, "", "remediation", "no_fix_planned", "vex_status", "known_affected")
		add(patchcore.FixNotAffected, "", "remediation", "none_available", "vex_status", "known_not_affected")
		add(patchcore.FixUnfixed, "", "remediation", "vendor_fix", "advisory", "RHSA-2024:1234", "vex_status", "under_investigation")
		add(patchcore.FixFixed, largeVersion, "remediation", "vendor_fix", "vex_status", "first_fixed")
	}))
}

// RHSA-2022:0011 fixes telnet, telnet-debuginfo and telnet-server
// 1:0.17-65.el7_6 on RHEL 7.6 AUS and TUS (x86_64) and E4S (x86_64 and
// ppc64le); its source rpms are dropped (the platforms have binaries). The
// document has no CVSS scores.
func checkRHSA2022_0011(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "RHSA-2022:0011", source: "csaf", title: "Red Hat Security Advisory: telnet security update",
		severity: patchcore.Severity{Level: patchcore.SeverityHigh, Raw: "Important"},
		released: "2022-01-04T08:38:00Z", revised: "2022-01-04T08:38:00Z", cves: []patchcore.CVE{{ID: "CVE-2020-10188"}}})
	if !strings.Contains(p.Description, "telnet-server: no bounds checks in nextitem()") {
		t.Errorf("description %q", p.Description)
	}
	if want := []string{"https://access.redhat.com/errata/RHSA-2022:0011", "https://access.redhat.com/security/updates/classification/#important",
		"https://access.redhat.com/security/data/csaf/beta/2022/rhsa-2022_0011.json"}; !slices.Equal(p.References, want) {
		t.Errorf("references %q", p.References)
	}
	var want []patchcore.Fix
	for _, pl := range []struct {
		name, cpe string
		arches    []string
	}{
		{"Red Hat Enterprise Linux Server AUS (v. 7.6)", "cpe:/o:redhat:rhel_aus:7.6::server", []string{"x86_64"}},
		{"Red Hat Enterprise Linux Server E4S (v. 7.6)", "cpe:/o:redhat:rhel_e4s:7.6::server", []string{"x86_64", "ppc64le"}},
		{"Red Hat Enterprise Linux Server TUS (v. 7.6)", "cpe:/o:redhat:rhel_tus:7.6::server", []string{"x86_64"}},
	} {
		for _, arch := range pl.arches {
			for _, pkg := range []string{"telnet", "telnet-debuginfo", "telnet-server"} {
				// AUS, E4S and TUS streams carry their minor release.
				want = append(want, rpmFix("7.6", pl.name, pl.cpe, pkg, arch, "1:0.17-65.el7_6", patchcore.FixFixed, "remediation", "vendor_fix"))
			}
		}
	}
	checkFixes(t, p.Fixes, want)
}

// RHSA-2024:6163 lists only the python3.9 source rpm 0:3.9.18-3.el9_4.5 on
// the AppStream, BaseOS and CRB EUS products of RHEL 9.4: three source
// fixes (the workaround remediation is not a fix category).
func checkRHSA2024_6163(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "RHSA-2024:6163", source: "csaf", title: "Red Hat Security Advisory: python3.9 security update",
		severity: patchcore.Severity{Level: patchcore.SeverityMedium, Raw: "Moderate"},
		released: "2024-09-03T17:57:24Z", revised: "2026-03-26T18:50:03Z",
		cves: []patchcore.CVE{{ID: "CVE-2024-8088", CVSSScore: 5.3, CVSSVector: p.CVEs[0].CVSSVector}}})
	if !strings.HasPrefix(p.CVEs[0].CVSSVector, "CVSS:3.1/AV:N/") {
		t.Errorf("CVSS vector %q", p.CVEs[0].CVSSVector)
	}
	var want []patchcore.Fix
	for _, pl := range [][2]string{
		{"Red Hat Enterprise Linux AppStream (v. 9)", "cpe:/a:redhat:enterprise_linux:9::appstream"},
		{"Red Hat Enterprise Linux BaseOS (v. 9)", "cpe:/o:redhat:enterprise_linux:9::baseos"},
		{"Red Hat Enterprise Linux CRB (v. 9)", "cpe:/a:redhat:enterprise_linux:9::crb"},
	} {
		want = append(want, rpmFix("9", pl[0], pl[1], "python3.9", "", "0:3.9.18-3.el9_4.5", patchcore.FixFixed, "remediation", "vendor_fix"))
	}
	checkFixes(t, p.Fixes, want)
}

// CVE-2024-24786 (VEX) is fixed in cri-tools 0:1.29.0-3.1.el9 (aarch64) on
// OpenShift 4.16 for RHEL 9; it has no remediations.
func checkVEX2024_24786(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "CVE-2024-24786", source: "csaf-vex",
		title:    "golang-protobuf: encoding/protojson, internal/encoding/json: infinite loop in protojson.Unmarshal when unmarshaling certain forms of invalid JSON",
		severity: patchcore.Severity{Level: patchcore.SeverityMedium, Raw: "Moderate"},
		released: "2024-03-05T00:00:00Z", revised: "2025-08-13T15:14:45Z",
		cves: []patchcore.CVE{{ID: "CVE-2024-24786", CVSSScore: 5.9, CVSSVector: "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"}}})
	if !strings.HasPrefix(p.Description, "A flaw was found in Golang's protobuf module") {
		t.Errorf("description %q", p.Description)
	}
	checkFixes(t, p.Fixes, []patchcore.Fix{rpmFix("9", "Red Hat OpenShift Container Platform 4.16", "cpe:/a:redhat:openshift:4.16::el9",
		"cri-tools", "aarch64", "0:1.29.0-3.1.el9", patchcore.FixFixed, "vex_status", "fixed")})
}

// testdata/cve-2023-99999.vex.json has one product in each status: nodejs
// fixed in the nodejs:18 module stream on RHEL 9 AppStream by
// RHSA-2023:1234, libexample known_affected with none_available on RHEL 8,
// oldlib known_affected with no_fix_planned on RHEL 7, libexample
// known_not_affected on RHEL 6 (source packages), and a container that is
// skipped.
func checkVEX2023_99999(t *testing.T, p patchcore.Patch) {
	checkHeader(t, p, header{id: "CVE-2023-99999", source: "csaf-vex",
		title:    "example: a made-up flaw for the tests, with every product status",
		severity: patchcore.Severity{Level: patchcore.SeverityHigh, Raw: "Important"},
		released: "2023-06-01T00:00:00Z", revised: "2024-01-15T10:00:00Z",
		cves: []patchcore.CVE{{ID: "CVE-2023-99999", CVSSScore: 7.5, CVSSVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}})
	nodejs := rpmFix("9", "Red Hat Enterprise Linux AppStream (v. 9)", "cpe:/a:redhat:enterprise_linux:9::appstream", "nodejs", "x86_64",
		"1:18.14.2-2.module+el9.2.0+18000+abcd", patchcore.FixFixed, "advisory", "RHSA-2023:1234", "remediation", "vendor_fix", "vex_status", "fixed")
	nodejs.ModuleStream = "nodejs:18"
	checkFixes(t, p.Fixes, []patchcore.Fix{nodejs,
		rpmFix("8", "Red Hat Enterprise Linux 8", "cpe:/o:redhat:enterprise_linux:8", "libexample", "", "", patchcore.FixUnfixed,
			"remediation", "none_available", "vex_status", "known_affected"),
		rpmFix("7", "Red Hat Enterprise Linux 7", "cpe:/o:redhat:enterprise_linux:7", "oldlib", "", "", patchcore.FixWontFix,
			"remediation", "no_fix_planned", "vex_status", "known_affected"),
		rpmFix("6", "Red Hat Enterprise Linux 6", "cpe:/o:redhat:enterprise_linux:6", "libexample", "", "", patchcore.FixNotAffected,
			"vex_status", "known_not_affected"),
	})
}
