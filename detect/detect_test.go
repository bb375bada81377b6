package detect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

// deb and rpm build installed packages for tests.
func deb(name, ver, src, srcVer string) patchcore.Package {
	return patchcore.Package{Name: name, Version: ver, SourceName: src, SourceVersion: srcVer, Ecosystem: patchcore.EcosystemDeb, Arch: "amd64"}
}

func rpm(name, ver, arch string) patchcore.Package {
	return patchcore.Package{Name: name, Version: ver, Arch: arch, Ecosystem: patchcore.EcosystemRPM}
}

func patch(id string, cves []string, fixes ...patchcore.Fix) patchcore.Patch {
	p := patchcore.Patch{ID: id, Source: "test", Title: id + " title", Classification: patchcore.ClassSecurity,
		Severity: patchcore.ParseSeverity("high"), Fixes: fixes}
	for _, c := range cves {
		p.CVEs = append(p.CVEs, patchcore.CVE{ID: c})
	}
	return p
}

func debFix(release, src, fixed string, status patchcore.FixStatus) patchcore.Fix {
	return patchcore.Fix{Distro: "debian", Release: release, Ecosystem: patchcore.EcosystemDeb, Package: src,
		PackageKind: patchcore.PackageSource, Scheme: "deb", Status: status, FixedVersion: fixed}
}

func rpmFix(distro, release, pkg, arch, stream, fixed string) patchcore.Fix {
	return patchcore.Fix{Distro: distro, Release: release, Ecosystem: patchcore.EcosystemRPM, Package: pkg,
		PackageKind: patchcore.PackageBinary, Arch: arch, ModuleStream: stream, Scheme: "rpm", FixedVersion: fixed}
}

func run(t *testing.T, cat *feed.Catalog, inv patchcore.Inventory, opts ...Option) Result {
	t.Helper()
	r, err := New(cat, opts...).Detect(context.Background(), inv)
	if err != nil {
		t.Fatalf("Detect: %v", err)
	}
	for _, f := range r.Findings {
		if f.Reason == "" || strings.Contains(f.Reason, "\n") {
			t.Errorf("%s: reason %q is not one line", f.PatchID, f.Reason)
		}
	}
	return r
}

type want struct {
	id     string
	state  patchcore.FindingState
	reason string // substring, or the exact reason when it starts with "="
}

func check(t *testing.T, r Result, wants []want) {
	t.Helper()
	for _, w := range wants {
		f, ok := r.Finding(w.id)
		if !ok {
			if w.state == "" {
				continue
			}
			t.Errorf("%s: no finding, want %s", w.id, w.state)
			continue
		}
		if w.state == "" {
			t.Errorf("%s: finding %s (%s), want none", w.id, f.State, f.Reason)
			continue
		}
		if f.State != w.state {
			t.Errorf("%s: state %s, want %s (reason %q)", w.id, f.State, w.state, f.Reason)
		}
		if exact, ok := strings.CutPrefix(w.reason, "="); ok {
			if f.Reason != exact {
				t.Errorf("%s: reason\n got %q\nwant %q", w.id, f.Reason, exact)
			}
		} else if !strings.Contains(f.Reason, w.reason) {
			t.Errorf("%s: reason %q does not contain %q", w.id, f.Reason, w.reason)
		}
	}
}

func bookworm() patchcore.Platform {
	return patchcore.Platform{Family: "linux", Distro: "debian", Version: "12", Codename: "bookworm", Arch: "amd64"}
}

// TestDebianRelease: a DSA with fixes for two releases is decided by the
// device's codename only.
func TestDebianRelease(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-5678-1", []string{"CVE-2022-0529"},
		debFix("bullseye", "unzip", "6.0-26+deb11u1", patchcore.FixFixed),
		debFix("bookworm", "unzip", "6.0-28+deb12u1", patchcore.FixFixed)))
	tests := []struct {
		name string
		plat patchcore.Platform
		ver  string
		want want
	}{
		{"bookworm below", bookworm(), "6.0-28", want{"DSA-5678-1", patchcore.FindingMissing, "=unzip 6.0-28 < 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm"}},
		{"bookworm fixed", bookworm(), "6.0-28+deb12u1", want{"DSA-5678-1", patchcore.FindingInstalled, "=unzip 6.0-28+deb12u1 >= 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm"}},
		// The bullseye fix is lower than bookworm's: a bookworm device
		// with the bullseye version is still missing bookworm's fix.
		{"bullseye version on bookworm", bookworm(), "6.0-26+deb11u1", want{"DSA-5678-1", patchcore.FindingMissing, "< 6.0-28+deb12u1 (deb) from DSA-5678-1 for bookworm"}},
		{"bullseye fixed", patchcore.Platform{Family: "linux", Distro: "debian", Version: "11", Codename: "bullseye"}, "6.0-26+deb11u1", want{"DSA-5678-1", patchcore.FindingInstalled, "for bullseye"}},
		{"trixie has no fix", patchcore.Platform{Family: "linux", Distro: "debian", Version: "13", Codename: "trixie"}, "6.0-28", want{"DSA-5678-1", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cat, patchcore.Inventory{Platform: tt.plat, Packages: []patchcore.Package{deb("unzip", tt.ver, "unzip", tt.ver)}})
			check(t, r, []want{tt.want})
		})
	}
}

