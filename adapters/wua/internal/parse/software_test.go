package parse

import (
	"slices"
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

// TestOfficeMSI: an Office 2016 MSI suite is reported as the MSRC products
// it contains, and its installed updates (Uninstall entries with a
// ParentKeyName) give KBs; neither is a package of its own.
func TestOfficeMSI(t *testing.T) {
	sw := Software{Uninstall: []UninstallEntry{
		{Key: "Office16.PROPLUS", DisplayName: "Microsoft Office Professional Plus 2016", DisplayVersion: "16.0.4266.1001", Publisher: "Microsoft Corporation"},
		{Key: "{90160000-008C-0000-1000-0000000FF1CE}_Office16.PROPLUS_{2F6B3A1E-4C8D-4E5F-9A0B-1C2D3E4F5A6B}",
			DisplayName: "Security Update for Microsoft Office 2016 (KB5002537) 64-Bit Edition", Publisher: "Microsoft", ParentKeyName: "Office16.PROPLUS", ReleaseType: "Security Update"},
		{Key: "{90160000-0011-0000-1000-0000000FF1CE}_Office16.PROPLUS_{1B2C3D4E-5F6A-4B7C-8D9E-0F1A2B3C4D5E}",
			DisplayName: "Update for Microsoft Office 2016 (KB 4011035) 64-Bit Edition", Publisher: "Microsoft", ParentKeyName: "Office16.PROPLUS", ReleaseType: "Update"},
		{Key: "Office15.STANDARD", DisplayName: "Microsoft Office Standard 2013", DisplayVersion: "15.0.4569.1506", Publisher: "Microsoft Corporation", WOW64: true},
	}}
	var names []string
	for _, p := range ProductsOf(sw) {
		if p.Ecosystem != patchcore.EcosystemMicrosoft || p.Version == "" {
			t.Errorf("package %+v", p)
		}
		names = append(names, p.Name)
	}
	want := []string{
		"Microsoft Excel 2013 (32-bit edition)", "Microsoft Excel 2016 (64-bit edition)",
		"Microsoft Office 2013 (32-bit edition)", "Microsoft Office 2016 (64-bit edition)",
		"Microsoft Outlook 2013 (32-bit edition)", "Microsoft Outlook 2016 (64-bit edition)",
		"Microsoft PowerPoint 2013 (32-bit edition)", "Microsoft PowerPoint 2016 (64-bit edition)",
		"Microsoft Word 2013 (32-bit edition)", "Microsoft Word 2016 (64-bit edition)",
	}
	if !slices.Equal(names, want) {
		t.Errorf("packages\n got %q\nwant %q", names, want)
	}
	if got := UpdateKBs(sw); !slices.Equal(got, []string{"KB4011035", "KB5002537"}) {
		t.Errorf("UpdateKBs = %q", got)
	}
}

func TestOfficeChannel(t *testing.T) {
	for in, want := range map[string]string{
		"http://officecdn.microsoft.com/pr/492350f6-3a01-4f97-b9c0-c7c6ddf67d60":  "Current",
		"http://officecdn.microsoft.com/pr/55336B82-A18D-4DD6-B5F6-9E5095C314A6/": "MonthlyEnterprise",
		"http://officecdn.microsoft.com/pr/00000000-0000-0000-0000-000000000000":  "00000000-0000-0000-0000-000000000000",
		"": "",
	} {
		if got := officeChannel(in); got != want {
			t.Errorf("officeChannel(%q) = %q, want %q", in, got, want)
		}
	}
}
