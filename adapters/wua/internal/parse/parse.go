package parse

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/patchcore"
)

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

// MapHResultErr adds the patchcore sentinel an HRESULT error means.
func MapHResultErr(err error) error {
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
