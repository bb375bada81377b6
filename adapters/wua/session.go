package wua

import (
	"context"

	"github.com/patchcore/sdk/adapters/wua/internal/parse"
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

// The values a Session, an OSInfo and a SoftwareReader return.
type (
	// UpdateInfo is one IUpdate as the searcher returned it.
	UpdateInfo = parse.UpdateInfo
	// OperationResult is the per-update result of a download or install.
	OperationResult = parse.OperationResult
	// HistoryEntry is one IUpdateHistoryEntry.
	HistoryEntry = parse.HistoryEntry
	// QuickFix is one Win32_QuickFixEngineering row, as WMI returned it.
	QuickFix = parse.QuickFix
	// CurrentVersion is what HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion says.
	CurrentVersion = parse.CurrentVersion
	// Software is what the registry says about installed Microsoft software.
	Software = parse.Software
	// UninstallEntry is one Uninstall subkey.
	UninstallEntry = parse.UninstallEntry
	// ClickToRun holds the values of the Click-to-Run configuration key.
	ClickToRun = parse.ClickToRun
)

// OSInfo reads the Windows version from the registry.
type OSInfo interface {
	CurrentVersion(ctx context.Context) (CurrentVersion, error)
}