// TestSourceVersion: libreoffice's binaries carry an epoch and version of
// their own (canonical/sec-cvescan#35); the tracker's source-keyed fix must
// be compared with the source version.
func TestSourceVersion(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("CVE-2023-6185", []string{"CVE-2023-6185"}, debFix("bookworm", "libreoffice", "4:7.4.7-1+deb12u2", patchcore.FixFixed)))
	cat.Add(patch("CVE-2023-2255", []string{"CVE-2023-2255"}, debFix("bookworm", "libreoffice", "4:7.4.7-1+deb12u1", patchcore.FixFixed)))
	tests := []struct {
		name  string
		pkg   patchcore.Package
		wants []want
	}{
		{"source version decides", deb("libreoffice-core", "4:7.4.7-1+deb12u1", "libreoffice", "4:7.4.7-1+deb12u1"), []want{
			{"CVE-2023-6185", patchcore.FindingMissing, "libreoffice-core (source libreoffice) 4:7.4.7-1+deb12u1 < 4:7.4.7-1+deb12u2 (deb)"},
			{"CVE-2023-2255", patchcore.FindingInstalled, ">= 4:7.4.7-1+deb12u1"},
		}},
		// A binNMU-style binary whose own version sorts above the fix
		// while its source is below it: comparing the binary version
		// would be a false negative.
		{"binary above, source below", deb("fonts-opensymbol", "4:102.12+LibO7.4.7-1+deb12u3", "libreoffice", "4:7.4.7-1+deb12u1"), []want{
			{"CVE-2023-6185", patchcore.FindingMissing, "source libreoffice"},
		}},
		{"binary below, source fixed", deb("libreoffice-common", "1:7.0", "libreoffice", "4:7.4.7-1+deb12u2"), []want{
			{"CVE-2023-6185", patchcore.FindingInstalled, ">= 4:7.4.7-1+deb12u2"},
		}},
		{"source version unknown", patchcore.Package{Name: "libreoffice-core", Version: "4:7.4.7-1+deb12u9", SourceName: "libreoffice", Ecosystem: patchcore.EcosystemDeb}, []want{
			{"CVE-2023-6185", patchcore.FindingUnknown, "installed source version is unknown"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cat, patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{tt.pkg}})
			check(t, r, tt.wants)
		})
	}
}

// TestRPMSourcePackage: anchore/grype#376, RHEL 7 perl-Pod-Escapes 1.04
// is built from perl-5.16.3-299.el7_9; a perl source-keyed fix compares
// the source version, whose srpm name carries no epoch.
func TestRPMSourcePackage(t *testing.T) {
	src := rpmFix("rhel", "7", "perl", "", "", "4:5.16.3-299.el7_9")
	src.PackageKind = patchcore.PackageSource
	newer := src
	newer.FixedVersion = "4:5.16.3-300.el7_9"
	cat := feed.NewCatalog()
	cat.Add(patch("RHSA-2020:9999", []string{"CVE-2020-10543"}, src), patch("RHSA-2021:9999", []string{"CVE-2021-0001"}, newer))
	pkg := rpm("perl-Pod-Escapes", "1:1.04-299.el7_9", "noarch")
	pkg.SourceName, pkg.SourceVersion = "perl", "5.16.3-299.el7_9"
	r := run(t, cat, patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "rhel", Version: "7.9"}, Packages: []patchcore.Package{pkg}})
	check(t, r, []want{
		{"RHSA-2020:9999", patchcore.FindingInstalled, "perl-Pod-Escapes (source perl) 5.16.3-299.el7_9 >= 4:5.16.3-299.el7_9 (rpm)"},
		{"RHSA-2021:9999", patchcore.FindingMissing, "5.16.3-299.el7_9 < 4:5.16.3-300.el7_9"},
	})
}

