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
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
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
// uninstalled later; InstalledKBs) and those Win32_QuickFixEngineering
// lists, which include updates installed by wusa.exe, DISM or offline
// servicing (QuickFixKBs). A history failure fails the inventory; a QFE
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
	inv := patchcore.Inventory{Platform: PlatformOf(cv, a.arch), Packages: productsOf(sw), CollectedAt: start.UTC()}
	if inv.Packages == nil {
		inv.Packages = []patchcore.Package{}
	}
	err = a.withSession(ctx, func(s Session) error {
		hist, err := s.History(ctx)
		if err != nil {
			return fmt.Errorf("wua: reading the update history: %w", err)
		}
		inv.KBs = InstalledKBs(hist)
		inv.PendingReboot, err = s.RebootRequired(ctx)
		if err != nil {
			return err
		}
		// Last on the session: a hung WMI query must not hold up the calls before it.
		inv.KBs = MergeKBs(inv.KBs, a.quickFixKBs(ctx, s))
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

// PlatformOf builds the platform from the registry's CurrentVersion.
// Hotpatch is set for Windows Server Datacenter: Azure Edition.
// Windows 11 still says "Windows 10" in ProductName; builds from 22000 on
// are reported as Windows 11.
func PlatformOf(cv CurrentVersion, arch string) patchcore.Platform {
	p := patchcore.Platform{
		Family: patchcore.FamilyWindows, Distro: "windows", ProductName: cv.ProductName,
		DisplayVersion: cv.DisplayVersion, Edition: cv.EditionID, UBR: cv.UBR, Arch: arch,
	}
	if p.DisplayVersion == "" {
		p.DisplayVersion = cv.ReleaseID
	}
	major, minor := cv.MajorVersion, cv.MinorVersion
	if major == 0 {
		major = 10
	}
	if cv.CurrentBuild != "" {
		p.Build = fmt.Sprintf("%d.%d.%s", major, minor, cv.CurrentBuild)
	}
	if b, err := strconv.Atoi(cv.CurrentBuild); err == nil && b >= 22000 && strings.HasPrefix(p.ProductName, "Windows 10") {
		p.ProductName = "Windows 11" + strings.TrimPrefix(p.ProductName, "Windows 10")
	}
	p.Version = p.DisplayVersion
	p.Hotpatch = azureEdition(cv.EditionID)
	return p
}

// azureEdition reports the EditionIDs of Windows Server Datacenter: Azure
// Edition ("ServerDatacenterAzure", "ServerDatacenterCoreAzure",
// "ServerAzureEdition"), whose images come with hotpatching enabled. A
// device enrolled in hotpatching some other way (Windows 11 Enterprise,
// Windows Server 2025 through Azure Arc) is not recognised here; the caller
// sets Platform.Hotpatch for it.
func azureEdition(edition string) bool {
	e := strings.ToLower(edition)
	return strings.HasPrefix(e, "server") && strings.Contains(e, "azure") && !strings.Contains(e, "azurestack")
}

var kbInTitle = regexp.MustCompile(`(?i)\bKB ?\d+\b`)

// InstalledKBs returns the KBs the history shows installed: the last
// install of each succeeded and no later uninstall succeeded. KBs come from
// the titles ("... (KB5034441)"), sorted.
func InstalledKBs(hist []HistoryEntry) []string {
	h := slices.Clone(hist)
	slices.SortStableFunc(h, func(x, y HistoryEntry) int { return x.Date.Compare(y.Date) })
	state := map[string]bool{}
	for _, e := range h {
		if e.ResultCode != ResultSucceeded && e.ResultCode != ResultSucceededWithErrors {
			continue
		}
		for _, m := range kbInTitle.FindAllString(e.Title, -1) {
			if kb, ok := patchcore.NormalizeKB(m); ok {
				state[kb] = e.Operation == OperationInstallation
			}
		}
	}
	kbs := []string{}
	for kb, installed := range state {
		if installed {
			kbs = append(kbs, kb)
		}
	}
	slices.Sort(kbs)
	return kbs
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
	kbs, ignored := QuickFixKBs(qfes)
	for _, q := range ignored {
		a.log.Debug("wua: inventory: ignoring a Win32_QuickFixEngineering entry without a KB number",
			"hotfix_id", q.HotFixID, "description", q.Description, "installed_on", q.InstalledOn)
	}
	return kbs
}

// QuickFixKBs returns the KBs the Win32_QuickFixEngineering rows name,
// normalised (patchcore.NormalizeKB), de-duplicated and sorted, and the rows whose
// HotFixID is not a KB number ("File 1", empty), in their order.
func QuickFixKBs(qfes []QuickFix) (kbs []string, ignored []QuickFix) {
	kbs = []string{}
	for _, q := range qfes {
		kb, ok := patchcore.NormalizeKB(q.HotFixID)
		if !ok {
			ignored = append(ignored, q)
			continue
		}
		kbs = append(kbs, kb)
	}
	slices.Sort(kbs)
	return slices.Compact(kbs), ignored
}

// MergeKBs returns the union of KB lists, sorted and without duplicates;
// it never returns nil.
func MergeKBs(lists ...[]string) []string {
	out := []string{}
	for _, l := range lists {
		out = append(out, l...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Category GUIDs of Microsoft update classifications.
const (
	CategorySecurityUpdates   = "0FA1201D-4330-4FA8-8AE9-B877473B6441"
	CategoryCriticalUpdates   = "E6CF1350-C01B-414D-A61F-263D14D133B4"
	CategoryDefinitionUpdates = "E0789628-CE08-4437-BE74-2495B842F43B"
	CategoryUpdateRollups     = "28BC880E-0592-4CBF-8F95-C79B17911D5F"
	CategoryServicePacks      = "68C5B0A3-D1A6-4553-AE49-01D3A7827828"
	CategoryFeaturePacks      = "B54E7D24-7ADD-428F-8B75-90A396FA584F"
	CategoryDrivers           = "EBFC1FC5-71A4-4F7B-9ACA-3B9A503104A0"
	CategoryTools             = "B4832BD8-E735-4761-8DAF-37F882276DAB"
	CategoryUpdates           = "CD5FFD1E-E932-4E3A-BF74-18BF0B1BBD83"
	CategoryUpgrades          = "3689BDC8-B205-4AF4-8D4A-A63924C5E9D5"
)

// classificationOrder lists the classification categories, most
// significant first: an update in several takes the first.
func classificationOrder() []struct {
	guid  string
	class patchcore.Classification
} {
	return []struct {
		guid  string
		class patchcore.Classification
	}{
		{CategorySecurityUpdates, patchcore.ClassSecurity},
		{CategoryCriticalUpdates, patchcore.ClassCritical},
		{CategoryDefinitionUpdates, patchcore.ClassDefinition},
		{CategoryUpdateRollups, patchcore.ClassUpdateRollup},
		{CategoryServicePacks, patchcore.ClassServicePack},
		{CategoryFeaturePacks, patchcore.ClassFeaturePack},
		{CategoryDrivers, patchcore.ClassDriver},
		{CategoryTools, patchcore.ClassTool},
		{CategoryUpgrades, patchcore.ClassEnhancement},
		{CategoryUpdates, patchcore.ClassBugfix},
	}
}

// Classify maps an update's categories to a classification by GUID
// (product categories such as "Windows 11" are ignored); driver updates
// without a classification category are drivers, the rest other.
func Classify(u UpdateInfo) patchcore.Classification {
	for _, c := range classificationOrder() {
		for _, id := range u.CategoryIDs {
			if strings.EqualFold(strings.Trim(id, "{}"), c.guid) {
				return c.class
			}
		}
	}
	if u.Type == 2 {
		return patchcore.ClassDriver
	}
	return patchcore.ClassOther
}

// ToUpdate maps a searched update to an adapters.Update; its ID is the UpdateID.
func ToUpdate(u UpdateInfo, origin string) adapters.Update {
	up := adapters.Update{
		ID: u.UpdateID, Title: u.Title, Origin: origin, Classification: Classify(u),
		Severity: patchcore.ParseSeverity(u.MsrcSeverity), CVEs: slices.Clone(u.CVEIDs),
		Size: u.MaxDownloadSize, Issued: u.LastDeploymentChangeTime.UTC(),
	}
	if u.LastDeploymentChangeTime.IsZero() {
		up.Issued = time.Time{}
	}
	if len(u.KBArticleIDs) > 0 {
		up.KB = "KB" + strings.TrimPrefix(strings.ToUpper(u.KBArticleIDs[0]), "KB")
		up.Advisories = []string{up.KB}
	}
	switch u.RebootBehavior {
	case RebootNeverReboots:
		up.Reboot = patchcore.RebootNever
	case RebootAlwaysRequiresReboot:
		up.Reboot = patchcore.RebootRequired
	case RebootCanRequestReboot:
		up.Reboot = patchcore.RebootMay
	}
	return up
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
		return adapters.ListUpdatesResponse{}, fmt.Errorf("wua: searching for updates: %w", mapHResultErr(err))
	}
	origin := a.origin(req.OfflineCatalog)
	ups := make([]adapters.Update, 0, len(found))
	for _, u := range found {
		if u.UpdateID == "" || u.IsInstalled {
			continue
		}
		ups = append(ups, ToUpdate(u, origin))
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
		return UpdateInfo{}, false, fmt.Errorf("wua: looking up %s: %w", id, mapHResultErr(err))
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
			return adapters.ItemResult{}, fmt.Errorf("wua: downloading %s: %w", u.UpdateID, mapHResultErr(err))
		}
		return DownloadResult(r)
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
				return adapters.ItemResult{}, fmt.Errorf("wua: downloading %s: %w", u.UpdateID, mapHResultErr(err))
			}
			if item, err := DownloadResult(r); err != nil || item.Status != adapters.ItemDownloaded {
				return item, err
			}
		}
		r, err := s.Install(ctx, u.UpdateID, a.query("", ""))
		if err != nil {
			return adapters.ItemResult{}, fmt.Errorf("wua: installing %s: %w", u.UpdateID, mapHResultErr(err))
		}
		item, err := InstallResult(r)
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

// Success HRESULTs an install may carry (wuerror.h).
const (
	HResultRebootRequired   = 0x00240005 // WU_S_REBOOT_REQUIRED
	HResultAlreadyInstalled = 0x00240006 // WU_S_ALREADY_INSTALLED
)

// hresultNames names HRESULTs for reasons.
func hresultName(h int32) string {
	switch uint32(h) {
	case 0x80070005:
		return "E_ACCESSDENIED"
	case 0x80240016:
		return "WU_E_INSTALL_NOT_ALLOWED"
	case 0x80240017:
		return "WU_E_NOT_APPLICABLE"
	case 0x00240006:
		return "WU_S_ALREADY_INSTALLED"
	case 0x00240005:
		return "WU_S_REBOOT_REQUIRED"
	case 0x80240022:
		return "WU_E_ALL_UPDATES_FAILED"
	case 0x8024402C:
		return "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED"
	case 0x80070422:
		return "ERROR_SERVICE_DISABLED"
	case 0x80242014:
		return "WU_E_UH_POSTREBOOTSTILLPENDING"
	case 0x80240020:
		return "WU_E_NO_INTERACTIVE_USER"
	case 0x8024001E:
		return "WU_E_SERVICE_STOP"
	case 0x80070643:
		return "ERROR_INSTALL_FAILURE"
	case 0x800F0922:
		return "CBS_E_INSTALLERS_FAILED"
	case 0x80073712:
		return "ERROR_SXS_COMPONENT_STORE_CORRUPT"
	}
	return ""
}

// FormatHResult renders an HRESULT as "0x80240017 (WU_E_NOT_APPLICABLE)".
func FormatHResult(h int32) string {
	if n := hresultName(h); n != "" {
		return fmt.Sprintf("0x%08X (%s)", uint32(h), n)
	}
	return fmt.Sprintf("0x%08X", uint32(h))
}

// HResultError is a failed COM call of the Windows Update Agent.
type HResultError struct {
	Op      string
	HResult int32
}

func (e *HResultError) Error() string { return e.Op + ": " + FormatHResult(e.HResult) }

// mapHResultErr adds the patchcore sentinel an HRESULT error means.
func mapHResultErr(err error) error {
	var he *HResultError
	if !errors.As(err, &he) {
		return err
	}
	switch uint32(he.HResult) {
	case 0x80070005:
		return fmt.Errorf("%w: %w", patchcore.ErrPermission, err)
	case 0x80240016:
		return fmt.Errorf("%w: %w", patchcore.ErrPackageManagerLocked, err)
	case 0x80070422:
		return fmt.Errorf("%w: the Windows Update service (wuauserv) is disabled: %w", patchcore.ErrUnsupported, err)
	}
	return err
}

func resultName(code int) string {
	switch code {
	case ResultNotStarted:
		return "not started"
	case ResultInProgress:
		return "in progress"
	case ResultSucceeded:
		return "succeeded"
	case ResultSucceededWithErrors:
		return "succeeded with errors"
	case ResultFailed:
		return "failed"
	case ResultAborted:
		return "aborted"
	}
	return fmt.Sprintf("result code %d", code)
}

// DownloadResult maps a download's OperationResult to an item result.
func DownloadResult(r OperationResult) (adapters.ItemResult, error) {
	switch r.ResultCode {
	case ResultSucceeded, ResultSucceededWithErrors:
		item := adapters.ItemResult{Status: adapters.ItemDownloaded}
		if r.ResultCode == ResultSucceededWithErrors {
			item.Reason = "download succeeded with errors: " + FormatHResult(r.HResult)
		}
		return item, nil
	}
	return failed("download", r)
}

// InstallResult maps an install's OperationResult to an item result:
// Succeeded is installed (pending a restart when the result or the
// HRESULT says so), SucceededWithErrors too with the HRESULT in the reason,
// Failed and Aborted are failures with the HRESULT, WU_E_NOT_APPLICABLE is
// not applicable and WU_S_ALREADY_INSTALLED installed. Another
// installation in progress is an error wrapping ErrPackageManagerLocked.
func InstallResult(r OperationResult) (adapters.ItemResult, error) {
	switch r.ResultCode {
	case ResultSucceeded, ResultSucceededWithErrors:
		item := adapters.ItemResult{Status: adapters.ItemInstalled}
		if r.RebootRequired || r.HResult == HResultRebootRequired {
			item.Status, item.Reason = adapters.ItemInstalledPendingReboot, "installed; a restart completes it"
		}
		if r.HResult == HResultAlreadyInstalled {
			item.Reason = "already installed"
		}
		if r.ResultCode == ResultSucceededWithErrors {
			item.Reason = strings.TrimPrefix(item.Reason+"; succeeded with errors: "+FormatHResult(r.HResult), "; ")
		}
		return item, nil
	}
	return failed("install", r)
}

func failed(op string, r OperationResult) (adapters.ItemResult, error) {
	switch uint32(r.HResult) {
	case 0x80240016:
		return adapters.ItemResult{}, fmt.Errorf("wua: %s: %w: %s", op, patchcore.ErrPackageManagerLocked, FormatHResult(r.HResult))
	case 0x80070005:
		return adapters.ItemResult{}, fmt.Errorf("wua: %s: %w: %s", op, patchcore.ErrPermission, FormatHResult(r.HResult))
	case 0x80240017:
		return adapters.ItemResult{Status: adapters.ItemNotApplicable, Reason: op + " not applicable: " + FormatHResult(r.HResult)}, nil
	case 0x00240006:
		return adapters.ItemResult{Status: adapters.ItemInstalled, Reason: "already installed: " + FormatHResult(r.HResult)}, nil
	}
	reason := fmt.Sprintf("%s %s", op, resultName(r.ResultCode))
	if r.HResult != 0 {
		reason += ": " + FormatHResult(r.HResult)
	}
	return adapters.ItemResult{Status: adapters.ItemFailed, Reason: reason}, nil
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
