package patchcore

import "time"

// Classification says what kind of update a patch is, in the categories that
// Windows Update and the Linux errata share.
type Classification string

// Classifications. Security and Critical are what auto-approval rules usually
// name; Other is for everything a feed does not say.
const (
	ClassSecurity     Classification = "security"
	ClassCritical     Classification = "critical"
	ClassBugfix       Classification = "bugfix"
	ClassEnhancement  Classification = "enhancement"
	ClassFeaturePack  Classification = "feature_pack"
	ClassServicePack  Classification = "service_pack"
	ClassUpdateRollup Classification = "update_rollup"
	ClassDriver       Classification = "driver"
	ClassDefinition   Classification = "definition"
	ClassTool         Classification = "tool"
	ClassOther        Classification = "other"
)

// Classifications lists every classification in a stable order.
func Classifications() []Classification {
	return []Classification{ClassSecurity, ClassCritical, ClassBugfix, ClassEnhancement,
		ClassFeaturePack, ClassServicePack, ClassUpdateRollup, ClassDriver, ClassDefinition,
		ClassTool, ClassOther}
}

// Valid reports whether c is one of the defined classifications.
func (c Classification) Valid() bool {
	for _, k := range Classifications() {
		if c == k {
			return true
		}
	}
	return false
}

// RebootBehavior says whether installing a patch needs a restart.
type RebootBehavior string

// Reboot behaviours, as Windows Update reports them and errata imply.
const (
	RebootUnknown  RebootBehavior = ""
	RebootNever    RebootBehavior = "never"
	RebootMay      RebootBehavior = "may"
	RebootRequired RebootBehavior = "required"
)

// CVE is a vulnerability a patch addresses, with the score its publisher gave.
type CVE struct {
	ID string `json:"id"`
	// CVSSScore is the base score (0-10); 0 when none was published.
	CVSSScore float64 `json:"cvss_score,omitempty"`
	// CVSSVector is the vector string ("CVSS:3.1/AV:N/...").
	CVSSVector string `json:"cvss_vector,omitempty"`
}

// Patch is what is approved and installed: a vendor advisory or update
// (DSA-5678-1, RHSA-2024:6163, USN-5614-1, KB5034441) or a third-party
// application version. Fixes say, per platform, what resolves it.
type Patch struct {
	// ID is the publisher's identifier, unique within its Source.
	ID string `json:"id"`
	// Aliases are other identifiers of the same patch (an OSV id for a USN, a
	// CVE for a Debian tracker entry); the catalog de-duplicates on them.
	Aliases []string `json:"aliases,omitempty"`
	// Source names the feed the patch was read from ("debian-tracker", "msrc-cvrf").
	Source string `json:"source"`
	// Vendor is the publisher ("Debian", "Red Hat", "Microsoft").
	Vendor string `json:"vendor,omitempty"`
	// Products are the publisher's product names the patch applies to.
	Products       []string       `json:"products,omitempty"`
	Title          string         `json:"title,omitempty"`
	Description    string         `json:"description,omitempty"`
	Classification Classification `json:"classification"`
	// Severity is the vendor's severity, never changed by overlays.
	Severity Severity `json:"severity"`
	// CustomSeverity, when set, is the customer's own rating of the patch.
	CustomSeverity *Severity `json:"custom_severity,omitempty"`
	// Rating is a customer's patch rating (for example 1 to 5 stars); 0 when unrated.
	Rating   int       `json:"rating,omitempty"`
	CVEs     []CVE     `json:"cves,omitempty"`
	Released time.Time `json:"released,omitzero"`
	Revised  time.Time `json:"revised,omitzero"`
	// Supersedes lists the IDs of patches this one replaces.
	Supersedes []string       `json:"supersedes,omitempty"`
	Reboot     RebootBehavior `json:"reboot,omitempty"`
	References []string       `json:"references,omitempty"`
	Fixes      []Fix          `json:"fixes,omitempty"`
}

// EffectiveSeverity is the custom severity when one is set, otherwise the vendor's.
func (p *Patch) EffectiveSeverity() Severity {
	if p.CustomSeverity != nil {
		return *p.CustomSeverity
	}
	return p.Severity
}

// CVEIDs returns the IDs of the patch's CVEs in order.
func (p *Patch) CVEIDs() []string {
	ids := make([]string, len(p.CVEs))
	for i, c := range p.CVEs {
		ids[i] = c.ID
	}
	return ids
}

// FixStatus says what a Fix entry means for its platform and package.
type FixStatus string

// Fix statuses. The zero value is FixFixed, the common case.
const (
	// FixFixed: versions before FixedVersion (or builds before FixedBuild) are affected.
	FixFixed FixStatus = ""
	// FixUnfixed: the package is affected and no fixed version exists yet.
	FixUnfixed FixStatus = "unfixed"
	// FixWontFix: affected, and the vendor does not plan a fix.
	FixWontFix FixStatus = "wont_fix"
	// FixNotAffected: the vendor states this package on this platform is not affected.
	FixNotAffected FixStatus = "not_affected"
)