// TestUnfixedNotAffected: tracker entries without a fix make an installed
// package Missing; not-affected ones NotApplicable.
func TestUnfixedNotAffected(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(
		patch("CVE-2024-0001", nil, debFix("bookworm", "openssl", "", patchcore.FixUnfixed)),
		patch("CVE-2024-0002", nil, debFix("bookworm", "openssl", "", patchcore.FixNotAffected)),
		patch("CVE-2024-0003", nil, debFix("bookworm", "openssl", "", patchcore.FixWontFix)),
		patch("CVE-2024-0004", nil, debFix("bookworm", "openssl", "3.0.13-1~deb12u1", patchcore.FixFixed), debFix("bookworm", "openssl", "", patchcore.FixFixed)),
	)
	r := run(t, cat, patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{
		deb("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
		deb("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
	}})
	check(t, r, []want{
		{"CVE-2024-0001", patchcore.FindingMissing, "is affected and no fix exists yet from CVE-2024-0001 for bookworm (and 1 more package(s) missing)"},
		{"CVE-2024-0002", patchcore.FindingNotApplicable, "is not affected"},
		{"CVE-2024-0003", patchcore.FindingMissing, "will not fix"},
		{"CVE-2024-0004", patchcore.FindingMissing, ""},
	})
	f, _ := r.Finding("CVE-2024-0001")
	if len(f.Evidence) != 2 || f.Evidence[0].Package != "libssl3" || f.Evidence[1].Package != "openssl" {
		t.Errorf("evidence %+v, want libssl3 and openssl", f.Evidence)
	}
	if r.Counts.Missing != 3 || r.Counts.NotApplicable != 1 {
		t.Errorf("counts %+v", r.Counts)
	}
}

// TestKernel reproduces future-architect/vuls#1559: Ubuntu 18.04 booted
// into the old 4.15.0-22-generic kernel while 4.15.0-197 is installed too.
func TestKernel(t *testing.T) {
	ufix := func(src, fixed string) patchcore.Fix {
		return patchcore.Fix{Distro: "ubuntu", Release: "18.04", Package: src, PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: fixed}
	}
	cat := feed.NewCatalog()
	cat.Add(
		// Fixed in a version both kernels are below.
		patch("USN-9999-1", []string{"CVE-2023-9999"}, ufix("linux", "4.15.0-213.224"), ufix("linux-signed", "4.15.0-213.224")),
		// Fixed in 4.15.0-23.25: the installed 197 kernel has it, the running 22 does not.
		patch("USN-3695-1", []string{"CVE-2018-1092"}, ufix("linux", "4.15.0-23.25"), ufix("linux-signed", "4.15.0-23.25")),
		// CVE-2021-34556 is unfixed for linux in bionic (the listing).
		patch("CVE-2021-34556", []string{"CVE-2021-34556"}, patchcore.Fix{Distro: "ubuntu", Release: "18.04", Package: "linux", PackageKind: patchcore.PackageSource, Scheme: "deb", Status: patchcore.FixUnfixed}),
	)
	pk := func(name, ver, src string) patchcore.Package { return deb(name, ver, src, ver) }
	inv := patchcore.Inventory{
		Platform: patchcore.Platform{Family: "linux", Distro: "ubuntu", Version: "18.04", Codename: "bionic", Kernel: "4.15.0-22-generic"},
		Packages: []patchcore.Package{
			pk("linux-base", "4.5ubuntu1.7", "linux-base"),
			pk("linux-generic", "4.15.0.197.182", "linux-meta"),
			pk("linux-headers-4.15.0-197", "4.15.0-197.208", "linux"),
			pk("linux-headers-4.15.0-197-generic", "4.15.0-197.208", "linux"),
			pk("linux-headers-generic", "4.15.0.197.182", "linux-meta"),
			pk("linux-image-4.15.0-197-generic", "4.15.0-197.208", "linux-signed"),
			pk("linux-image-4.15.0-22-generic", "4.15.0-22.24", "linux-signed"),
			pk("linux-image-generic", "4.15.0.197.182", "linux-meta"),
			pk("linux-modules-4.15.0-197-generic", "4.15.0-197.208", "linux"),
			pk("linux-modules-4.15.0-22-generic", "4.15.0-22.24", "linux"),
			pk("linux-modules-extra-4.15.0-197-generic", "4.15.0-197.208", "linux"),
		},
	}
	r := run(t, cat, inv)
	check(t, r, []want{
		{"USN-9999-1", patchcore.FindingMissing, "linux-image-4.15.0-22-generic (source linux-signed) 4.15.0-22.24 < 4.15.0-213.224"},
		{"USN-3695-1", patchcore.FindingInstalledPendingReboot, "not running: reboot"},
		{"CVE-2021-34556", patchcore.FindingMissing, "4.15.0-22.24 is affected and no fix exists yet"},
	})
	// Only the running kernel's packages may be missing.
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if e.State == patchcore.FindingMissing && !strings.Contains(e.Package, "4.15.0-22") {
				t.Errorf("%s: %s is missing, but it is not the running kernel's: %s", f.PatchID, e.Package, e.Reason)
			}
			if strings.Contains(e.Package, "197") && e.State != patchcore.FindingNotApplicable {
				t.Errorf("%s: %s state %s, want not_applicable (not running)", f.PatchID, e.Package, e.State)
			}
		}
	}
	// With the new kernel running, the old one's packages do not count.
	inv.Platform.Kernel = "4.15.0-197-generic"
	r = run(t, cat, inv)
	check(t, r, []want{
		{"USN-9999-1", patchcore.FindingMissing, "4.15.0-197.208 < 4.15.0-213.224"},
		{"USN-3695-1", patchcore.FindingInstalled, ">= 4.15.0-23.25"},
	})
}

