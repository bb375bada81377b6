package detect

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/csaf"
	"github.com/patchcore/sdk/feed/debian"
	"github.com/patchcore/sdk/feed/osv"
	"github.com/patchcore/sdk/feed/suse"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/dpkg"
)

// TestReleaseNamesMeet: a device and a feed that name the same release
// differently (number or codename, os-release's "13.2" or SUSE's product
// name) meet through patchcore's platform identity, on real feeds. On the
// code before it, each of these found nothing.
func TestReleaseNamesMeet(t *testing.T) {
	linux := func(distro, version, codename string) patchcore.Platform {
		return patchcore.Platform{Family: "linux", Distro: distro, Version: version, Codename: codename, Arch: "amd64"}
	}
	deb := func(name, version, src, srcVersion string) patchcore.Package {
		return patchcore.Package{Name: name, Version: version, SourceName: src, SourceVersion: srcVersion, Arch: "amd64", Ecosystem: patchcore.EcosystemDeb}
	}
	tests := []struct {
		name   string
		format feed.Format
		file   string
		plat   patchcore.Platform
		pkg    patchcore.Package
		want   want
	}{
		// Debian's tracker is keyed by codename ("buster"); os-release
		// gives VERSION_ID 10, /etc/debian_version a point release.
		{"debian 10 vs buster", debian.Tracker{}, "debian/tracker-vuln-list-update.json", linux("debian", "10", ""),
			deb("python-scipy", "0.11.0-1", "python-scipy", "0.11.0-1"),
			want{"CVE-2013-4251", patchcore.FindingMissing, "=python-scipy 0.11.0-1 < 0.12.0-3 (deb) from CVE-2013-4251 for buster"}},
		{"debian 10.13 vs buster", debian.Tracker{}, "debian/tracker-vuln-list-update.json", linux("debian", "10.13", ""),
			deb("python-scipy", "0.12.0-3", "python-scipy", "0.12.0-3"),
			want{"CVE-2013-4251", patchcore.FindingInstalled, ">= 0.12.0-3 (deb) from CVE-2013-4251 for buster"}},
		// Ubuntu's OSV data is keyed by number ("Ubuntu:18.04:LTS"); a
		// device may report only its codename.
		{"ubuntu bionic vs 18.04", osv.Format{}, "ubuntu/UBUNTU-CVE-2021-3782.osv.json", linux("ubuntu", "", "bionic"),
			deb("libwayland-client0", "1.16.0-1ubuntu1", "wayland", "1.16.0-1ubuntu1"),
			want{"UBUNTU-CVE-2021-3782", patchcore.FindingMissing, "=libwayland-client0 (source wayland) 1.16.0-1ubuntu1 < 1.16.0-1ubuntu1.1~18.04.4 (deb) from UBUNTU-CVE-2021-3782 for 18.04"}},
		// openSUSE 13.x products carry no "Leap": their fixes had no
		// distro or release and never applied.
		{"opensuse 13.2", suse.CVRF{}, "suse/cvrf-opensuse-su-2015-0798-1.xml", linux("opensuse", "13.2", ""),
			patchcore.Package{Name: "python-Pillow", Version: "2.6.2-2.1", Arch: "x86_64", Ecosystem: patchcore.EcosystemRPM},
			want{"openSUSE-SU-2015:0798-1", patchcore.FindingMissing, "=python-Pillow 2.6.2-2.1 < 2.8.1-3.3.1 (rpm) from openSUSE-SU-2015:0798-1 for 13.2"}},
		{"opensuse 13.1 is not 13.2", suse.CVRF{}, "suse/cvrf-opensuse-su-2015-0798-1.xml", linux("opensuse", "13.1", ""),
			patchcore.Package{Name: "python-Pillow", Version: "2.6.2-2.1", Arch: "x86_64", Ecosystem: patchcore.EcosystemRPM},
			want{"openSUSE-SU-2015:0798-1", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat := feed.NewCatalog()
			addFeed(t, cat, tt.format, samples.Path(t, tt.file))
			r := run(t, cat, patchcore.Inventory{DeviceID: "d", Platform: tt.plat, Packages: []patchcore.Package{tt.pkg}})
			check(t, r, []want{tt.want})
			// The catalog's own index meets the device's spelling too.
			d, rels := tt.plat.Canonical()
			src := tt.pkg.SourceName
			if src == "" {
				src = tt.pkg.Name
			}
			if refs := cat.ForPackage(tt.plat.Distro, tt.plat.Release(), src); (len(refs) > 0) != (tt.want.state != "") {
				t.Errorf("ForPackage(%q, %q, %q) = %d fixes (canonical %s %v)", tt.plat.Distro, tt.plat.Release(), src, len(refs), d, rels)
			}
		})
	}
}

