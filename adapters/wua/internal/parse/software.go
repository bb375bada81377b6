package parse

import (
	"regexp"
	"slices"
	"strings"

	"github.com/patchcore/sdk/patchcore"
)

// Software is what the registry says about installed Microsoft software
// beyond the OS.
type Software struct {
	// Uninstall are the subkeys of
	// HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall, in the
	// 64-bit and the 32-bit (WOW6432Node) views.
	Uninstall []UninstallEntry `json:"uninstall,omitempty"`
	// ClickToRun is HKLM\SOFTWARE\Microsoft\Office\ClickToRun\Configuration;
	// nil when Office Click-to-Run is not installed.
	ClickToRun *ClickToRun `json:"click_to_run,omitempty"`
	// Unreadable names the Uninstall subkeys that could not be read (removed
	// while listing, or denied); the adapter logs them.
	Unreadable []string `json:"unreadable,omitempty"`
}

// UninstallEntry is one Uninstall subkey: the values Add/Remove Programs
// shows.
type UninstallEntry struct {
	// Key is the subkey name ("Microsoft Edge", or an MSI ProductCode
	// "{90160000-008C-0000-1000-0000000FF1CE}").
	Key            string `json:"key"`
	DisplayName    string `json:"display_name,omitempty"`
	DisplayVersion string `json:"display_version,omitempty"`
	Publisher      string `json:"publisher,omitempty"`
	// UninstallString tells Click-to-Run entries (OfficeClickToRun.exe) apart.
	UninstallString string `json:"uninstall_string,omitempty"`
	// SystemComponent is set for entries Add/Remove Programs hides.
	SystemComponent bool `json:"system_component,omitempty"`
	// ParentKeyName and ReleaseType are set for updates of another entry
	// ("Security Update", "Hotfix"), which are not products.
	ParentKeyName string `json:"parent_key_name,omitempty"`
	ReleaseType   string `json:"release_type,omitempty"`
	// WOW64 reports an entry of the 32-bit view.
	WOW64 bool `json:"wow64,omitempty"`
}

// ClickToRun holds the values of the Click-to-Run configuration key.
type ClickToRun struct {
	// VersionToReport is the installed build ("16.0.17126.20132").
	VersionToReport string `json:"version_to_report"`
	// ProductReleaseIds lists the products ("O365ProPlusRetail,VisioProRetail").
	ProductReleaseIds string `json:"product_release_ids,omitempty"`
	// Platform is "x64" or "x86".
	Platform string `json:"platform,omitempty"`
	// CDNBaseUrl and UpdateChannel name the update channel by its CDN URL;
	// UpdateChannel (set by policy) wins.
	CDNBaseUrl    string `json:"cdn_base_url,omitempty"`
	UpdateChannel string `json:"update_channel,omitempty"`
}

// officeChannels maps the CDN GUID of an Office update channel to its name.
var officeChannels = map[string]string{
	"492350f6-3a01-4f97-b9c0-c7c6ddf67d60": "Current",
	"64256afe-f5d9-4f86-8936-8840a6a4f5be": "CurrentPreview",
	"5440fd1f-7ecb-4221-8110-145efaa6372f": "BetaChannel",
	"55336b82-a18d-4dd6-b5f6-9e5095c314a6": "MonthlyEnterprise",
	"7ffbc6bf-bc32-4f92-8982-f9dd17fd3114": "SemiAnnual",
	"b8f9b850-328d-4355-9145-c59439a0c4cf": "SemiAnnualPreview",
	"f2e724c1-748f-4b47-8fb8-8e0d210e9208": "PerpetualVL2019",
	"5030841d-c919-4594-8d2d-84ae4f96e58e": "PerpetualVL2021",
	"7983bac0-e531-40cf-be00-fd24fe66619c": "PerpetualVL2024",
}