// TestModuleStream reproduces anchore/grype#820: postgresql 9.6 from the
// postgresql:9.6 stream is not fixed by the postgresql:12 advisory.
func TestModuleStream(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("RHSA-2020:5620", []string{"CVE-2020-25695"},
		rpmFix("rhel", "8", "postgresql", "x86_64", "postgresql:12", "0:12.5-1.module+el8.3.0+9042+664538f4")))
	rhel8 := patchcore.Platform{Family: "linux", Distro: "rhel", Version: "8.5"}
	p96 := rpm("postgresql", "9.6.22-1.module_el8.5.0+826+29c1ad77", "x86_64")
	p96.ModuleStream = "postgresql:9.6"
	p12 := rpm("postgresql", "12.1-2.module+el8.1.1+4794+c82b6e09", "x86_64")
	p12.ModuleStream = "postgresql:12"
	p96unknown := rpm("postgresql", "9.6.22-1.module_el8.5.0+826+29c1ad77", "x86_64")
	plain := rpm("postgresql", "10.5-1.el8", "x86_64")
	tests := []struct {
		name string
		pkg  patchcore.Package
		want want
	}{
		{"other stream", p96, want{"RHSA-2020:5620", patchcore.FindingNotApplicable, "is from module stream postgresql:9.6; the fix is for stream postgresql:12"}},
		{"same stream", p12, want{"RHSA-2020:5620", patchcore.FindingMissing, "12.1-2.module+el8.1.1+4794+c82b6e09 < 0:12.5-1.module+el8.3.0+9042+664538f4 (rpm) from RHSA-2020:5620 for 8 stream postgresql:12"}},
		{"modular, stream unknown", p96unknown, want{"RHSA-2020:5620", patchcore.FindingUnknown, "unknown module stream"}},
		{"not modular", plain, want{"RHSA-2020:5620", patchcore.FindingNotApplicable, "not from a module"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, cat, patchcore.Inventory{Platform: rhel8, Packages: []patchcore.Package{tt.pkg}}), []want{tt.want})
		})
	}
}

