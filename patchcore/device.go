package patchcore

import (
	"strconv"
	"strings"
	"time"
)

// Ecosystem names a package universe: the package manager or catalog that
// owns a package's name and version.
type Ecosystem string

// Ecosystems the SDK knows. Feeds of other ecosystems (OSV's npm, crates.io,
// ...) keep the publisher's name.
const (
	EcosystemDeb        Ecosystem = "deb"
	EcosystemRPM        Ecosystem = "rpm"
	EcosystemWindows    Ecosystem = "windows"
	EcosystemChocolatey Ecosystem = "chocolatey"
	EcosystemWinget     Ecosystem = "winget"
	// EcosystemMicrosoft is Microsoft software outside the Windows OS as
	// MSRC names it (Microsoft Edge, Microsoft 365 Apps, Visual Studio,
	// PowerShell, SQL Server, Exchange Server). A Fix's Package is the
	// full MSRC product name ("Microsoft Edge (Chromium-based)") and
	// FixedVersion its fixed build; an installed Package's Name is the
	// product as the device reports it ("Microsoft Edge", "Microsoft 365
	// Apps for enterprise - en-us"), and detection maps it to MSRC
	// products.
	EcosystemMicrosoft Ecosystem = "microsoft"
	EcosystemMacOS     Ecosystem = "macos"
	EcosystemHomebrew  Ecosystem = "homebrew"
	EcosystemGo        Ecosystem = "go"
	EcosystemPyPI      Ecosystem = "pypi"
	EcosystemNPM       Ecosystem = "npm"
)

// OS families.
const (
	FamilyLinux   = "linux"
	FamilyWindows = "windows"
	FamilyDarwin  = "darwin"
)

// Platform is what a device runs: enough to choose which patches concern it.
type Platform struct {
	// Family is "linux", "windows" or "darwin".
	Family string `json:"family"`
	// Distro is the lower-case distribution ("debian", "ubuntu", "rhel",
	// "rocky", "almalinux", "amzn", "sles", "opensuse-leap"), "windows" or "macos".
	Distro string `json:"distro,omitempty"`
	// Version is the release number ("12", "22.04", "9.4", "14.2").
	Version string `json:"version,omitempty"`
	// Codename is the release codename where the distribution has one ("bookworm", "jammy").
	Codename string `json:"codename,omitempty"`
	// ProductName, DisplayVersion and Edition describe Windows ("Windows 11
	// Pro", "23H2", "Professional").
	ProductName    string `json:"product_name,omitempty"`
	DisplayVersion string `json:"display_version,omitempty"`
	Edition        string `json:"edition,omitempty"`
	// Build is the OS build ("10.0.22631") and UBR the update build revision (3007).
	Build string `json:"build,omitempty"`
	UBR   int    `json:"ubr,omitempty"`
	// Arch is the machine architecture as the OS names it ("amd64", "x86_64", "arm64").
	Arch string `json:"arch,omitempty"`
	// Kernel is the running kernel release ("6.1.0-18-amd64").
	Kernel string `json:"kernel,omitempty"`
	// Hotpatch reports a Windows device enrolled in hotpatch updates
	// (Windows Server Datacenter: Azure Edition with Hotpatch, Windows 11
	// Enterprise or Server 2025 enrolled in hotpatching). Hotpatch KBs
	// (Fix.Hotpatch) apply to it alone; on any other device they are not
	// applicable and the month's cumulative update is the patch.
	Hotpatch bool `json:"hotpatch,omitempty"`
}

// Release is the identifier feeds use for the platform's release: the
// codename when known, otherwise the version.
func (p Platform) Release() string {
	if p.Codename != "" {
		return p.Codename
	}
	return p.Version
}

// ID is "distro:release" ("debian:bookworm", "rhel:9"), the form the CLI's
// --platform flag takes.
func (p Platform) ID() string {
	return p.Distro + ":" + p.Release()
}

// FullBuild is the Windows build with its UBR ("10.0.22631.3007"), or Build
// alone when the UBR is unknown.
func (p Platform) FullBuild() string {
	if p.Build == "" || p.UBR == 0 || strings.Count(p.Build, ".") >= 3 {
		return p.Build
	}
	return p.Build + "." + strconv.Itoa(p.UBR)
}

// Package is one installed (or available) package.
type Package struct {
	Name string `json:"name"`
	// Version is the full version in the ecosystem's scheme, epoch included
	// where there is one ("1:9.0.117-2.el9_8").
	Version string `json:"version"`
	Arch    string `json:"arch,omitempty"`
	// SourceName and SourceVersion name the source package a binary package
	// was built from (Debian "Source:", the rpm's source rpm). They may
	// differ from Name and Version and must not be confused with them.
	SourceName    string    `json:"source_name,omitempty"`
	SourceVersion string    `json:"source_version,omitempty"`
	Ecosystem     Ecosystem `json:"ecosystem"`
	// ModuleStream is the RPM module stream the package belongs to ("postgresql:12").
	ModuleStream string `json:"module_stream,omitempty"`
	// ProductCode is the Windows installer ProductCode of an application.
	ProductCode string `json:"product_code,omitempty"`
	// Channel is the update channel an application follows, when it has
	// several (Office Click-to-Run "Current", "MonthlyEnterprise",
	// "SemiAnnual"); empty otherwise.
	Channel string `json:"channel,omitempty"`
	// Held reports a package the package manager will not upgrade (apt-mark
	// hold, dnf versionlock, zypper lock).
	Held bool `json:"held,omitempty"`
}

// Inventory is what a device has now, as an adapter read it.
type Inventory struct {
	DeviceID string    `json:"device_id,omitempty"`
	Platform Platform  `json:"platform"`
	Packages []Package `json:"packages"`
	// KBs lists installed Windows updates ("KB5034441").
	KBs []string `json:"kbs,omitempty"`
	// PendingReboot reports that an installed update waits for a restart.
	PendingReboot bool      `json:"pending_reboot,omitempty"`
	CollectedAt   time.Time `json:"collected_at,omitzero"`
	// Duration is how long collecting the inventory took, a measurement:
	// a plain time.Duration, nanoseconds in JSON.
	Duration time.Duration `json:"duration,omitempty"`
}

// Device is a managed endpoint and where it sits in the organisation, which
// is what approval scopes and rollout rings refer to.
type Device struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Platform Platform `json:"platform"`
	Partner  string   `json:"partner,omitempty"`
	Customer string   `json:"customer,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	// Ring is the rollout ring the device belongs to ("test", "production").
	Ring string `json:"ring,omitempty"`
}