// officeChannel names the channel of a CDN URL
// ("http://officecdn.microsoft.com/pr/492350f6-…" is "Current"); an
// unknown GUID is returned as it is.
func officeChannel(url string) string {
	url = strings.TrimRight(strings.TrimSpace(url), "/")
	if url == "" {
		return ""
	}
	guid := strings.ToLower(url[strings.LastIndex(url, "/")+1:])
	if name, ok := officeChannels[guid]; ok {
		return name
	}
	return guid
}

// officeProduct gives the MSRC product name of a Click-to-Run
// ProductReleaseId on a platform, or "" for products MSRC does not name
// separately (Visio, Project, language packs).
func officeProduct(id, platform string) string {
	bits := "64"
	if strings.EqualFold(platform, "x86") {
		bits = "32"
	}
	id = strings.ToLower(id)
	switch {
	case strings.HasPrefix(id, "o365"):
		return "Microsoft 365 Apps for Enterprise for " + bits + "-bit Systems"
	case strings.Contains(id, "2024volume"):
		return "Microsoft Office LTSC 2024 for " + bits + "-bit editions"
	case strings.Contains(id, "2021volume"):
		return "Microsoft Office LTSC 2021 for " + bits + "-bit editions"
	case strings.Contains(id, "2019"):
		return "Microsoft Office 2019 for " + bits + "-bit editions"
	}
	return ""
}

// dotnetRuntime and aspnetRuntime match the .NET runtime entries
// ("Microsoft Windows Desktop Runtime - 8.0.1 (x64)", "Microsoft .NET
// Runtime - 8.0.1 (x64)", "Microsoft ASP.NET Core 8.0.1 - Shared Framework
// (x64)").
var (
	dotnetRuntime = regexp.MustCompile(`^Microsoft (?:Windows Desktop Runtime|\.NET Runtime) - (\d+)\.(\d+)\.(\d+)\b`)
	aspnetRuntime = regexp.MustCompile(`^Microsoft ASP\.NET Core (\d+)\.(\d+)\.(\d+) - `)
)

// dotnet gives the MSRC product (".NET 8.0", "ASP.NET Core 8.0") and the
// runtime version of a .NET runtime entry.
func dotnet(name string) (product, version string, ok bool) {
	if m := dotnetRuntime.FindStringSubmatch(name); m != nil {
		return ".NET " + m[1] + "." + m[2], m[1] + "." + m[2] + "." + m[3], true
	}
	if m := aspnetRuntime.FindStringSubmatch(name); m != nil {
		return "ASP.NET Core " + m[1] + "." + m[2], m[1] + "." + m[2] + "." + m[3], true
	}
	return "", "", false
}

// officeSuite matches the Uninstall key of an Office 2013 or 2016 MSI
// suite ("Office16.PROPLUS", "Office15.STANDARD").
var officeSuite = regexp.MustCompile(`^Office(15|16)\.(PROPLUS|PROPLUSR|STANDARD|STANDARDR|PROFESSIONAL|HOMEBUSINESS)$`)

// officeMSI gives the MSRC products of an Office MSI suite entry: the
// suite ("Microsoft Office 2016 (64-bit edition)") and the applications
// every such suite has (Word, Excel, PowerPoint, Outlook); nil for any
// other entry. The edition is 32-bit when the entry is in the 32-bit view.
func officeMSI(e UninstallEntry) []string {
	k := strings.TrimSpace(e.Key)
	if len(k) < 6 || !strings.EqualFold(k[:6], "office") {
		return nil
	}
	m := officeSuite.FindStringSubmatch("Office" + strings.ToUpper(k[6:]))
	if m == nil {
		return nil
	}
	year := map[string]string{"15": "2013", "16": "2016"}[m[1]]
	edition := " (64-bit edition)"
	if e.WOW64 {
		edition = " (32-bit edition)"
	}
	var out []string
	for _, app := range []string{"Office", "Word", "Excel", "PowerPoint", "Outlook"} {
		out = append(out, "Microsoft "+app+" "+year+edition)
	}
	return out
}