// TestEUS reproduces aquasecurity/trivy#3576: a RHEL 8.4 (EUS) host has
// bind-export-libs 32:9.11.26-4.el8_4.1 from RHSA-2022:6779; the mainline
// fix 32:9.11.36-3.el8_6.1 (RHSA-2022:6765) must not make it missing.
func TestEUS(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(
		patch("RHSA-2022:6765", []string{"CVE-2022-38177", "CVE-2022-38178"}, rpmFix("rhel", "8", "bind-export-libs", "x86_64", "", "32:9.11.36-3.el8_6.1")),
		patch("RHSA-2022:6779", []string{"CVE-2022-38177", "CVE-2022-38178"}, rpmFix("rhel", "8.4", "bind-export-libs", "x86_64", "", "32:9.11.26-4.el8_4.1")),
		patch("RHSA-2022:2213", []string{"CVE-2018-25032"}, rpmFix("rhel", "8", "zlib", "x86_64", "", "1.2.11-18.el8_5")),
		patch("RHSA-2022:2214", []string{"CVE-2018-25032"}, rpmFix("rhel", "8.4", "zlib", "x86_64", "", "1.2.11-18.el8_4")),
	)
	pkgs := []patchcore.Package{rpm("bind-export-libs", "32:9.11.26-4.el8_4.1", "x86_64"), rpm("zlib", "1.2.11-18.el8_4", "x86_64")}
	r := run(t, cat, patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "rhel", Version: "8.4"}, Packages: pkgs})
	check(t, r, []want{
		{"RHSA-2022:6779", patchcore.FindingInstalled, "32:9.11.26-4.el8_4.1 >= 32:9.11.26-4.el8_4.1"},
		{"RHSA-2022:6765", patchcore.FindingNotApplicable, "RHSA-2022:6779 is the fix for release 8.4"},
		{"RHSA-2022:2214", patchcore.FindingInstalled, ""},
		{"RHSA-2022:2213", patchcore.FindingNotApplicable, "RHSA-2022:2214"},
	})
	// On 8.6 there is no stream fix: the mainline one decides.
	r = run(t, cat, patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "rhel", Version: "8.6"}, Packages: pkgs})
	check(t, r, []want{
		{"RHSA-2022:6765", patchcore.FindingMissing, "32:9.11.26-4.el8_4.1 < 32:9.11.36-3.el8_6.1"},
		{"RHSA-2022:6779", "", ""},
	})
}

// TestEpochAndArch covers missing epochs per distro and architecture matching.
func TestEpochAndArch(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(
		patch("RHSA-2024:0001", nil,
			rpmFix("rhel", "9", "openssl-libs", "x86_64", "", "1:3.0.7-25.el9_3"),
			rpmFix("rhel", "9", "openssl-libs", "i686", "", "1:3.0.7-25.el9_3")),
		patch("RHSA-2024:0002", nil, rpmFix("rhel", "9", "tzdata", "noarch", "", "2024a-1.el9")),
		patch("ALAS-2024-0001", nil, rpmFix("amzn", "2", "openssl-libs", "x86_64", "", "1.0.2k-24.amzn2.0.10")),
	)
	rhel9 := patchcore.Platform{Family: "linux", Distro: "rhel", Version: "9.3"}
	tests := []struct {
		name  string
		plat  patchcore.Platform
		pkgs  []patchcore.Package
		wants []want
	}{
		{"epoch zero: no epoch sorts before 1:", rhel9, []patchcore.Package{rpm("openssl-libs", "3.0.7-26.el9_3", "x86_64")},
			[]want{{"RHSA-2024:0001", patchcore.FindingMissing, "3.0.7-26.el9_3 < 1:3.0.7-25.el9_3 (rpm)"}}},
		{"explicit epoch", rhel9, []patchcore.Package{rpm("openssl-libs", "1:3.0.7-24.el9", "x86_64")},
			[]want{{"RHSA-2024:0001", patchcore.FindingMissing, "1:3.0.7-24.el9 < 1:3.0.7-25.el9_3"}, {"RHSA-2024:0002", "", ""}}},
		{"other arch not affected by x86_64 fix", rhel9, []patchcore.Package{rpm("openssl-libs", "1:3.0.7-25.el9_3", "x86_64"), rpm("openssl-libs", "1:3.0.7-24.el9", "i686")},
			[]want{{"RHSA-2024:0001", patchcore.FindingMissing, "openssl-libs 1:3.0.7-24.el9 < 1:3.0.7-25.el9_3"}}},
		{"noarch fix matches", rhel9, []patchcore.Package{rpm("tzdata", "2023c-1.el9", "noarch")},
			[]want{{"RHSA-2024:0002", patchcore.FindingMissing, "< 2024a-1.el9"}}},
		{"amzn ignores a missing epoch", patchcore.Platform{Family: "linux", Distro: "amzn", Version: "2"}, []patchcore.Package{rpm("openssl-libs", "1:1.0.2k-24.amzn2.0.10", "x86_64")},
			[]want{{"ALAS-2024-0001", patchcore.FindingInstalled, ">= 1.0.2k-24.amzn2.0.10"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, cat, patchcore.Inventory{Platform: tt.plat, Packages: tt.pkgs}), tt.wants)
		})
	}
	// The same ALAS data with rpm's rule makes the epoch-1 package newer anyway,
	// and epoch-less installed below an epoch-1 fix missing.
	r := run(t, cat, patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "amzn", Version: "2"},
		Packages: []patchcore.Package{rpm("openssl-libs", "1.0.2k-24.amzn2.0.9", "x86_64")}}, WithMissingEpoch("amzn", version.EpochZero))
	check(t, r, []want{{"ALAS-2024-0001", patchcore.FindingMissing, "1.0.2k-24.amzn2.0.9 < 1.0.2k-24.amzn2.0.10"}})
}

