// Package adapters is the contract between patchcore and the package
// managers and OS update services it drives. An adapter (apt, dnf, zypper,
// Windows Update, Chocolatey, winget, softwareupdate, Homebrew, or a third
// party's) implements Adapter; the host runs it as a hashicorp/go-plugin
// subprocess, so a hang or crash in the package manager never takes the
// agent down.
//
// Every method takes a context and value request/response structs. Partial
// failures are per-item results in the response; a returned error means the
// call itself failed, and wraps a patchcore sentinel where one fits
// (patchcore.ErrPackageManagerLocked, patchcore.ErrPermission, ...).
package adapters

import (
	"context"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

// Adapter is implemented by every adapter.
//
// Behaviour contracts, checked by the conformance kit in adapters/adaptertest:
//   - Info is cheap, needs no privileges and never runs the package manager.
//   - Inventory and ListUpdates are read-only and deterministic: two calls on
//     an unchanged system return equal results, packages sorted by name then arch.
//   - Versions are in the scheme Info declares and parse with it.
//   - Install of an update that is already installed returns success for
//     that item (ItemInstalled with a Reason saying so), not an error.
//   - A package manager lock held by another process is an error wrapping
//     patchcore.ErrPackageManagerLocked, never a per-item failure.
//   - A cancelled context stops the call promptly; an install that has
//     started a package-manager transaction lets it finish (never leaving
//     dpkg or rpm half-configured) and then returns ctx.Err().
//   - Held or locked packages are reported (Package.Held, Update.Held) and
//     never upgraded unless the request names them with Force.
type Adapter interface {
	Info(ctx context.Context, req InfoRequest) (InfoResponse, error)
	Inventory(ctx context.Context, req InventoryRequest) (InventoryResponse, error)
	ListUpdates(ctx context.Context, req ListUpdatesRequest) (ListUpdatesResponse, error)
	Download(ctx context.Context, req DownloadRequest) (DownloadResponse, error)
	Install(ctx context.Context, req InstallRequest) (InstallResponse, error)
	RebootRequired(ctx context.Context, req RebootRequiredRequest) (RebootRequiredResponse, error)
}

// Capability names an optional feature an adapter offers.
type Capability string

// Capabilities. An adapter that lists one also implements the matching
// optional interface.
const (
	CapUninstall     Capability = "uninstall"      // Uninstaller
	CapProgress      Capability = "progress"       // ProgressInstaller
	CapAdvisories    Capability = "advisories"     // ListUpdates carries advisory IDs, severities and CVEs
	CapAlternateRoot Capability = "alternate_root" // requests may set Root
	CapOfflineScan   Capability = "offline_scan"   // ListUpdates may read an offline catalog (wsusscn2.cab)
)

// InfoRequest asks an adapter to describe itself.
type InfoRequest struct{}

// InfoResponse describes an adapter.
type InfoResponse struct {
	// Name is the adapter's short name ("apt").
	Name string `json:"name"`
	// Version is the adapter's own version.
	Version string `json:"version"`
	// ProtocolVersion is the plugin protocol the adapter speaks.
	ProtocolVersion int `json:"protocol_version"`
	// Platforms lists the distros or OSes it serves ("debian", "ubuntu", "windows").
	Platforms []string `json:"platforms"`
	// VersionScheme is the scheme of every version it reports, a name
	// version.Lookup knows ("deb", "rpm", "semver", "dotted", "homebrew").
	VersionScheme string       `json:"version_scheme"`
	Capabilities  []Capability `json:"capabilities,omitempty"`
}

// Target says which system a request acts on.
type Target struct {
	// Root is an alternate root directory (a chroot, a mounted image);
	// empty means the running system. Needs CapAlternateRoot.
	Root string `json:"root,omitempty"`
}

// InventoryRequest asks for what is installed.
type InventoryRequest struct {
	Target
}

// InventoryResponse is the device's inventory.
type InventoryResponse struct {
	Inventory patchcore.Inventory `json:"inventory"`
}

// ListUpdatesRequest asks for the updates available now.
type ListUpdatesRequest struct {
	Target
	// Refresh asks the adapter to refresh its metadata first (apt-get update,
	// dnf makecache); false lists from the metadata already on the system.
	Refresh bool `json:"refresh,omitempty"`
	// OfflineCatalog is a path to an offline catalog (CapOfflineScan).
	OfflineCatalog string `json:"offline_catalog,omitempty"`
}

// Update is one available update as the package manager sees it.
type Update struct {
	// ID identifies the update for Download and Install: a package name, an
	// advisory ID, a KB or a Windows Update UpdateID.
	ID string `json:"id"`
	// Package is the package the update changes; empty for OS updates.
	Package          string `json:"package,omitempty"`
	Arch             string `json:"arch,omitempty"`
	InstalledVersion string `json:"installed_version,omitempty"`
	AvailableVersion string `json:"available_version,omitempty"`
	// Origin is where the update comes from: the repository, pocket or
	// catalog ("Debian-Security:12/stable-security", "baseos").
	Origin         string                   `json:"origin,omitempty"`
	Title          string                   `json:"title,omitempty"`
	Classification patchcore.Classification `json:"classification"`
	Severity       patchcore.Severity       `json:"severity"`
	CVEs           []string                 `json:"cves,omitempty"`
	// Advisories are the advisory IDs that ship this update (RLSA-2024:1234, SUSE-SU-...).
	Advisories []string  `json:"advisories,omitempty"`
	KB         string    `json:"kb,omitempty"`
	Issued     time.Time `json:"issued,omitzero"`
	// Held reports an update the package manager will not install (hold, lock, versionlock).
	Held   bool                     `json:"held,omitempty"`
	Reboot patchcore.RebootBehavior `json:"reboot,omitempty"`
	Size   int64                    `json:"size,omitempty"`
}

// ListUpdatesResponse lists available updates, sorted by ID.
type ListUpdatesResponse struct {
	Updates []Update `json:"updates"`
}

// DownloadRequest asks to stage updates without installing them.
type DownloadRequest struct {
	Target
	IDs []string `json:"ids"`
}

// DownloadResponse has one result per requested ID, in request order.
type DownloadResponse struct {
	Items []ItemResult `json:"items"`
}

// InstallRequest asks to install specific updates.
type InstallRequest struct {
	Target
	IDs []string `json:"ids"`
	// Force installs held or locked packages named in IDs.
	Force bool `json:"force,omitempty"`
	// OperationID makes the request idempotent across retries and crashes;
	// adapters may use it to detect a repeat of a finished install.
	OperationID string `json:"operation_id,omitempty"`
}

// ItemStatus is the outcome for one requested item.
type ItemStatus string

// Item outcomes.
const (
	ItemDownloaded             ItemStatus = "downloaded"
	ItemInstalled              ItemStatus = "installed"
	ItemInstalledPendingReboot ItemStatus = "installed_pending_reboot"
	ItemFailed                 ItemStatus = "failed"
	ItemNotApplicable          ItemStatus = "not_applicable"
	ItemHeld                   ItemStatus = "held"
)

// ItemResult is the outcome for one requested ID.
type ItemResult struct {
	ID     string     `json:"id"`
	Status ItemStatus `json:"status"`
	// Reason explains a failure or a not-applicable outcome, with the
	// package manager's own code where it has one (an HRESULT, an exit code).
	Reason      string `json:"reason,omitempty"`
	FromVersion string `json:"from_version,omitempty"`
	ToVersion   string `json:"to_version,omitempty"`
}

// InstallResponse has one result per requested ID, in request order.
type InstallResponse struct {
	Items []ItemResult `json:"items"`
	// RebootRequired reports that the system needs a restart after this install.
	RebootRequired bool `json:"reboot_required,omitempty"`
}

// RebootRequiredRequest asks whether the system needs a restart.
type RebootRequiredRequest struct {
	Target
}

// RebootRequiredResponse answers RebootRequired.
type RebootRequiredResponse struct {
	Required bool `json:"required"`
	// Reasons say what asks for the restart (packages, registry keys).
	Reasons []string `json:"reasons,omitempty"`
}
