// Package wua is the patchcore adapter for the Windows Update Agent:
// Microsoft updates from Windows Update, Microsoft Update or WSUS, or from
// an offline wsusscn2.cab. ListUpdates searches with IUpdateSearcher
// ("IsInstalled=0 and Type='Software' and IsHidden=0" by default) and maps
// each update's categories to a patchcore classification by their GUIDs,
// its MsrcSeverity, KB article IDs, CVEs, reboot behaviour and size;
// Download and Install take one UpdateID at a time through
// IUpdateDownloader and IUpdateInstaller and map the OperationResultCode
// and HRESULT of each to a per-item result; RebootRequired combines
// ISystemInformation.RebootRequired with the registry keys Windows sets;
// Inventory reads the OS version (product, display version, edition, build
// and UBR) and the installed Microsoft products (Uninstall keys,
// Click-to-Run configuration) from the registry and the installed KBs from
// the WUA history and the WMI class Win32_QuickFixEngineering (QFE).
//
// The COM calls sit behind the Session interface and the registry behind
// OSInfo and winreboot.Registry, so everything here builds and is tested
// on any OS; outside Windows the default Opener fails with
// patchcore.ErrUnsupported.
package wua

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/wua/internal/parse"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/patchcore"
)

// Version is the adapter's own version.
const Version = "0.1.0"

// DefaultCriteria is the search ListUpdates runs: software updates not yet
// installed and not hidden.
const DefaultCriteria = "IsInstalled=0 and Type='Software' and IsHidden=0"

// Source says where Windows Update looks for updates.
type Source string

// Sources.
const (
	// SourceDefault follows the machine's configuration (WSUS when a policy sets one).
	SourceDefault Source = ""
	// SourceWSUS asks the WSUS server the policy names.
	SourceWSUS Source = "wsus"
	// SourceWindowsUpdate asks Windows Update.
	SourceWindowsUpdate Source = "windows_update"
	// SourceMicrosoftUpdate asks Microsoft Update (Windows and other Microsoft products).
	SourceMicrosoftUpdate Source = "microsoft_update"
)

// Options configure an Adapter.
type Options struct {
	// Open opens a Windows Update Agent session; nil means the COM session
	// on Windows (SystemOpener) and ErrUnsupported elsewhere.
	Open Opener
	// OSInfo reads the Windows version; nil means the registry.
	OSInfo OSInfo
	// Software reads the installed Microsoft products (Uninstall keys,
	// Click-to-Run configuration); nil means the registry (SystemSoftware).
	Software SoftwareReader
	// Registry is read for a pending restart; nil means winreboot.System().
	Registry winreboot.Registry
	// Logger receives debug output. Nil discards it.
	Logger hclog.Logger
	// Source selects the update service.
	Source Source
	// Criteria replaces DefaultCriteria for ListUpdates.
	Criteria string
	// Arch is the machine architecture to report; empty means runtime.GOARCH.
	Arch string
	// QuickFixTimeout bounds the Win32_QuickFixEngineering query of
	// Inventory (WMI hangs on damaged machines); zero means
	// DefaultQuickFixTimeout.
	QuickFixTimeout time.Duration
}

// DefaultQuickFixTimeout is how long Inventory waits for WMI's
// Win32_QuickFixEngineering by default.
const DefaultQuickFixTimeout = time.Minute

// Adapter is the Windows Update Agent adapter. Create it with New.
type Adapter struct {
	open     Opener
	osInfo   OSInfo
	software SoftwareReader
	reg      winreboot.Registry
	log      hclog.Logger
	source   Source
	criteria string
	arch     string
	qfeWait  time.Duration
}

var _ adapters.Adapter = (*Adapter)(nil)