// TestUnparsable: a version its scheme rejects is an Unknown finding with
// the parse error, never skipped.
func TestUnparsable(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "foo", "1.0-1", patchcore.FixFixed)),
		patch("DSA-2", nil, debFix("bookworm", "bar", "1.0 -1", patchcore.FixFixed)),
		patch("DSA-3", nil, patchcore.Fix{Distro: "debian", Release: "bookworm", Package: "bar", PackageKind: patchcore.PackageSource, Scheme: "nonsense", FixedVersion: "1"}))
	r := run(t, cat, patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{
		deb("foo", "1.0_bad!", "foo", "1.0_bad!"), deb("bar", "1.0-1", "bar", "1.0-1")}})
	check(t, r, []want{
		{"DSA-1", patchcore.FindingUnknown, "installed version does not parse: deb version \"1.0_bad!\""},
		{"DSA-2", patchcore.FindingUnknown, "deb version \"1.0 -1\""},
		{"DSA-3", patchcore.FindingUnknown, "unknown version scheme"},
	})
}

func TestActionableAndNotApplicable(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "foo", "1.0-2", patchcore.FixFixed)),
		patch("DSA-2", nil, debFix("bookworm", "foo", "0.9-1", patchcore.FixFixed)),
		patch("DSA-3", nil, debFix("bookworm", "absent", "1", patchcore.FixFixed)))
	inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("foo", "1.0-1", "foo", "1.0-1")}}
	r := run(t, cat, inv, ActionableOnly())
	if len(r.Findings) != 1 || r.Findings[0].PatchID != "DSA-1" || r.Counts != (Counts{Missing: 1, Installed: 1, NotApplicable: 1}) {
		t.Errorf("actionable: findings %+v counts %+v", r.Findings, r.Counts)
	}
	r = run(t, cat, inv, WithNotApplicable())
	check(t, r, []want{{"DSA-3", patchcore.FindingNotApplicable, "no installed package is named by DSA-3"}})
	if len(r.Findings) != 3 {
		t.Errorf("with not applicable: %d findings, want 3", len(r.Findings))
	}
	r = run(t, cat, inv)
	check(t, r, []want{{"DSA-3", "", ""}, {"DSA-2", patchcore.FindingInstalled, ""}})
}

func TestInvalidInventory(t *testing.T) {
	_, err := New(feed.NewCatalog()).Detect(context.Background(), patchcore.Inventory{Packages: []patchcore.Package{deb("a", "1", "a", "1")}})
	if !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("error %v, want ErrInvalidInput", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(feed.NewCatalog()).Detect(ctx, patchcore.Inventory{}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestCatalogChangesAndDiff: the engine follows catalog changes, keeps no
// device state, and Diff reports what changed.
func TestCatalogChangesAndDiff(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "foo", "1.0-2", patchcore.FixFixed)))
	e := New(cat)
	inv := patchcore.Inventory{DeviceID: "d1", Platform: bookworm(), Packages: []patchcore.Package{deb("foo", "1.0-1", "foo", "1.0-1")}}
	before, err := e.Detect(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	// Another device in between must not influence the next result.
	if _, err := e.Detect(context.Background(), patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("foo", "9", "foo", "9")}}); err != nil {
		t.Fatal(err)
	}
	cat.Add(patch("DSA-2", nil, debFix("bookworm", "foo", "1.0-3", patchcore.FixFixed)))
	inv.Packages[0] = deb("foo", "1.0-2", "foo", "1.0-2")
	after, err := e.Detect(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	d := after.Diff(before)
	if len(d.Added) != 1 || d.Added[0].PatchID != "DSA-2" || d.Added[0].State != patchcore.FindingMissing {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Changed) != 1 || d.Changed[0].PatchID != "DSA-1" || d.Changed[0].From != patchcore.FindingMissing || d.Changed[0].To != patchcore.FindingInstalled {
		t.Errorf("changed %+v", d.Changed)
	}
	if len(d.Removed) != 0 || after.Diff(after).Empty() != true {
		t.Errorf("removed %+v", d.Removed)
	}
	if back := before.Diff(after); len(back.Removed) != 1 || back.Removed[0].PatchID != "DSA-2" {
		t.Errorf("reverse diff removed %+v", back.Removed)
	}
}