// TestPlatformShownAsReported: the fixes are found in canonical form, but
// a reason names the platform as the device reported it.
func TestPlatformShownAsReported(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, osv.Format{}, samples.Path(t, "ubuntu/UBUNTU-CVE-2021-3782.osv.json"))
	for _, c := range []struct {
		plat patchcore.Platform
		want string
	}{
		{patchcore.Platform{Family: "linux", Distro: "ubuntu", Codename: "bionic"}, "for ubuntu bionic"},
		{patchcore.Platform{Family: "linux", Distro: "ubuntu", Version: "18.04"}, "for ubuntu 18.04"},
	} {
		inv := patchcore.Inventory{Platform: c.plat, Packages: []patchcore.Package{{Name: "bash", Version: "4.4.18-2ubuntu1", Ecosystem: patchcore.EcosystemDeb}}}
		r := run(t, cat, inv, WithNotApplicable())
		check(t, r, []want{{"UBUNTU-CVE-2021-3782", patchcore.FindingNotApplicable, c.want}})
	}
}

// TestUnfixedUnparsableInstalled: debsecan's test case 012 has tethereal
// built from "ethereal (0.10_12-6)", a source version that does not parse.
// The CVEs the tracker lists as unfixed in sid need no comparison, so
// tethereal is vulnerable to them, as debsecan's expected summary says;
// the fixed ones cannot be compared and are Unknown, not Missing. Detection
// reports exactly debsecan's vulnerable (CVE, package) pairs. 012's sid
// data is byte for byte 001's.
func TestUnfixedUnparsableInstalled(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, debian.Debsecan{Release: "sid"}, samples.Path(t, "debsecan/001.sid"))
	fh, err := os.Open(samples.Path(t, "debsecan/012.status"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	pkgs, err := dpkg.Parse(fh)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, cat, patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "debian", Codename: "sid"}, Packages: pkgs})
	var got []string
	unknown := map[string]bool{}
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			switch e.State {
			case patchcore.FindingMissing:
				got = append(got, f.PatchID+" "+e.Package)
			case patchcore.FindingUnknown:
				unknown[f.PatchID+" "+e.Package] = true
				if !strings.Contains(e.Reason, `installed version does not parse: deb version "0.10_12-6"`) {
					t.Errorf("%s %s: unknown for another reason: %s", f.PatchID, e.Package, e.Reason)
				}
			}
		}
	}
	slices.Sort(got)
	want := debsecanSummary(t, "debsecan/012.exp.summary")
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("vulnerable pairs differ from debsecan's summary:\n got %d: %v\nwant %d: %v", len(got), got, len(want), want)
	}
	for _, pair := range []string{"CVE-2005-3313 tethereal", "CVE-2005-3651 tethereal"} {
		if !slices.Contains(got, pair) {
			t.Errorf("%s: not missing", pair)
		}
	}
	if !unknown["CVE-2005-3184 tethereal"] {
		t.Errorf("CVE-2005-3184 tethereal (fixed in 0.10.13-1, installed source 0.10_12-6): not unknown; unknown %v", unknown)
	}
}

