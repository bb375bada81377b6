package detect

import (
	"errors"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

func TestMapWindowsProduct(t *testing.T) {
	tests := []struct {
		name string
		p    patchcore.Platform
		want string
	}{
		// ProductName says Windows 10 on Windows 11; the build decides.
		{"win11 23H2", patchcore.Platform{ProductName: "Windows 10 Pro", DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3007, Arch: "amd64"}, "Windows 11 Version 23H2 for x64-based Systems"},
		{"win11 21H2 lower-case version", patchcore.Platform{ProductName: "Windows 11 Enterprise", Build: "10.0.22000", Arch: "arm64"}, "Windows 11 version 21H2 for ARM64-based Systems"},
		{"win10 22H2 32-bit", patchcore.Platform{ProductName: "Windows 10 Home", DisplayVersion: "22H2", Build: "10.0.19045.3930", Arch: "x86"}, "Windows 10 Version 22H2 for 32-bit Systems"},
		// fleetdm/fleet#53615: LTSC 2019 reports no display version.
		{"LTSC 2019 without display version", patchcore.Platform{ProductName: "Windows 10 Enterprise LTSC 2019", Build: "10.0.17763", UBR: 6293, Arch: "amd64"}, "Windows 10 Version 1809 for x64-based Systems"},
		{"LTSB 2016", patchcore.Platform{ProductName: "Windows 10 Enterprise 2016 LTSB", Build: "10.0.14393", UBR: 6614, Arch: "amd64"}, "Windows 10 Version 1607 for x64-based Systems"},
		// fleetdm/fleet#24041: Server 2022 reports display version 21H2,
		// which MSRC's product names omit; edition suffixes (#45130) too.
		{"server 2022 datacenter 21H2", patchcore.Platform{ProductName: "Microsoft Windows Server 2022 Datacenter", DisplayVersion: "21H2", Build: "10.0.20348", UBR: 2227, Arch: "amd64"}, "Windows Server 2022"},
		{"server 2019 core", patchcore.Platform{ProductName: "Windows Server 2019 Standard", Edition: "Server Core", Build: "10.0.17763", Arch: "amd64"}, "Windows Server 2019 (Server Core installation)"},
		{"server 2022 23H2 is core only", patchcore.Platform{ProductName: "Windows Server 2022 Datacenter", DisplayVersion: "23H2", Build: "10.0.25398", Arch: "amd64"}, "Windows Server 2022, 23H2 Edition (Server Core installation)"},
		{"unknown client build from display version", patchcore.Platform{ProductName: "Windows 11 Pro", DisplayVersion: "26H1", Build: "10.0.28000", Arch: "amd64"}, "Windows 11 Version 26H1 for x64-based Systems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MapWindowsProduct(tt.p)
			if err != nil || got != tt.want {
				t.Errorf("MapWindowsProduct = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, p := range []patchcore.Platform{
		{ProductName: "Windows Server 2030", Build: "10.0.30000", Arch: "amd64"},
		{ProductName: "Windows 11 Pro", Build: "10.0.22631", Arch: "riscv64"},
		{ProductName: "Windows 11 Pro", Build: "22631"},
		{ProductName: "Windows 11 Pro", Build: "10.0.x"},
	} {
		if got, err := MapWindowsProduct(p); !errors.Is(err, patchcore.ErrUnknownProduct) {
			t.Errorf("MapWindowsProduct(%+v) = %q, %v; want ErrUnknownProduct", p, got, err)
		}
	}
}

func kb(id, product, fixedBuild string, supersedes ...string) patchcore.Patch {
	return patchcore.Patch{ID: id, Source: "test", Classification: patchcore.ClassSecurity, Supersedes: supersedes,
		Fixes: []patchcore.Fix{{Distro: "windows", Product: product, KB: id, FixedBuild: fixedBuild, Scheme: "dotted", Ecosystem: patchcore.EcosystemWindows, Supersedes: supersedes}}}
}

// TestWindowsCumulative reproduces bitsadmin/wesng#5: KB4345421 (build
// 17134.167) on Windows 10 1803 is replaced by the later cumulative update
// KB4487017 (17134.590), and MSRC did not say so. The build comparison
// makes it installed; with the supersedence chain it is superseded.
func TestWindowsCumulative(t *testing.T) {
	const w1803 = "Windows 10 Version 1803 for x64-based Systems"
	dev := patchcore.Inventory{
		Platform: patchcore.Platform{Family: "windows", Distro: "windows", ProductName: "Windows 10 Pro", DisplayVersion: "1803", Build: "10.0.17134", UBR: 590, Arch: "amd64"},
		KBs:      []string{"KB4487017"},
	}
	cat := feed.NewCatalog()
	cat.Add(kb("KB4345421", w1803, "10.0.17134.167"), kb("KB4487017", w1803, "10.0.17134.590"),
		kb("KB5000000", "Windows 10 Version 1809 for x64-based Systems", "10.0.17763.100"))
	check(t, run(t, cat, dev), []want{
		{"KB4345421", patchcore.FindingInstalled, "=build 10.0.17134.590 >= 10.0.17134.167 (dotted) from KB4345421 for " + w1803},
		{"KB4487017", patchcore.FindingInstalled, ">= 10.0.17134.590"},
		{"KB5000000", "", ""},
	})
	cat = feed.NewCatalog()
	cat.Add(kb("KB4345421", w1803, "10.0.17134.167"), kb("KB4480966", w1803, "10.0.17134.523", "KB4345421"),
		kb("KB4487017", w1803, "10.0.17134.590", "4480966"))
	check(t, run(t, cat, dev), []want{
		{"KB4345421", patchcore.FindingSuperseded, "superseded by installed KB4487017"},
		{"KB4480966", patchcore.FindingSuperseded, "superseded by installed KB4487017"},
		{"KB4487017", patchcore.FindingInstalled, ""},
	})
	// Below the build, not listed: missing; listed with a restart pending.
	dev.Platform.UBR = 523
	dev.KBs = nil
	check(t, run(t, cat, dev), []want{
		{"KB4487017", patchcore.FindingMissing, "=build 10.0.17134.523 < 10.0.17134.590 (dotted) from KB4487017 for " + w1803},
		{"KB4480966", patchcore.FindingInstalled, ""},
		{"KB4345421", patchcore.FindingSuperseded, "KB4480966"},
	})
	dev.KBs, dev.PendingReboot = []string{"4487017"}, true
	check(t, run(t, cat, dev), []want{{"KB4487017", patchcore.FindingInstalledPendingReboot, "waits for a restart"}})
	// UBR unknown: cannot compare.
	dev.KBs, dev.PendingReboot, dev.Platform.UBR = nil, false, 0
	check(t, run(t, cat, dev), []want{{"KB4487017", patchcore.FindingUnknown, "(UBR) is unknown"}})
}

// TestWindowsUnmapped: a device whose product cannot be mapped is Unknown
// for every Windows patch, never compliant (fleetdm/fleet#24041, #53615).
func TestWindowsUnmapped(t *testing.T) {
	cat := feed.NewCatalog()
	cat.Add(kb("KB5034123", "Windows 11 Version 23H2 for x64-based Systems", "10.0.22631.3007"),
		kb("KB5034127", "Windows 10 Version 22H2 for x64-based Systems", "10.0.19045.3930"))
	for _, p := range []patchcore.Platform{
		{Family: "windows", Distro: "windows", ProductName: "Windows Server 2030 Datacenter", Build: "10.0.30000", UBR: 1, Arch: "amd64"},
		// Mapped, but the catalog has no such product (a release the feed predates).
		{Family: "windows", Distro: "windows", ProductName: "Windows 11 Pro", DisplayVersion: "24H2", Build: "10.0.26100", UBR: 1, Arch: "amd64"},
	} {
		r := run(t, cat, patchcore.Inventory{Platform: p})
		if len(r.Findings) != 2 || r.Counts.Unknown != 2 {
			t.Fatalf("%s: findings %+v", p.ProductName, r.Findings)
		}
		for _, f := range r.Findings {
			if f.State != patchcore.FindingUnknown || f.InstalledVersion == "" {
				t.Errorf("%s: %s %s %q", p.ProductName, f.PatchID, f.State, f.Reason)
			}
		}
	}
}

// TestWindowsOtherBuildLine: a FixedBuild on another build line (.NET's
// 4.8.09214.01, or a mislabelled product, fleetdm/fleet#16412) cannot be
// compared: Unknown unless the KB is listed as installed.
func TestWindowsOtherBuildLine(t *testing.T) {
	const w23 = "Windows 11 Version 23H2 for x64-based Systems"
	cat := feed.NewCatalog()
	cat.Add(kb("KB5034123", w23, "10.0.22631.3007"),
		kb("KB5033920", "Microsoft .NET Framework 3.5 AND 4.8.1 on "+w23, "4.8.09214.01"),
		kb("KB5026372", w23, "10.0.22000.1936"),
		kb("KB5099999", w23, "10.0.22621.9999,10.0.22631.9999"))
	inv := patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro", Build: "10.0.22631", UBR: 3007, Arch: "x86_64"}}
	check(t, run(t, cat, inv), []want{
		{"KB5033920", patchcore.FindingUnknown, "FixedBuild 4.8.09214.01 of KB5033920 for Microsoft .NET Framework 3.5 AND 4.8.1 on " + w23 + " is not on the device's build line 10.0.22631"},
		{"KB5026372", patchcore.FindingUnknown, "not on the device's build line"},
		{"KB5099999", patchcore.FindingMissing, "< 10.0.22631.9999"},
		{"KB5034123", patchcore.FindingInstalled, ""},
	})
	inv.KBs = []string{"kb5033920"}
	check(t, run(t, cat, inv), []want{{"KB5033920", patchcore.FindingInstalled, "installed updates list"}})
}

// TestApps: installed applications against the catalog's latest version,
// by package id or installer ProductCode; older versions are superseded.
func TestApps(t *testing.T) {
	app := func(id, pkg, ver, code string, eco patchcore.Ecosystem) patchcore.Patch {
		f := patchcore.Fix{Ecosystem: eco, Package: pkg, FixedVersion: ver}
		if code != "" {
			f.Installer = &patchcore.Installer{URL: "https://example.invalid/" + id, ProductCode: code}
		}
		return patchcore.Patch{ID: id, Source: "test", Classification: patchcore.ClassSecurity, Fixes: []patchcore.Fix{f}}
	}
	cat := feed.NewCatalog()
	cat.Add(app("winget:7zip.7zip@23.01", "7zip.7zip", "23.01", "", patchcore.EcosystemWinget),
		app("winget:7zip.7zip@24.09", "7zip.7zip", "24.09", "{23170F69-40C1-2702-2409-000001000000}", patchcore.EcosystemWinget),
		app("choco:firefox@128.0.3", "firefox", "128.0.3", "", patchcore.EcosystemChocolatey),
		app("choco:firefox@not-a-version", "firefox", "x y", "", patchcore.EcosystemChocolatey))
	inv := patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro", Build: "10.0.22631", UBR: 3007, Arch: "amd64"},
		Packages: []patchcore.Package{
			{Name: "7zip.7zip", Version: "23.01", Ecosystem: patchcore.EcosystemWinget},
			{Name: "Firefox", Version: "128.0.3", Ecosystem: patchcore.EcosystemChocolatey},
		}}
	check(t, run(t, cat, inv), []want{
		{"winget:7zip.7zip@24.09", patchcore.FindingMissing, "=7zip.7zip 23.01 < 24.09 (dotted), the latest in the catalog from winget:7zip.7zip@24.09"},
		{"winget:7zip.7zip@23.01", patchcore.FindingSuperseded, "superseded by winget:7zip.7zip@24.09"},
		{"choco:firefox@128.0.3", patchcore.FindingInstalled, ">= 128.0.3"},
		{"choco:firefox@not-a-version", patchcore.FindingUnknown, "dotted version"},
	})
	// Found by ProductCode from the Windows programs list.
	inv.Packages = []patchcore.Package{{Name: "7-Zip 24.09 (x64)", Version: "24.09", ProductCode: "{23170f69-40c1-2702-2409-000001000000}", Ecosystem: patchcore.EcosystemWindows}}
	check(t, run(t, cat, inv), []want{{"winget:7zip.7zip@24.09", patchcore.FindingInstalled, "24.09 >= 24.09"}})
}

// Homebrew versions carry a revision (3.2.0_1) and letters (1.1.1w) that the
// dotted scheme rejects; a Homebrew fix without an explicit scheme is
// compared with Homebrew's own ordering.
func TestHomebrewApps(t *testing.T) {
	fix := func(pkg, ver string) patchcore.Fix {
		return patchcore.Fix{Ecosystem: patchcore.EcosystemHomebrew, Package: pkg, FixedVersion: ver}
	}
	cat := feed.NewCatalog()
	cat.Add(patchcore.Patch{ID: "brew:openssl@3@3.2.1_1", Source: "test", Classification: patchcore.ClassSecurity, Fixes: []patchcore.Fix{fix("openssl@3", "3.2.1_1")}},
		patchcore.Patch{ID: "brew:openssl@1.1@1.1.1w", Source: "test", Classification: patchcore.ClassSecurity, Fixes: []patchcore.Fix{fix("openssl@1.1", "1.1.1w")}})
	inv := patchcore.Inventory{Platform: patchcore.Platform{Family: "darwin", Distro: "macos", Version: "14.4", Arch: "arm64"},
		Packages: []patchcore.Package{
			{Name: "openssl@3", Version: "3.2.1", Ecosystem: patchcore.EcosystemHomebrew},
			{Name: "openssl@1.1", Version: "1.1.1w_1", Ecosystem: patchcore.EcosystemHomebrew},
		}}
	check(t, run(t, cat, inv), []want{
		{"brew:openssl@3@3.2.1_1", patchcore.FindingMissing, "3.2.1 < 3.2.1_1 (homebrew)"},
		{"brew:openssl@1.1@1.1.1w", patchcore.FindingInstalled, "1.1.1w_1 >= 1.1.1w"},
	})
}
