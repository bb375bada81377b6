package osv_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/osv"
	"github.com/patchcore/sdk/patchcore"
)

func TestRealSamples(t *testing.T) {
	tests := []struct {
		file, id, cve, pkg, distro, release, introduced, fixed, scheme, released string
		eco                                                                      patchcore.Ecosystem
		kind                                                                     patchcore.PackageKind
		fixes                                                                    int
	}{
		{"ubuntu/USN-5614-1.osv.json", "USN-5614-1", "CVE-2021-3782", "wayland", "ubuntu", "22.04", "", "1.20.0-1ubuntu0.1", "deb", "2022-09-15", patchcore.EcosystemDeb, patchcore.PackageSource, 3},
		{"rocky/RLSA-2023_3220.osv.json", "RLSA-2023:3220", "CVE-2023-32205", "firefox", "rocky", "8", "", "0:102.11.0-2.el8_7", "rpm", "2023-05-18", patchcore.EcosystemRPM, patchcore.PackageSource, 1},
		{"rocky/RLSA-2021_3891.osv.json", "RLSA-2021:3891", "CVE-2021-35550", "java-11-openjdk", "rocky", "8", "", "1:11.0.13.0.8-1.el8_4", "rpm", "2021-10-20", patchcore.EcosystemRPM, patchcore.PackageSource, 1},
		{"ubuntu/UBUNTU-CVE-2021-3782.osv.json", "UBUNTU-CVE-2021-3782", "CVE-2021-3782", "wayland", "ubuntu", "18.04", "", "1.16.0-1ubuntu1.1~18.04.4", "deb", "", patchcore.EcosystemDeb, patchcore.PackageSource, 4},
		{"alma/ALSA-2022-8194.osv.json", "ALSA-2022:8194", "CVE-2022-0561", "libtiff-devel", "almalinux", "9", "", "4.4.0-2.el9", "rpm", "2022-11-15", patchcore.EcosystemRPM, patchcore.PackageBinary, 3},
		{"osv/GO-2024-2687.json", "GO-2024-2687", "CVE-2023-45288", "stdlib", "", "", "1.22.0-0", "1.22.2", "semver", "", patchcore.EcosystemGo, "", 3},
		{"osv/PYSEC-2023-120.json", "PYSEC-2023-120", "CVE-2023-37276", "aiohttp", "", "", "", "", "semver", "2023-07-20", patchcore.EcosystemPyPI, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			ps := feedtest.ParseFile(t, osv.Format{}, feedtest.Shared(t, tt.file))
			if len(ps) != 1 {
				t.Fatalf("%d patches", len(ps))
			}
			p := ps[0]
			if p.ID != tt.id || p.Source != "osv" || p.Classification != patchcore.ClassSecurity {
				t.Errorf("patch %s/%s/%s", p.ID, p.Source, p.Classification)
			}
			if !slices.Contains(p.CVEIDs(), tt.cve) {
				t.Errorf("CVEs %v lack %s", p.CVEIDs(), tt.cve)
			}
			if got := p.Released.Format(time.DateOnly); tt.released != "" && got != tt.released {
				t.Errorf("released %s, want %s", got, tt.released)
			}
			if len(p.Fixes) != tt.fixes {
				t.Errorf("%d fixes, want %d: %+v", len(p.Fixes), tt.fixes, p.Fixes)
			}
			i := slices.IndexFunc(p.Fixes, func(f patchcore.Fix) bool {
				return f.Package == tt.pkg && f.Release == tt.release && f.Introduced == tt.introduced
			})
			if i < 0 {
				t.Fatalf("no fix for %s %s introduced %q in %+v", tt.pkg, tt.release, tt.introduced, p.Fixes)
			}
			f := p.Fixes[i]
			if f.Distro != tt.distro || f.FixedVersion != tt.fixed || f.Scheme != tt.scheme || f.Ecosystem != tt.eco || f.PackageKind != tt.kind {
				t.Errorf("fix %+v", f)
			}
		})
	}
}

// TestSUSEEcosystems: SUSE's OSV ecosystems name products; their fixes get
// the canonical distribution and release a device's os-release gives.
func TestSUSEEcosystems(t *testing.T) {
	for _, c := range []struct{ eco, distro, release string }{
		{"SUSE:Linux Enterprise Server 15 SP4", "sles", "15.4"},
		{"SUSE:Linux Enterprise Desktop 15 SP5", "sled", "15.5"},
		{"openSUSE:Leap 15.5", "opensuse-leap", "15.5"},
		{"openSUSE:Tumbleweed", "opensuse-tumbleweed", ""},
	} {
		doc := `{"id":"SUSE-SU-2024:0001-1","affected":[{"package":{"ecosystem":"` + c.eco + `","name":"openssl-3"},` +
			`"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.8-150500.5.1"}]}]}]}`
		var got []patchcore.Fix
		err := osv.Format{}.Parse(context.Background(), strings.NewReader(doc), func(p patchcore.Patch) error {
			got = append(got, p.Fixes...)
			return nil
		})
		if err != nil || len(got) != 1 || got[0].Distro != c.distro || got[0].Release != c.release {
			t.Errorf("%s: fixes %+v, %v; want %s %q", c.eco, got, err, c.distro, c.release)
		}
	}
}