// New returns a Windows Update adapter configured by opts.
func New(opts Options) *Adapter {
	a := &Adapter{open: opts.Open, osInfo: opts.OSInfo, software: opts.Software, reg: opts.Registry, log: opts.Logger,
		source: opts.Source, criteria: opts.Criteria, arch: opts.Arch, qfeWait: opts.QuickFixTimeout}
	if a.open == nil {
		a.open = SystemOpener()
	}
	if a.osInfo == nil {
		a.osInfo = SystemOSInfo()
	}
	if a.software == nil {
		a.software = SystemSoftware()
	}
	if a.reg == nil {
		a.reg = winreboot.System()
	}
	if a.log == nil {
		a.log = hclog.NewNullLogger()
	}
	if a.criteria == "" {
		a.criteria = DefaultCriteria
	}
	if a.arch == "" {
		a.arch = runtime.GOARCH
	}
	if a.qfeWait <= 0 {
		a.qfeWait = DefaultQuickFixTimeout
	}
	return a
}

// Factory is the adapters.Factory for "wua". It uses no command runner.
func Factory(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
	return New(Options{Logger: env.Logger}), nil
}

// Info describes the adapter. It opens no session.
func (a *Adapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.InfoResponse{}, err
	}
	return adapters.InfoResponse{
		Name:            "wua",
		Version:         Version,
		ProtocolVersion: adapters.ProtocolVersion,
		Platforms:       []string{"windows"},
		VersionScheme:   "dotted",
		Capabilities:    []adapters.Capability{adapters.CapAdvisories, adapters.CapOfflineScan},
	}, nil
}

func checkTarget(what string, t adapters.Target) error {
	if t.Root != "" {
		return fmt.Errorf("wua: %s: alternate root %q: %w", what, t.Root, patchcore.ErrUnsupported)
	}
	return nil
}

// query builds the search for the configured source.
func (a *Adapter) query(criteria, offlineCab string) Query {
	q := Query{Criteria: criteria, OfflineCab: offlineCab}
	switch a.source {
	case SourceWSUS:
		q.Server = ServerManagedServer
	case SourceWindowsUpdate:
		q.Server = ServerWindowsUpdate
	case SourceMicrosoftUpdate:
		q.Server, q.ServiceID = ServerOthers, MicrosoftUpdateServiceID
	}
	return q
}

func (a *Adapter) origin(offlineCab string) string {
	switch {
	case offlineCab != "":
		return "offline:" + offlineCab
	case a.source == SourceWSUS:
		return "wsus"
	case a.source == SourceWindowsUpdate:
		return "windows_update"
	case a.source == SourceMicrosoftUpdate:
		return "microsoft_update"
	}
	return "default"
}

// withSession opens a session, runs fn and closes it.
func (a *Adapter) withSession(ctx context.Context, fn func(Session) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := a.open(ctx)
	if err != nil {
		return fmt.Errorf("wua: opening a Windows Update session: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			a.log.Warn("closing the Windows Update session", "error", cerr)
		}
	}()
	return fn(s)
}

// Inventory reports the Windows version, the installed Microsoft products
// beyond the OS (Packages of ecosystem microsoft: Office Click-to-Run from
// its configuration key, Edge, Visual Studio and the other Microsoft
// entries of the Uninstall keys), the installed KBs and the
// pending-restart state. The KBs are the union of those installed through
// Windows Update (successful installs in the WUA history, less those
// uninstalled later; parse.InstalledKBs) and those Win32_QuickFixEngineering
// lists, which include updates installed by wusa.exe, DISM or offline
// servicing (parse.QuickFixKBs). A history failure fails the inventory; a QFE
// failure or timeout only logs a warning and leaves the history's KBs,
// because WMI is often broken on real machines.
func (a *Adapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := checkTarget("inventory", req.Target); err != nil {
		return adapters.InventoryResponse{}, err
	}
	start := time.Now()
	cv, err := a.osInfo.CurrentVersion(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, fmt.Errorf("wua: reading the Windows version: %w", err)
	}
	sw, err := a.software.Software(ctx)
	if err != nil {
		return adapters.InventoryResponse{}, fmt.Errorf("wua: reading the installed Microsoft products: %w", err)
	}
	for _, k := range sw.Unreadable {
		a.log.Warn("an Uninstall registry entry could not be read; its product is not in the inventory", "entry", k)
	}
	inv := patchcore.Inventory{Platform: parse.PlatformOf(cv, a.arch), Packages: parse.ProductsOf(sw), CollectedAt: start.UTC()}
	if inv.Packages == nil {
		inv.Packages = []patchcore.Package{}
	}
	err = a.withSession(ctx, func(s Session) error {
		hist, err := s.History(ctx)
		if err != nil {
			return fmt.Errorf("wua: reading the update history: %w", err)
		}
		inv.KBs = parse.InstalledKBs(hist)
		inv.PendingReboot, err = s.RebootRequired(ctx)
		if err != nil {
			return err
		}
		// Last on the session: a hung WMI query must not hold up the calls before it.
		inv.KBs = parse.MergeKBs(inv.KBs, a.quickFixKBs(ctx, s), parse.UpdateKBs(sw))
		return nil
	})
	if err != nil {
		return adapters.InventoryResponse{}, err
	}
	if !inv.PendingReboot {
		pending, _, err := winreboot.Check(ctx, a.reg)
		if err != nil {
			return adapters.InventoryResponse{}, fmt.Errorf("wua: %w", err)
		}
		inv.PendingReboot = pending
	}
	inv.Duration = time.Since(start)
	return adapters.InventoryResponse{Inventory: inv}, nil
}

