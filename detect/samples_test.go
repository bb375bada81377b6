package detect

import (
	"bufio"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/chocolatey"
	"github.com/patchcore/sdk/feed/debian"
	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/feed/winget"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/dpkg"
)

func addFeed(t testing.TB, cat *feed.Catalog, f feed.Format, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r, _, err := fetch.Decompress(fh, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = f.Parse(context.Background(), r, func(p patchcore.Patch) error {
		cat.Add(p)
		return nil
	})
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
}

// TestDebsecanSample: the (CVE, binary package) pairs detection reports
// as vulnerable on debsecan's test case 001 equal debsecan's own summary.
func TestDebsecanSample(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, debian.Debsecan{Release: "sid"}, samples.Path(t, "debsecan/001.sid"))
	fh, err := os.Open(samples.Path(t, "debsecan/001.status"))
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
	for _, f := range r.Findings {
		for _, e := range f.Evidence {
			if e.State == patchcore.FindingMissing {
				got = append(got, f.PatchID+" "+e.Package)
			}
		}
	}
	slices.Sort(got)
	want := debsecanSummary(t, "debsecan/001.exp.summary")
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("vulnerable pairs differ from debsecan's summary:\n got %d: %v\nwant %d: %v", len(got), got, len(want), want)
	}
	// The unfixed ones are missing with no fixed version.
	if f, ok := r.Finding("CVE-2005-3313"); !ok || f.State != patchcore.FindingMissing || !strings.Contains(f.Reason, "no fix exists yet") {
		t.Errorf("CVE-2005-3313: %+v", f)
	}
	if f, ok := r.Finding("CVE-2005-3184"); !ok || !strings.Contains(f.Reason, "ethereal 0.10.12-6 < 0.10.13-1 (deb) from CVE-2005-3184 for sid") {
		t.Errorf("CVE-2005-3184 reason %q", f.Reason)
	}
}

