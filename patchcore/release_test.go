package patchcore

import (
	"slices"
	"testing"
)

func TestCanonicalRelease(t *testing.T) {
	for _, c := range []struct{ distro, release, wantDistro, wantRelease string }{
		{"debian", "bookworm", "debian", "12"},
		{"Debian", "12", "debian", "12"},
		{"debian", "12.5", "debian", "12"},
		{"debian", "6.0.10", "debian", "6"},
		{"debian", "3.1", "debian", "3.1"},
		{"debian", "sarge", "debian", "3.1"},
		{"debian", "sid", "debian", "sid"},
		{"debian", "unstable", "debian", "sid"},
		{"debian", "Trixie", "debian", "13"},
		{"ubuntu", "bionic", "ubuntu", "18.04"},
		{"ubuntu", "18.04", "ubuntu", "18.04"},
		{"ubuntu", "18.04.6 LTS", "ubuntu", "18.04"},
		{"ubuntu", "jammy", "ubuntu", "22.04"},
		{"ubuntu", "devel", "ubuntu", "devel"},
		{"rhel", "9", "rhel", "9"},
		{"rhel", "8.4", "rhel", "8.4"},
		{"rhel", "8.4 EUS", "rhel", "8.4"},
		{"RedHat", "8.4-eus", "rhel", "8.4"},
		{"rhel", "8.6.z", "rhel", "8.6"},
		{"rhel", "9.2_aus", "rhel", "9.2"},
		{"Rocky Linux", "8", "rocky", "8"},
		{"sles", "15.4", "sles", "15.4"},
		{"sles", "15-SP4", "sles", "15.4"},
		{"sles", "15 SP4", "sles", "15.4"},
		{"sles", "15sp4", "sles", "15.4"},
		{"sles", "15-SP0", "sles", "15"},
		{"sles", "15", "sles", "15"},
		{"sles", "12-SP5-LTSS", "sles", "12.5"},
		{"suse", "Linux Enterprise Server 15 SP4", "sles", "15.4"},
		{"suse", "Linux Enterprise Desktop 15 SP5", "sled", "15.5"},
		{"suse", "Linux Enterprise Server for SAP Applications 15 SP3", "sles_sap", "15.3"},
		{"suse", "Linux Enterprise Module for Basesystem 15 SP5", "sles", "15.5"},
		{"suse", "Linux Enterprise Micro 5.5", "sle-micro", "5.5"},
		{"opensuse-leap", "15.5", "opensuse-leap", "15.5"},
		{"opensuse", "15.5", "opensuse-leap", "15.5"},
		{"opensuse", "42.3", "opensuse-leap", "42.3"},
		{"opensuse", "13.1", "opensuse", "13.1"},
		{"opensuse", "13.2", "opensuse", "13.2"},
		{"opensuse", "Leap 15.5", "opensuse-leap", "15.5"},
		{"opensuse", "Leap Micro 5.5", "opensuse-leap-micro", "5.5"},
		{"opensuse", "Tumbleweed", "opensuse-tumbleweed", ""},
		{"opensuse-tumbleweed", "20240101", "opensuse-tumbleweed", ""},
		{"alpine", "3.19", "alpine", "3.19"},
		{"windows", "", "windows", ""},
	} {
		d, r := CanonicalRelease(c.distro, c.release)
		if d != c.wantDistro || r != c.wantRelease {
			t.Errorf("CanonicalRelease(%q, %q) = %q, %q; want %q, %q", c.distro, c.release, d, r, c.wantDistro, c.wantRelease)
		}
	}
}

func TestPlatformCanonical(t *testing.T) {
	for _, c := range []struct {
		p        Platform
		distro   string
		releases []string
	}{
		{Platform{Distro: "debian", Version: "12", Codename: "bookworm"}, "debian", []string{"12"}},
		{Platform{Distro: "debian", Version: "12"}, "debian", []string{"12"}},
		{Platform{Distro: "debian", Codename: "bookworm"}, "debian", []string{"12"}},
		{Platform{Distro: "debian", Codename: "sid"}, "debian", []string{"sid"}},
		{Platform{Distro: "ubuntu", Codename: "bionic"}, "ubuntu", []string{"18.04"}},
		{Platform{Distro: "ubuntu", Version: "18.04"}, "ubuntu", []string{"18.04"}},
		{Platform{Distro: "rhel", Version: "9.4"}, "rhel", []string{"9.4", "9"}},
		{Platform{Distro: "rhel", Version: "9"}, "rhel", []string{"9"}},
		{Platform{Distro: "sles", Codename: "15-SP4"}, "sles", []string{"15.4", "15"}},
		{Platform{Distro: "opensuse", Version: "13.1"}, "opensuse", []string{"13.1", "13"}},
		{Platform{Distro: "opensuse-tumbleweed", Version: "20240101"}, "opensuse-tumbleweed", nil},
		{Platform{Distro: "kali", Version: "2024.1", Codename: "kali-rolling"}, "kali", []string{"2024.1", "kali-rolling", "2024"}},
		{Platform{Distro: "debian"}, "debian", nil},
	} {
		d, rs := c.p.Canonical()
		if d != c.distro || !slices.Equal(rs, c.releases) {
			t.Errorf("%+v.Canonical() = %q, %q; want %q, %q", c.p, d, rs, c.distro, c.releases)
		}
	}
}

// FuzzCanonicalRelease: the canonical form is a fixed point, and mapping
// never panics.
func FuzzCanonicalRelease(f *testing.F) {
	for _, s := range [][2]string{{"debian", "bookworm"}, {"ubuntu", "18.04.6 LTS"}, {"sles", "15-SP4"},
		{"suse", "Linux Enterprise Server 15 SP4"}, {"opensuse", "Leap Micro 5.5"}, {"rhel", "8.4 EUS"}, {"debian", "12.5"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, distro, release string) {
		d, r := CanonicalRelease(distro, release)
		if d2, r2 := CanonicalRelease(d, r); d2 != d || r2 != r {
			t.Errorf("CanonicalRelease(%q, %q) = %q, %q, but that maps to %q, %q", distro, release, d, r, d2, r2)
		}
	})
}