// TestOverlay: a customer's severity overlay shows in findings.
func TestOverlay(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(patch("DSA-1", nil, debFix("bookworm", "foo", "1.0-2", patchcore.FixFixed)))
	e := New(cat)
	inv := patchcore.Inventory{Platform: bookworm(), Packages: []patchcore.Package{deb("foo", "1.0-1", "foo", "1.0-1")}}
	sev := patchcore.ParseSeverity("low")
	cat.SetOverlay("DSA-1", feed.Overlay{CustomSeverity: &sev})
	r, err := e.Detect(context.Background(), inv)
	if err != nil {
		t.Fatal(err)
	}
	if r.Findings[0].Severity.Level != patchcore.SeverityLow {
		t.Errorf("severity %v, want the overlay's low", r.Findings[0].Severity)
	}
}

// TestPendingRebootRule: the state a device's counts give a kernel patch
// and the state of its finding follow the same rule, eager, Lazy and
// ActionableOnly: missing only on the running kernel while an installed,
// not running kernel has the fix is InstalledPendingReboot; another missing
// package, or no kernel with the fix, keeps it Missing.
func TestPendingRebootRule(t *testing.T) {
	ufix := func(src, fixed string) patchcore.Fix {
		return patchcore.Fix{Distro: "ubuntu", Release: "18.04", Package: src, PackageKind: patchcore.PackageSource, Scheme: "deb", FixedVersion: fixed}
	}
	cat := feed.NewCatalog()
	cat.Add(
		patch("USN-1", nil, ufix("linux", "4.15.0-23.25")),                                     // the not running kernel has it
		patch("USN-2", nil, ufix("linux", "4.15.0-23.25"), ufix("linux-base", "4.5ubuntu1.8")), // and another package misses it
		patch("USN-3", nil, ufix("linux", "4.15.0-213.224")),                                   // no installed kernel has it
	)
	pk := func(name, ver, src string) patchcore.Package { return deb(name, ver, src, ver) }
	inv := patchcore.Inventory{
		Platform: patchcore.Platform{Family: "linux", Distro: "ubuntu", Version: "18.04", Codename: "bionic", Kernel: "4.15.0-22-generic"},
		Packages: []patchcore.Package{
			pk("linux-base", "4.5ubuntu1.7", "linux-base"),
			pk("linux-image-4.15.0-197-generic", "4.15.0-197.208", "linux"),
			pk("linux-image-4.15.0-22-generic", "4.15.0-22.24", "linux"),
		},
	}
	want := map[string]patchcore.FindingState{
		"USN-1": patchcore.FindingInstalledPendingReboot,
		"USN-2": patchcore.FindingMissing,
		"USN-3": patchcore.FindingMissing,
	}
	wantCounts := Counts{Missing: 2, InstalledPendingReboot: 1}
	for name, opts := range map[string][]Option{"eager": nil, "lazy": {Lazy()}, "actionable": {ActionableOnly(), Lazy()}} {
		r := run(t, cat, inv, opts...)
		if r.Counts != wantCounts {
			t.Errorf("%s: counts %+v, want %+v", name, r.Counts, wantCounts)
		}
		fs := r.AllFindings()
		if name == "actionable" {
			fs = r.ActionableFindings()
		}
		if len(fs) != len(want) {
			t.Errorf("%s: %d findings, want %d", name, len(fs), len(want))
		}
		for _, f := range fs {
			if f.State != want[f.PatchID] {
				t.Errorf("%s: %s is %s (%s), want %s", name, f.PatchID, f.State, f.Reason, want[f.PatchID])
			}
			if pending := strings.Contains(f.Reason, "not running: reboot"); pending != (f.State == patchcore.FindingInstalledPendingReboot) {
				t.Errorf("%s: %s is %s, reason %q", name, f.PatchID, f.State, f.Reason)
			}
		}
	}
}