// kbOfUpdate matches the KB in the name of an installed update's entry
// ("Security Update for Microsoft Office 2016 (KB5002537) 64-Bit Edition").
var kbOfUpdate = regexp.MustCompile(`(?i)\(KB ?\d+\)`)

// UpdateKBs returns the KBs of the Uninstall entries that are updates of
// another entry (ParentKeyName set: the Office MSI updates, which Windows
// Update's history does not always list), normalised and sorted.
func UpdateKBs(sw Software) []string {
	var kbs []string
	for _, e := range sw.Uninstall {
		if e.ParentKeyName == "" {
			continue
		}
		for _, m := range kbOfUpdate.FindAllString(e.DisplayName, -1) {
			if kb, ok := patchcore.NormalizeKB(strings.Trim(m, "()")); ok {
				kbs = append(kbs, kb)
			}
		}
	}
	slices.Sort(kbs)
	return slices.Compact(kbs)
}

// ProductsOf turns the registry's software into packages of ecosystem
// patchcore.EcosystemMicrosoft: one per Click-to-Run product MSRC names
// (Name the MSRC product, Version VersionToReport, Channel the update
// channel, Arch the platform), and one per Uninstall entry published by
// Microsoft that is a product (not hidden, not an update of another entry,
// not the Click-to-Run entries already reported) with its DisplayName and
// DisplayVersion (.NET runtimes as ".NET 8.0" / "ASP.NET Core 8.0" at the
// runtime version), and the ProductCode when the key is one. Packages are
// sorted by name and version.
func ProductsOf(sw Software) []patchcore.Package {
	var out []patchcore.Package
	seen := map[string]bool{}
	add := func(p patchcore.Package) {
		k := p.Name + "\x00" + p.Version + "\x00" + p.Arch
		if !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	if c := sw.ClickToRun; c != nil && strings.TrimSpace(c.VersionToReport) != "" {
		channel := officeChannel(c.UpdateChannel)
		if channel == "" {
			channel = officeChannel(c.CDNBaseUrl)
		}
		for _, id := range strings.Split(c.ProductReleaseIds, ",") {
			if name := officeProduct(strings.TrimSpace(id), c.Platform); name != "" {
				add(patchcore.Package{Name: name, Version: strings.TrimSpace(c.VersionToReport), Arch: strings.ToLower(strings.TrimSpace(c.Platform)),
					Channel: channel, Ecosystem: patchcore.EcosystemMicrosoft})
			}
		}
	}
	for _, e := range sw.Uninstall {
		name, ver := strings.TrimSpace(e.DisplayName), strings.TrimSpace(e.DisplayVersion)
		switch {
		case name == "" || ver == "" || e.SystemComponent || e.ParentKeyName != "":
			continue
		case !strings.HasPrefix(strings.TrimSpace(e.Publisher), "Microsoft"):
			continue
		case strings.Contains(strings.ToLower(e.ReleaseType), "update") || strings.EqualFold(e.ReleaseType, "hotfix"):
			continue
		case sw.ClickToRun != nil && strings.Contains(strings.ToLower(e.UninstallString), "officeclicktorun.exe"):
			continue
		}
		if names := officeMSI(e); names != nil {
			for _, n := range names {
				add(patchcore.Package{Name: n, Version: ver, Ecosystem: patchcore.EcosystemMicrosoft})
			}
			continue
		}
		p := patchcore.Package{Name: name, Version: ver, Ecosystem: patchcore.EcosystemMicrosoft}
		if n, v, ok := dotnet(name); ok {
			// The MSI's DisplayVersion ("64.4.23615") is not the runtime's.
			p.Name, p.Version = n, v
		}
		if k := strings.TrimSpace(e.Key); len(k) == 38 && k[0] == '{' && k[37] == '}' {
			p.ProductCode = k
		}
		add(p)
	}
	slices.SortFunc(out, func(a, b patchcore.Package) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	return out
}