// quickFixKBs queries Win32_QuickFixEngineering within the adapter's QFE
// timeout. Failures are logged, never returned.
func (a *Adapter) quickFixKBs(ctx context.Context, s Session) []string {
	qctx, cancel := context.WithTimeout(ctx, a.qfeWait)
	defer cancel()
	qfes, err := s.QuickFixes(qctx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", a.qfeWait, err)
		}
		a.log.Warn("wua: inventory: querying WMI Win32_QuickFixEngineering failed; the KBs come from the Windows Update history only, so updates installed outside Windows Update (wusa.exe, DISM) may be missing",
			"error", err)
		return nil
	}
	kbs, ignored := parse.QuickFixKBs(qfes)
	for _, q := range ignored {
		a.log.Debug("wua: inventory: ignoring a Win32_QuickFixEngineering entry without a KB number",
			"hotfix_id", q.HotFixID, "description", q.Description, "installed_on", q.InstalledOn)
	}
	return kbs
}

// ListUpdates searches for updates (req.OfflineCatalog scans a
// wsusscn2.cab instead of asking a server). The search always asks the
// service, so Refresh changes nothing.
func (a *Adapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if err := checkTarget("listing updates", req.Target); err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	var found []UpdateInfo
	err := a.withSession(ctx, func(s Session) error {
		var err error
		found, err = s.Search(ctx, a.query(a.criteria, req.OfflineCatalog))
		return err
	})
	if err != nil {
		return adapters.ListUpdatesResponse{}, fmt.Errorf("wua: searching for updates: %w", parse.MapHResultErr(err))
	}
	origin := a.origin(req.OfflineCatalog)
	ups := make([]adapters.Update, 0, len(found))
	for _, u := range found {
		if u.UpdateID == "" || u.IsInstalled {
			continue
		}
		ups = append(ups, parse.ToUpdate(u, origin))
	}
	slices.SortFunc(ups, func(x, y adapters.Update) int { return strings.Compare(x.ID, y.ID) })
	ups = slices.CompactFunc(ups, func(x, y adapters.Update) bool { return x.ID == y.ID })
	return adapters.ListUpdatesResponse{Updates: ups}, nil
}

var guidPattern = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// find looks an UpdateID up (installed or not).
func (a *Adapter) find(ctx context.Context, s Session, id string) (UpdateInfo, bool, error) {
	found, err := s.Search(ctx, a.query("UpdateID='"+id+"'", ""))
	if err != nil {
		return UpdateInfo{}, false, fmt.Errorf("wua: looking up %s: %w", id, parse.MapHResultErr(err))
	}
	for _, u := range found {
		if strings.EqualFold(u.UpdateID, id) {
			return u, true, nil
		}
	}
	return UpdateInfo{}, false, nil
}

