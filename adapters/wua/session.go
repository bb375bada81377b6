package wua

import (
	"context"
	"time"
)

// Session is what the adapter needs from the Windows Update Agent. The
// Windows build implements it with COM (IUpdateSession, IUpdateSearcher,
// IUpdateDownloader, IUpdateInstaller, ISystemInformation); tests use
// wuatest.Fake with recorded search results. Every value is a plain Go
// struct, so the adapter's logic is tested on any OS.
type Session interface {
	// Search runs IUpdateSearcher.Search with q.
	Search(ctx context.Context, q Query) ([]UpdateInfo, error)
	// Download stages one update (by UpdateID) through IUpdateDownloader.
	Download(ctx context.Context, updateID string, q Query) (OperationResult, error)
	// Install installs one update (by UpdateID) through IUpdateInstaller.
	Install(ctx context.Context, updateID string, q Query) (OperationResult, error)
	// History returns IUpdateSearcher.QueryHistory, newest first.
	History(ctx context.Context) ([]HistoryEntry, error)
	// RebootRequired is ISystemInformation.RebootRequired.
	RebootRequired(ctx context.Context) (bool, error)
	// QuickFixes returns the rows of the WMI class
	// Win32_QuickFixEngineering (root\cimv2): the updates Component Based
	// Servicing knows installed, including those installed outside Windows
	// Update (wusa.exe, DISM, offline servicing).
	QuickFixes(ctx context.Context) ([]QuickFix, error)
	// Close releases the session.
	Close() error
}

// Opener opens a Session. The adapter opens one per call.
type Opener func(ctx context.Context) (Session, error)

// ServerSelection is IUpdateSearcher.ServerSelection.
type ServerSelection int

// Server selections (the ServerSelection enumeration of wuapi.h).
const (
	ServerDefault       ServerSelection = 0 // the machine's configuration: WSUS when one is set by policy
	ServerManagedServer ServerSelection = 1 // WSUS
	ServerWindowsUpdate ServerSelection = 2 // Windows Update
	ServerOthers        ServerSelection = 3 // the service named by ServiceID (Microsoft Update, an offline scan package)
)

// MicrosoftUpdateServiceID is the ServiceID of Microsoft Update (Windows
// Update plus Office and other Microsoft products); it must be registered
// on the machine (IUpdateServiceManager.AddService2 or the "Give me updates
// for other Microsoft products" setting).
const MicrosoftUpdateServiceID = "7971f918-a847-4430-9279-4a52d1efe18d"

// Query says what to search and where.
type Query struct {
	// Criteria is the WUA search criteria ("IsInstalled=0 and Type='Software' and IsHidden=0").
	Criteria string
	Server   ServerSelection
	// ServiceID names the service when Server is ServerOthers.
	ServiceID string
	// OfflineCab is the path of a wsusscn2.cab to scan against instead of
	// any server (IUpdateServiceManager.AddScanPackageService); the search
	// then runs offline.
	OfflineCab string
}

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

// OSInfo reads the Windows version from the registry.
type OSInfo interface {
	CurrentVersion(ctx context.Context) (CurrentVersion, error)
}
