package parse

import "time"

// Reboot behaviours (InstallationBehavior.RebootBehavior).
const (
	RebootNeverReboots         = 0
	RebootAlwaysRequiresReboot = 1
	RebootCanRequestReboot     = 2
)

// UpdateInfo is one IUpdate as the searcher returned it.
type UpdateInfo struct {
	UpdateID        string   `json:"update_id"`
	RevisionNumber  int      `json:"revision_number,omitempty"`
	Title           string   `json:"title"`
	KBArticleIDs    []string `json:"kb_article_ids,omitempty"`
	CategoryIDs     []string `json:"category_ids,omitempty"`
	CategoryNames   []string `json:"category_names,omitempty"`
	MsrcSeverity    string   `json:"msrc_severity,omitempty"`
	CVEIDs          []string `json:"cve_ids,omitempty"`
	RebootBehavior  int      `json:"reboot_behavior"`
	MaxDownloadSize int64    `json:"max_download_size,omitempty"`
	IsDownloaded    bool     `json:"is_downloaded,omitempty"`
	IsInstalled     bool     `json:"is_installed,omitempty"`
	IsHidden        bool     `json:"is_hidden,omitempty"`
	// Type is 1 for software, 2 for drivers.
	Type int `json:"type"`
	// SupersededUpdateIDs are the updates this one supersedes.
	SupersededUpdateIDs      []string  `json:"superseded_update_ids,omitempty"`
	LastDeploymentChangeTime time.Time `json:"last_deployment_change_time,omitzero"`
}

// Operation result codes (OperationResultCode of wuapi.h).
const (
	ResultNotStarted          = 0
	ResultInProgress          = 1
	ResultSucceeded           = 2
	ResultSucceededWithErrors = 3
	ResultFailed              = 4
	ResultAborted             = 5
)

// OperationResult is the per-update result of a download or install
// (IUpdateDownloadResult, IUpdateInstallationResult).
type OperationResult struct {
	ResultCode int   `json:"result_code"`
	HResult    int32 `json:"hresult"`
	// RebootRequired is IUpdateInstallationResult.RebootRequired.
	RebootRequired bool `json:"reboot_required,omitempty"`
}

// Update operations in the history.
const (
	OperationInstallation   = 1
	OperationUninstallation = 2
)

// HistoryEntry is one IUpdateHistoryEntry.
type HistoryEntry struct {
	UpdateID   string    `json:"update_id"`
	Title      string    `json:"title"`
	Operation  int       `json:"operation"`
	ResultCode int       `json:"result_code"`
	HResult    int32     `json:"hresult,omitempty"`
	Date       time.Time `json:"date"`
}

// QuickFix is one Win32_QuickFixEngineering row, as WMI returned it.
type QuickFix struct {
	// HotFixID is usually "KB5034441"; old or odd entries say "File 1" or
	// nothing, and are ignored.
	HotFixID string `json:"hotfix_id"`
	// Description is "Update", "Security Update", "Hotfix" and the like.
	Description string `json:"description,omitempty"`
	// InstalledOn is WMI's string as is: usually "1/9/2024" (M/D/YYYY),
	// sometimes a hexadecimal FILETIME or empty.
	InstalledOn string `json:"installed_on,omitempty"`
}

// CurrentVersion is what HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion says.
type CurrentVersion struct {
	ProductName    string `json:"product_name"`
	DisplayVersion string `json:"display_version,omitempty"`
	ReleaseID      string `json:"release_id,omitempty"`
	EditionID      string `json:"edition_id,omitempty"`
	CurrentBuild   string `json:"current_build"`
	UBR            int    `json:"ubr,omitempty"`
	MajorVersion   int    `json:"major_version,omitempty"`
	MinorVersion   int    `json:"minor_version,omitempty"`
}