// each runs step for every ID with one session, handling unknown and
// malformed IDs; step is called for updates that exist.
func (a *Adapter) each(ctx context.Context, ids []string, step func(s Session, u UpdateInfo) (adapters.ItemResult, error)) ([]adapters.ItemResult, error) {
	var items []adapters.ItemResult
	err := a.withSession(ctx, func(s Session) error {
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !guidPattern.MatchString(id) {
				items = append(items, adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "not a Windows Update UpdateID (a GUID)"})
				continue
			}
			u, ok, err := a.find(ctx, s, id)
			if err != nil {
				return err
			}
			if !ok {
				items = append(items, adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "Windows Update does not offer this update to this machine"})
				continue
			}
			item, err := step(s, u)
			if err != nil {
				return err
			}
			item.ID = id
			items = append(items, item)
		}
		return nil
	})
	return items, err
}

// Download stages each update through IUpdateDownloader.
func (a *Adapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	if err := checkTarget("download", req.Target); err != nil {
		return adapters.DownloadResponse{}, err
	}
	items, err := a.each(ctx, req.IDs, func(s Session, u UpdateInfo) (adapters.ItemResult, error) {
		switch {
		case u.IsInstalled:
			return adapters.ItemResult{Status: adapters.ItemInstalled, Reason: "already installed"}, nil
		case u.IsDownloaded:
			return adapters.ItemResult{Status: adapters.ItemDownloaded, Reason: "already downloaded"}, nil
		}
		r, err := s.Download(ctx, u.UpdateID, a.query("", ""))
		if err != nil {
			return adapters.ItemResult{}, fmt.Errorf("wua: downloading %s: %w", u.UpdateID, parse.MapHResultErr(err))
		}
		return parse.DownloadResult(r)
	})
	if err != nil {
		return adapters.DownloadResponse{}, err
	}
	return adapters.DownloadResponse{Items: items}, nil
}

// Install installs each update, one UpdateID at a time: downloaded first
// when it is not, then installed through IUpdateInstaller.
func (a *Adapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := checkTarget("install", req.Target); err != nil {
		return adapters.InstallResponse{}, err
	}
	var resp adapters.InstallResponse
	items, err := a.each(ctx, req.IDs, func(s Session, u UpdateInfo) (adapters.ItemResult, error) {
		if u.IsInstalled {
			return adapters.ItemResult{Status: adapters.ItemInstalled, Reason: "already installed"}, nil
		}
		if u.IsHidden && !req.Force {
			return adapters.ItemResult{Status: adapters.ItemHeld, Reason: "hidden in Windows Update; install with Force"}, nil
		}
		if !u.IsDownloaded {
			r, err := s.Download(ctx, u.UpdateID, a.query("", ""))
			if err != nil {
				return adapters.ItemResult{}, fmt.Errorf("wua: downloading %s: %w", u.UpdateID, parse.MapHResultErr(err))
			}
			if item, err := parse.DownloadResult(r); err != nil || item.Status != adapters.ItemDownloaded {
				return item, err
			}
		}
		r, err := s.Install(ctx, u.UpdateID, a.query("", ""))
		if err != nil {
			return adapters.ItemResult{}, fmt.Errorf("wua: installing %s: %w", u.UpdateID, parse.MapHResultErr(err))
		}
		item, err := parse.InstallResult(r)
		if item.Status == adapters.ItemInstalledPendingReboot {
			resp.RebootRequired = true
		}
		return item, err
	})
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	resp.Items = items
	return resp, nil
}

// RebootRequired combines ISystemInformation.RebootRequired with the
// registry keys Windows sets (winreboot).
func (a *Adapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	if err := checkTarget("reboot check", req.Target); err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	var resp adapters.RebootRequiredResponse
	err := a.withSession(ctx, func(s Session) error {
		r, err := s.RebootRequired(ctx)
		if err != nil {
			return fmt.Errorf("wua: reading ISystemInformation.RebootRequired: %w", err)
		}
		if r {
			resp.Required = true
			resp.Reasons = append(resp.Reasons, "Windows Update Agent: ISystemInformation.RebootRequired")
		}
		return nil
	})
	if err != nil {
		return adapters.RebootRequiredResponse{}, err
	}
	required, reasons, err := winreboot.Check(ctx, a.reg)
	if err != nil {
		return adapters.RebootRequiredResponse{}, fmt.Errorf("wua: %w", err)
	}
	resp.Required = resp.Required || required
	resp.Reasons = append(resp.Reasons, reasons...)
	return resp, nil
}
