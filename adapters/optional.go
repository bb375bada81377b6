package adapters

import "context"

// ProtocolVersion is the plugin protocol this package speaks. A host and a
// plugin built against different major protocols fail at start-up with an
// error wrapping patchcore.ErrProtocolMismatch that names both versions.
const ProtocolVersion = 1

// ItemRemoved is the outcome of an item an Uninstaller removed or rolled back.
const ItemRemoved ItemStatus = "removed"

// Uninstaller is implemented by adapters that can remove updates or roll
// them back (CapUninstall).
//
// Behaviour contracts: Uninstall of something that is not installed returns
// ItemNotApplicable for that item, not an error; the lock and cancellation
// rules of Install apply.
type Uninstaller interface {
	Uninstall(ctx context.Context, req UninstallRequest) (UninstallResponse, error)
}

// UninstallRequest asks to remove specific updates or packages.
type UninstallRequest struct {
	Target
	IDs []string `json:"ids"`
	// OperationID makes the request idempotent across retries, as for Install.
	OperationID string `json:"operation_id,omitempty"`
}

// UninstallResponse has one result per requested ID, in request order.
type UninstallResponse struct {
	Items          []ItemResult `json:"items"`
	RebootRequired bool         `json:"reboot_required,omitempty"`
}

// Progress is one progress report of a running install.
type Progress struct {
	// ID is the update the report is about; empty for the whole transaction.
	ID string `json:"id,omitempty"`
	// Phase is what is happening ("downloading", "unpacking", "configuring").
	Phase string `json:"phase,omitempty"`
	// Percent is the completion of the phase, 0-100, or -1 when unknown.
	Percent int    `json:"percent"`
	Message string `json:"message,omitempty"`
}

// ProgressInstaller is implemented by adapters that report progress while
// installing (CapProgress).
//
// Behaviour contracts: report is called from the goroutine running the
// install, never after InstallWithProgress returns; the response is the same
// Install would return.
type ProgressInstaller interface {
	InstallWithProgress(ctx context.Context, req InstallRequest, report func(Progress)) (InstallResponse, error)
}