// TestMSRCSample: Windows 11 23H2 x64 against the January and February
// 2024 MSRC documents. January's cumulative update KB5034123 has FixedBuild
// 10.0.22631.3007 and February's KB5034765 (10.0.22631.3155) supersedes it.
func TestMSRCSample(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Feb.xml"))
	dev := func(ubr int, kbs ...string) patchcore.Inventory {
		return patchcore.Inventory{DeviceID: "pc-1", KBs: kbs, Platform: patchcore.Platform{Family: "windows", Distro: "windows",
			ProductName: "Windows 10 Pro", DisplayVersion: "23H2", Edition: "Professional", Build: "10.0.22631", UBR: ubr, Arch: "amd64"}}
	}
	const w23 = "Windows 11 Version 23H2 for x64-based Systems"
	e := New(cat)
	december, err := e.Detect(context.Background(), dev(2861, "KB5033375"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, december, []want{
		{"KB5034123", patchcore.FindingMissing, "=build 10.0.22631.2861 < 10.0.22631.3007 (dotted) from KB5034123 for " + w23},
		{"KB5034765", patchcore.FindingMissing, "< 10.0.22631.3155"},
	})
	f, _ := december.Finding("KB5034123")
	if f.Package != w23 || f.InstalledVersion != "10.0.22631.2861" || f.FixedVersion != "10.0.22631.3007" || len(f.CVEs) == 0 || f.Severity.Level == patchcore.SeverityUnknown {
		t.Errorf("KB5034123 finding %+v", f)
	}
	january, err := e.Detect(context.Background(), dev(3007, "KB5034123"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, january, []want{
		{"KB5034123", patchcore.FindingInstalled, "=build 10.0.22631.3007 >= 10.0.22631.3007 (dotted) from KB5034123 for " + w23},
		{"KB5034765", patchcore.FindingMissing, ""},
	})
	february, err := e.Detect(context.Background(), dev(3155, "KB5034765"))
	if err != nil {
		t.Fatal(err)
	}
	check(t, february, []want{
		{"KB5034123", patchcore.FindingSuperseded, "superseded by installed KB5034765"},
		{"KB5034765", patchcore.FindingInstalled, ">= 10.0.22631.3155"},
	})
	if f, _ := february.Finding("KB5034123"); f.SupersededBy != "KB5034765" {
		t.Errorf("KB5034123 superseded by %q", f.SupersededBy)
	}
	d := february.Diff(january)
	if !slices.ContainsFunc(d.Changed, func(c Change) bool {
		return c.PatchID == "KB5034123" && c.From == patchcore.FindingInstalled && c.To == patchcore.FindingSuperseded
	}) {
		t.Errorf("diff January -> February does not show KB5034123 installed -> superseded: %+v", d.Changed)
	}
	// No patch of another Windows release, Office or SQL Server is reported.
	for _, f := range february.Findings {
		if f.State == patchcore.FindingNotApplicable {
			t.Errorf("%s: not applicable finding without WithNotApplicable", f.PatchID)
		}
		if f.Fix != nil && !strings.HasSuffix(strings.ToLower(f.Fix.Product), strings.ToLower(w23)) {
			t.Errorf("%s: finding for product %q", f.PatchID, f.Fix.Product)
		}
	}
	if february.Counts.NotApplicable == 0 {
		t.Error("no patch counted not applicable")
	}
}

// TestThirdPartyWindowsSamples: winget and Chocolatey packages, parsed from
// the published manifests, are compared by package and version on a
// Windows device. Their fixes carry Distro "windows"; they must not be
// taken for MSRC KB fixes (which made an outdated 7-Zip or Firefox come out
// Unknown, "cannot map the device to an MSRC product", or not applicable).
func TestThirdPartyWindowsSamples(t *testing.T) {
	cat := feed.NewCatalog()
	for _, f := range []string{"winget/7zip.7zip.yaml", "winget/7zip.7zip.installer.yaml", "winget/7zip.7zip.locale.en-US.yaml"} {
		addFeed(t, cat, winget.Format{}, samples.Path(t, f))
	}
	addFeed(t, cat, chocolatey.Format{}, samples.Path(t, "chocolatey/firefox.nuspec"))
	// With and without the MSRC documents in the catalog: the device maps
	// to an MSRC product, or (no Windows patch names its build) it does not.
	withMSRC := feed.NewCatalog()
	for _, p := range cat.All() {
		got, _ := cat.Get(p.ID)
		withMSRC.Add(got)
	}
	addFeed(t, withMSRC, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	win := func(build string, ubr int, pkgs ...patchcore.Package) patchcore.Inventory {
		return patchcore.Inventory{DeviceID: "pc-1", Packages: pkgs, Platform: patchcore.Platform{Family: "windows", Distro: "windows",
			ProductName: "Windows 10 Pro", DisplayVersion: "23H2", Build: build, UBR: ubr, Arch: "amd64"}}
	}
	old := []patchcore.Package{
		{Name: "7zip.7zip", Version: "23.01", Ecosystem: patchcore.EcosystemWinget},
		{Name: "firefox", Version: "66.0.3", Ecosystem: patchcore.EcosystemChocolatey},
	}
	current := []patchcore.Package{
		{Name: "7zip.7zip", Version: "24.09", Ecosystem: patchcore.EcosystemWinget},
		{Name: "Firefox", Version: "67.0.1", Ecosystem: patchcore.EcosystemChocolatey},
	}
	for _, tc := range []struct {
		name string
		cat  *feed.Catalog
		inv  patchcore.Inventory
		want []want
	}{
		{"outdated, 23H2", withMSRC, win("10.0.22631", 2861, old...), []want{
			{"winget:7zip.7zip@24.09", patchcore.FindingMissing, "23.01"},
			{"chocolatey:firefox@67.0.1", patchcore.FindingMissing, "66.0.3"},
		}},
		{"outdated, build no patch names", withMSRC, win("10.0.26100", 1000, old...), []want{
			{"winget:7zip.7zip@24.09", patchcore.FindingMissing, "23.01"},
			{"chocolatey:firefox@67.0.1", patchcore.FindingMissing, "66.0.3"},
		}},
		{"outdated, no MSRC feed", cat, win("10.0.22631", 2861, old...), []want{
			{"winget:7zip.7zip@24.09", patchcore.FindingMissing, "23.01"},
			{"chocolatey:firefox@67.0.1", patchcore.FindingMissing, "66.0.3"},
		}},
		{"current", withMSRC, win("10.0.22631", 2861, current...), []want{
			{"winget:7zip.7zip@24.09", patchcore.FindingInstalled, "24.09"},
			{"chocolatey:firefox@67.0.1", patchcore.FindingInstalled, "67.0.1"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.cat, tc.inv)
			check(t, r, tc.want)
			for _, w := range tc.want {
				if f, _ := r.Finding(w.id); f.Package == "" || f.InstalledVersion == "" {
					t.Errorf("%s: package %q installed %q", w.id, f.Package, f.InstalledVersion)
				}
			}
		})
	}
}

// TestHotpatchSample: MSRC's March 2024 document has, for Windows Server
// 2022, the cumulative update KB5035857 (10.0.20348.2340) and the hotpatch
// KB5035959 (SubType SecurityHotpatchUpdate, 10.0.20348.2333). On an
// ordinary Datacenter server the hotpatch is not applicable (it was
// reported missing); on a hotpatch-enabled Azure Edition server either
// one installed covers the other.
func TestHotpatchSample(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Feb.xml"))
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Mar.xml.gz"))
	server := func(edition string, hotpatch bool, ubr int, kbs ...string) patchcore.Inventory {
		return patchcore.Inventory{DeviceID: "srv-1", KBs: kbs, Platform: patchcore.Platform{Family: "windows", Distro: "windows",
			ProductName: "Windows Server 2022 " + edition, Edition: edition, Build: "10.0.20348", UBR: ubr, Arch: "amd64", Hotpatch: hotpatch}}
	}
	for _, tc := range []struct {
		name string
		inv  patchcore.Inventory
		want []want
	}{
		{"datacenter, February", server("Datacenter", false, 2322, "KB5034770"), []want{
			{"KB5035857", patchcore.FindingMissing, "=build 10.0.20348.2322 < 10.0.20348.2340 (dotted) from KB5035857 for Windows Server 2022"},
			{"KB5035959", patchcore.FindingNotApplicable, "=KB5035959 is a hotpatch for Windows Server 2022; hotpatches apply only to devices enrolled in hotpatching (Windows Server Azure Edition with Hotpatch), and this device does not report hotpatch enrolment; the month's cumulative update for it is KB5035857"},
		}},
		{"datacenter, March", server("Datacenter", false, 2340, "KB5035857"), []want{
			{"KB5035857", patchcore.FindingInstalled, ">= 10.0.20348.2340"},
			{"KB5035959", patchcore.FindingNotApplicable, "is a hotpatch"},
		}},
		{"azure edition hotpatch, February", server("Datacenter: Azure Edition", true, 2322, "KB5034770"), []want{
			{"KB5035857", patchcore.FindingMissing, "< 10.0.20348.2340"},
			{"KB5035959", patchcore.FindingMissing, "=build 10.0.20348.2322 < 10.0.20348.2333 (dotted) from KB5035959 for Windows Server 2022"},
		}},
		{"azure edition hotpatch, March hotpatch", server("Datacenter: Azure Edition", true, 2333, "KB5035959"), []want{
			{"KB5035857", patchcore.FindingSuperseded, "covered by installed KB5035959, its equivalent for the same month (build 10.0.20348.2333 >= 10.0.20348.2333"},
			{"KB5035959", patchcore.FindingInstalled, ">= 10.0.20348.2333"},
		}},
		{"azure edition hotpatch, March cumulative", server("Datacenter: Azure Edition", true, 2340, "KB5035857"), []want{
			{"KB5035857", patchcore.FindingInstalled, ">= 10.0.20348.2340"},
			{"KB5035959", patchcore.FindingInstalled, ">= 10.0.20348.2333"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, cat, tc.inv, WithNotApplicable())
			check(t, r, tc.want)
		})
	}
	r := run(t, cat, server("Datacenter", false, 2333, "KB5035959"), WithNotApplicable())
	if f, _ := r.Finding("KB5035857"); f.State != patchcore.FindingMissing {
		t.Errorf("a hotpatch build on a device not enrolled does not cover the cumulative update: %s (%s)", f.State, f.Reason)
	}
}

// TestMicrosoftProductsSample: Edge and Visual Studio versions from MSRC's
// January and February 2024 documents ("Release Notes" remediations with a
// FixedBuild) are compared with the installed products the inventory
// reports under their own names.
func TestMicrosoftProductsSample(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Feb.xml"))
	dev := func(pkgs ...patchcore.Package) patchcore.Inventory {
		return patchcore.Inventory{DeviceID: "pc-1", Packages: pkgs, KBs: []string{"KB5034765"}, Platform: patchcore.Platform{Family: "windows", Distro: "windows",
			ProductName: "Windows 11 Pro", DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3155, Arch: "amd64"}}
	}
	devKBs := func(kbs []string, pkgs ...patchcore.Package) patchcore.Inventory {
		inv := dev(pkgs...)
		inv.KBs = append(inv.KBs, kbs...)
		return inv
	}
	ms := func(name, version string) patchcore.Package {
		return patchcore.Package{Name: name, Version: version, Ecosystem: patchcore.EcosystemMicrosoft}
	}
	for _, tc := range []struct {
		name string
		inv  patchcore.Inventory
		want []want
	}{
		{"outdated", dev(ms("Microsoft Edge", "121.0.2277.98"), ms("Visual Studio Enterprise 2022", "17.8.5")), []want{
			{"msrc:11655@122.0.2365.52", patchcore.FindingMissing, "121.0.2277.98"},
			{"msrc:11655@121.0.2277.83", patchcore.FindingSuperseded, "msrc:11655@122.0.2365.52"},
			{"msrc:12271@17.8.7", patchcore.FindingMissing, "17.8.5"},
			{"msrc:12187@17.6.12", "", ""},
		}},
		{"current", dev(ms("Microsoft Edge", "122.0.2365.52"), ms("Visual Studio Enterprise 2022", "17.8.7")), []want{
			{"KB5035121", "", ""},
			{"msrc:11655@122.0.2365.52", patchcore.FindingInstalled, "122.0.2365.52"},
			{"msrc:12271@17.8.7", patchcore.FindingInstalled, "17.8.7"},
		}},
		{".NET KB, outdated", dev(ms(".NET 8.0", "8.0.1")), []want{
			{"KB5035121", patchcore.FindingMissing, "=.NET 8.0 8.0.1 < 8.0.2 (dotted) from KB5035121"},
		}},
		{".NET KB, current", dev(ms(".NET 8.0", "8.0.2")), []want{
			{"KB5035121", patchcore.FindingInstalled, "=.NET 8.0 8.0.2 >= 8.0.2 (dotted) from KB5035121"},
		}},
		{"Office 2016 MSI, by KB", dev(ms("Microsoft Office 2016 (64-bit edition)", "16.0.4266.1001")), []want{
			{"KB5002537", patchcore.FindingMissing, "=KB5002537 for Microsoft Office 2016 (64-bit edition) is not in the installed updates list (Office MSI products are updated by KB; FixedBuild 16.0.5435.1001 is a file's build)"},
		}},
		{"Office 2016 MSI, KB installed", devKBs([]string{"KB5002537"}, ms("Microsoft Office 2016 (64-bit edition)", "16.0.4266.1001")), []want{
			{"KB5002537", patchcore.FindingInstalled, "is in the installed updates list"},
		}},
		{"SQL Server 2022 CU", dev(ms("Microsoft SQL Server 2022 (64-bit)", "16.0.4095.4")), []want{
			{"KB5033592", patchcore.FindingMissing, "=Microsoft SQL Server 2022 for x64-based Systems (CU 10) 16.0.4095.4 < 16.0.4100.1 (dotted) from KB5033592"},
			{"KB5032968", "", ""},
		}},
		{"SQL Server 2022 GDR, current", dev(ms("SQL Server 2022 Database Engine Services", "16.0.1110.1")), []want{
			{"KB5032968", patchcore.FindingInstalled, "=Microsoft SQL Server 2022 for x64-based Systems (GDR) 16.0.1110.1 >= 16.0.1110.1 (dotted) from KB5032968"},
			{"KB5033592", "", ""},
		}},
		{"SharePoint by KB", devKBs([]string{"KB5002539"}, ms("Microsoft SharePoint Server 2019", "16.0.10337.12109")), []want{
			{"KB5002539", patchcore.FindingInstalled, "is in the installed updates list"},
		}},
		{"Exchange by name", dev(ms("Microsoft Exchange Server 2019 Cumulative Update 13", "15.2.1258.12")), []want{
			{"KB5035606", patchcore.FindingMissing, "=Microsoft Exchange Server 2019 Cumulative Update 13 15.2.1258.12 < 15.2.1544.004 (dotted) from KB5035606"},
		}},
		{"other series", dev(ms("Visual Studio Professional 2022", "17.6.3")), []want{
			{"msrc:12187@17.6.12", patchcore.FindingMissing, "17.6.3"},
			{"msrc:12271@17.8.7", "", ""},
			{"msrc:11655@122.0.2365.52", "", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, cat, tc.inv)
			check(t, r, tc.want)
			// The Windows cumulative update is still evaluated alongside.
			if f, ok := r.Finding("KB5034765"); !ok || f.State != patchcore.FindingInstalled {
				t.Errorf("KB5034765: %+v", f)
			}
		})
	}
}

func TestMapMicrosoftProduct(t *testing.T) {
	for _, tc := range []struct {
		name, version, want string
	}{
		{"Microsoft Edge", "121.0.2277.98", "Microsoft Edge (Chromium-based)"},
		{"Visual Studio Enterprise 2022", "17.8.5", "Microsoft Visual Studio 2022 version 17.8"},
		{"Visual Studio Community 2019", "16.9.31105.61", "Microsoft Visual Studio 2019 version 16.11 (includes 16.0 - 16.10)"},
		{"Visual Studio Build Tools 2017", "15.9.59", "Microsoft Visual Studio 2017 version 15.9 (includes 15.0 - 15.8)"},
		{"PowerShell 7-x64", "7.4.1.0", "PowerShell 7.4"},
		{"Microsoft Office LTSC for Mac 2021", "16.81", "Microsoft Office LTSC for Mac 2021"},
		{"Visual Studio Enterprise 2022", "16.11.2", ""},
		{"Visual Studio Enterprise 2022", "17", ""},
	} {
		got, err := MapMicrosoftProduct(patchcore.Package{Name: tc.name, Version: tc.version, Ecosystem: patchcore.EcosystemMicrosoft})
		if tc.want == "" {
			if !errors.Is(err, patchcore.ErrUnknownProduct) {
				t.Errorf("%s %s: %q, %v; want ErrUnknownProduct", tc.name, tc.version, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s %s: %q, %v; want %q", tc.name, tc.version, got, err, tc.want)
		}
	}
}

// TestKBFormsInInventory: a KB the inventory lists in any form the feed
// accepts ("kb 5034123", "5034123", "KB05034123") counts as installed.
func TestKBFormsInInventory(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	for _, kb := range []string{"KB5034123", "kb 5034123", "5034123", " KB05034123 "} {
		// The UBR is unknown, so only the installed updates list decides.
		inv := patchcore.Inventory{KBs: []string{kb}, Platform: patchcore.Platform{Family: "windows", Distro: "windows",
			ProductName: "Windows 11 Pro", DisplayVersion: "23H2", Build: "10.0.22631", Arch: "amd64"}}
		r := run(t, cat, inv)
		check(t, r, []want{{"KB5034123", patchcore.FindingInstalled, "is in the installed updates list"}})
	}
}

// TestAzureLinuxSample: CBL-Mariner package fixes from MSRC's January
// 2024 document are compared with the rpm packages of a CBL-Mariner 2.0
// device.
func TestAzureLinuxSample(t *testing.T) {
	cat := feed.NewCatalog()
	addFeed(t, cat, msrc.CVRF{}, samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	inv := func(version string) patchcore.Inventory {
		return patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "mariner", Version: "2.0", Arch: "x86_64"},
			Packages: []patchcore.Package{{Name: "sqlite", Version: version, Arch: "x86_64", Ecosystem: patchcore.EcosystemRPM, SourceName: "sqlite", SourceVersion: version}}}
	}
	check(t, run(t, cat, inv("3.39.1-1.cm2")), []want{{"mariner:sqlite@3.39.2-1", patchcore.FindingMissing, "3.39.1-1.cm2 < 3.39.2-1"}})
	check(t, run(t, cat, inv("3.39.2-1.cm2")), []want{{"mariner:sqlite@3.39.2-1", patchcore.FindingInstalled, ""}})
}

// debsecanSummary reads the (CVE, package) pairs of one of debsecan's
// expected summaries, sorted.
func debsecanSummary(t *testing.T, rel string) []string {
	t.Helper()
	sum, err := os.Open(samples.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer sum.Close()
	var want []string
	sc := bufio.NewScanner(sum)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 2 {
			want = append(want, f[0]+" "+f[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	return want
}