// PackageKind says whether Fix.Package names a source or a binary package.
type PackageKind string

// Package kinds. Debian's tracker and DSAs name source packages; RPM errata
// and OVAL name binary packages.
const (
	PackageBinary PackageKind = "binary"
	PackageSource PackageKind = "source"
)

// Fix says what resolves a patch on one platform: a package at a version, an
// OS build, or an installer. One patch has a Fix per (platform, package) it
// touches; a patch with several affected version ranges has a Fix per range.
type Fix struct {
	// Distro and Release select the platform ("debian"/"bookworm",
	// "rhel"/"9", "windows"/""). Empty Release means every release of Distro.
	Distro  string `json:"distro,omitempty"`
	Release string `json:"release,omitempty"`
	// Product and ProductID name the vendor's product (MSRC "Windows 11
	// Version 23H2 for x64-based Systems" / "12242"; a CPE for Red Hat).
	Product   string `json:"product,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	// Ecosystem is the package universe the fix lives in.
	Ecosystem Ecosystem `json:"ecosystem,omitempty"`
	// Package is the package name; PackageKind says whether it is a source or binary name.
	Package     string      `json:"package,omitempty"`
	PackageKind PackageKind `json:"package_kind,omitempty"`
	// Arch restricts the fix to one architecture; empty or "noarch" matches all.
	Arch string `json:"arch,omitempty"`
	// ModuleStream restricts an RPM fix to a module stream ("postgresql:12").
	ModuleStream string `json:"module_stream,omitempty"`
	// Scheme is the version scheme of the versions below ("deb", "rpm", "semver", "dotted").
	Scheme string    `json:"scheme,omitempty"`
	Status FixStatus `json:"status,omitempty"`
	// Introduced is the first affected version; empty means all earlier versions are affected.
	Introduced string `json:"introduced,omitempty"`
	// FixedVersion is the first version that is not affected; empty when unfixed.
	FixedVersion string `json:"fixed_version,omitempty"`
	// KB and FixedBuild describe a Windows fix: the KB article and the OS
	// build (10.0.22631.3007) at or above which it is installed.
	KB         string `json:"kb,omitempty"`
	FixedBuild string `json:"fixed_build,omitempty"`
	// Supersedes lists what this fix replaces on this product (MSRC per-product Supercedence).
	Supersedes []string `json:"supersedes,omitempty"`
	// Hotpatch marks a Windows hotpatch (MSRC SubType "SecurityHotpatchUpdate",
	// "Azure Hotpatch"): it installs without a restart on top of the
	// quarter's baseline cumulative update, and only on a device enrolled in
	// hotpatching (Platform.Hotpatch). Every other device takes the
	// month's cumulative update instead, and the hotpatch is not applicable
	// to it.
	Hotpatch bool `json:"hotpatch,omitempty"`
	// Equivalents lists KBs that fix the same vulnerabilities on the same
	// product in the same month: for a hotpatch the month's cumulative
	// update, for a cumulative update the month's hotpatch. A device with
	// one of them installed has what the others fix.
	Equivalents []string       `json:"equivalents,omitempty"`
	Reboot      RebootBehavior `json:"reboot,omitempty"`
	// Installer is set for application fixes delivered as an installer.
	Installer *Installer `json:"installer,omitempty"`
	// Severity is this fix's own severity when the feed rates each package or
	// release separately (Debian's urgency per release); zero otherwise, and
	// the patch's Severity applies.
	Severity Severity `json:"severity,omitzero"`
	// Binaries lists the binary packages built from a source-package fix when
	// the feed says (debsecan): nil when the feed does not say, empty and
	// non-nil when it lists none.
	Binaries []string `json:"binaries,omitempty"`
	// ExcludedVersions are versions that sort before FixedVersion but are not
	// affected, matched exactly: fixes released for one suite under a lower
	// version (debsecan's "other versions").
	ExcludedVersions []string `json:"excluded_versions,omitempty"`
	// Attributes keeps facts a feed states about this fix that have no field
	// of their own, under the feed's own key ("remote": "yes", "advisory":
	// "RHSA-2024:6163"). The feed packages document their keys.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Installer describes a downloadable installer for an application fix.
type Installer struct {
	URL    string `json:"url"`
	SHA256 string `json:"sha256,omitempty"`
	Size   int64  `json:"size,omitempty"`
	// Type is the installer technology ("msi", "exe", "inno", "nullsoft", "msix", "zip").
	Type string `json:"type,omitempty"`
	// Switches are the silent-install arguments.
	Switches    string `json:"switches,omitempty"`
	ProductCode string `json:"product_code,omitempty"`
	Arch        string `json:"arch,omitempty"`
	Scope       string `json:"scope,omitempty"`
}