func TestUSNDetails(t *testing.T) {
	p := feedtest.ParseFile(t, osv.Format{}, feedtest.Shared(t, "ubuntu/USN-5614-1.osv.json"))[0]
	if !slices.Contains(p.Aliases, "UBUNTU-CVE-2021-3782") || p.Severity.Level != patchcore.SeverityMedium || p.Vendor != "Canonical" {
		t.Errorf("aliases %v severity %v vendor %s", p.Aliases, p.Severity, p.Vendor)
	}
	if !strings.HasPrefix(p.CVEs[0].CVSSVector, "CVSS:3.1/AV:L") {
		t.Errorf("cve %+v", p.CVEs[0])
	}
	if f := p.Fixes[0]; !slices.Contains(f.Binaries, "libwayland-client0") || f.Release != "18.04" {
		t.Errorf("fix %+v", f)
	}
}

func TestPyPILastAffected(t *testing.T) {
	p := feedtest.ParseFile(t, osv.Format{}, feedtest.Shared(t, "osv/PYSEC-2023-120.json"))[0]
	f := p.Fixes[0]
	if f.Status != patchcore.FixUnfixed || f.Attributes["last_affected"] != "3.8.4" || f.FixedVersion != "" {
		t.Errorf("fix %+v", f)
	}
	if !slices.Contains(p.Aliases, "GHSA-45c4-8wx5-qw6w") {
		t.Errorf("aliases %v", p.Aliases)
	}
}

func TestArrayFixture(t *testing.T) {
	ps := feedtest.ParseFile(t, osv.Format{}, "testdata/debian-array.json")
	if len(ps) != 1 {
		t.Fatalf("%d patches (withdrawn entry must be skipped)", len(ps))
	}
	p := ps[0]
	if p.Severity.Level != patchcore.SeverityHigh || len(p.CVEs) != 2 || p.Vendor != "Debian" {
		t.Errorf("patch %+v", p)
	}
	want := []patchcore.Fix{
		{Distro: "debian", Release: "12", Ecosystem: "deb", Scheme: "deb", Package: "unzip", PackageKind: "source", FixedVersion: "6.0-28+deb12u1"},
		{Distro: "debian", Release: "11", Ecosystem: "deb", Scheme: "deb", Package: "unzip", PackageKind: "source", Introduced: "6.0-20", Status: patchcore.FixUnfixed, Attributes: map[string]string{"last_affected": "6.0-26"}},
	}
	if len(p.Fixes) != 2 {
		t.Fatalf("fixes %+v", p.Fixes)
	}
	for i := range want {
		g, w := p.Fixes[i], want[i]
		if g.Distro != w.Distro || g.Release != w.Release || g.FixedVersion != w.FixedVersion || g.Introduced != w.Introduced ||
			g.Status != w.Status || g.Attributes["last_affected"] != w.Attributes["last_affected"] || g.PackageKind != w.PackageKind {
			t.Errorf("fix %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestBadInput(t *testing.T) {
	cases := feedtest.JSONHostile()
	cases = append(cases,
		feedtest.Bad{Name: "no id", Data: []byte(`{"summary": "x"}`), Want: "id"},
		feedtest.Bad{Name: "bad event", Data: []byte(`{"id": "X-1", "affected": [{"package": {"ecosystem": "Go", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"bogus": "1"}]}]}]}`), Want: "affected[0].ranges[0]"},
		feedtest.Bad{Name: "wrong type in array", Data: []byte(`[{"id": "X-1"}, {"id": 5}]`), Want: "[1]"},
	)
	feedtest.CheckBad(t, osv.Format{}, cases)
}

func TestDetect(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{`{"id": "X", "modified": "2024-01-01T00:00:00Z"}`, true},
		{`{"document": {"csaf_version": "2.0"}, "id": "x", "affected": []}`, false},
		{`<xml/>`, false},
	} {
		if got := (osv.Format{}).Detect([]byte(tt.in)); got != tt.want {
			t.Errorf("Detect(%s) = %v", tt.in, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/debian-array.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"X","affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, osv.Format{}, data)
	})
}