// TestRockySourceOnlyNames: Rocky Linux's RLSA-2021:3891 names the source
// RPM java-11-openjdk only; the binary subpackages a host installs
// (java-11-openjdk-headless, -devel) match through the source RPM the
// inventory records and are compared with its version.
func TestRockySourceOnlyNames(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, osv.Format{}, samples.Path(t, "rocky/RLSA-2021_3891.osv.json"))
	rpm := func(name, evr, srcEVR string) patchcore.Package {
		return patchcore.Package{Name: name, Version: evr, Arch: "x86_64", SourceName: "java-11-openjdk", SourceVersion: srcEVR, Ecosystem: patchcore.EcosystemRPM}
	}
	plat := patchcore.Platform{Family: "linux", Distro: "rocky", Version: "8.4", Arch: "x86_64"}
	tests := []struct {
		name string
		pkgs []patchcore.Package
		want want
	}{
		{"headless below", []patchcore.Package{rpm("java-11-openjdk-headless", "1:11.0.12.0.7-0.el8_4", "1:11.0.12.0.7-0.el8_4")},
			want{"RLSA-2021:3891", patchcore.FindingMissing, "=java-11-openjdk-headless (source java-11-openjdk) 1:11.0.12.0.7-0.el8_4 < 1:11.0.13.0.8-1.el8_4 (rpm) from RLSA-2021:3891 for 8"}},
		// rpm's %{SOURCERPM} has no epoch: the source comparison ignores a missing one.
		{"devel fixed, source without epoch", []patchcore.Package{rpm("java-11-openjdk-devel", "1:11.0.13.0.8-1.el8_4", "11.0.13.0.8-1.el8_4")},
			want{"RLSA-2021:3891", patchcore.FindingInstalled, "java-11-openjdk-devel (source java-11-openjdk) 11.0.13.0.8-1.el8_4 >= 1:11.0.13.0.8-1.el8_4 (rpm)"}},
		{"main package by its own name", []patchcore.Package{rpm("java-11-openjdk", "1:11.0.12.0.7-0.el8_4", "1:11.0.12.0.7-0.el8_4")},
			want{"RLSA-2021:3891", patchcore.FindingMissing, "< 1:11.0.13.0.8-1.el8_4 (rpm) from RLSA-2021:3891 for 8"}},
		{"another source", []patchcore.Package{{Name: "java-11-openjdk-headless", Version: "1:11.0.12.0.7-0.el8_4", Arch: "x86_64",
			SourceName: "java-11-openjdk-portable", SourceVersion: "1:11.0.12.0.7-0.el8_4", Ecosystem: patchcore.EcosystemRPM}},
			want{"RLSA-2021:3891", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cat, patchcore.Inventory{DeviceID: "r", Platform: plat, Packages: tt.pkgs})
			check(t, r, []want{tt.want})
		})
	}
}

// TestRHELEUSStreams: RHSA-2024:0811 ships sudo to the 9.0 and 9.2 EUS
// streams and to mainline 9. A 9.0 EUS host with the 9.0 build has the
// fix; a mainline host with that build lacks the mainline one. Before the
// EUS CPEs gave their minor release, every build was a "9" fix and the 9.0
// host was told it missed the mainline 1.9.5p2-10.el9_3.
func TestRHELEUSStreams(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, csaf.Reader{}, samples.Path(t, "redhat/rhsa-2024_0811.csaf.json"))
	sudo := func(v string) []patchcore.Package {
		return []patchcore.Package{{Name: "sudo", Version: v, Arch: "x86_64", SourceName: "sudo", SourceVersion: v, Ecosystem: patchcore.EcosystemRPM}}
	}
	rhel := func(v string) patchcore.Platform {
		return patchcore.Platform{Family: "linux", Distro: "rhel", Version: v, Arch: "x86_64"}
	}
	tests := []struct {
		name string
		plat patchcore.Platform
		ver  string
		want want
	}{
		{"9.0 EUS build on 9.0", rhel("9.0"), "0:1.9.5p2-7.el9_0.4",
			want{"RHSA-2024:0811", patchcore.FindingInstalled, "sudo 0:1.9.5p2-7.el9_0.4 >= 0:1.9.5p2-7.el9_0.4 (rpm) from RHSA-2024:0811 for 9.0"}},
		{"9.0 before the fix", rhel("9.0"), "0:1.9.5p2-7.el9_0.3",
			want{"RHSA-2024:0811", patchcore.FindingMissing, "sudo 0:1.9.5p2-7.el9_0.3 < 0:1.9.5p2-7.el9_0.4 (rpm) from RHSA-2024:0811 for 9.0"}},
		{"9.0 EUS build on mainline 9.3", rhel("9.3"), "0:1.9.5p2-7.el9_0.4",
			want{"RHSA-2024:0811", patchcore.FindingMissing, "< 0:1.9.5p2-10.el9_3 (rpm) from RHSA-2024:0811 for 9"}},
		{"mainline build on 9", rhel("9"), "0:1.9.5p2-10.el9_3",
			want{"RHSA-2024:0811", patchcore.FindingInstalled, ">= 0:1.9.5p2-10.el9_3 (rpm) from RHSA-2024:0811 for 9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, cat, patchcore.Inventory{DeviceID: "h", Platform: tt.plat, Packages: sudo(tt.ver)})
			check(t, r, []want{tt.want})
		})
	}
}
