package wua_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/wua/internal/parse"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/adapters/wua/wuatest"
	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	cumulative = "1a9d3c4e-5b6f-4a7b-8c9d-0e1f2a3b4c5d"
	defender   = "2b8e4d5f-6c7a-4b8c-9d0e-1f2a3b4c5d6e"
	dotnet     = "3c7f5e6a-7d8b-4c9d-0e1f-2a3b4c5d6e7f"
	msrt       = "4d6a7f8b-8e9c-4d0e-1f2a-3b4c5d6e7f80"
	installed  = "6f4c9bad-0a1e-4f2a-3b4c-5d6e7f8091a2"
	hidden     = "7a3dacbe-1b2f-4a3b-4c5d-6e7f8091a2b3"
	ssu        = "8b2ebdcf-2c3a-4b4c-5d6e-7f8091a2b3c4"
)

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

func newAdapter(t *testing.T, reg winreboot.Fake, opts ...func(*wua.Options)) (*wua.Adapter, *wuatest.Fake) {
	t.Helper()
	rec, err := wuatest.Load(filepath.Join("testdata", "win11-23h2.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := wuatest.New(rec)
	o := wua.Options{Open: f.Opener(), OSInfo: f, Software: f, Registry: reg, Arch: "amd64"}
	for _, fn := range opts {
		fn(&o)
	}
	return wua.New(o), f
}

func TestInventory(t *testing.T) {
	a, _ := newAdapter(t, winreboot.Fake{})
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	inv := resp.Inventory
	inv.CollectedAt, inv.Duration = time.Time{}, 0
	golden(t, "inventory.golden.json", inv)
	p := inv.Platform
	if p.ProductName != "Windows 11 Pro" || p.Build != "10.0.22631" || p.UBR != 3007 || p.FullBuild() != "10.0.22631.3007" || p.Edition != "Professional" || p.DisplayVersion != "23H2" {
		t.Errorf("platform = %+v", p)
	}
	// History: KB5033375 was uninstalled later, KB5032007 failed. QFE adds
	// KB5027397 and KB5034441 (installed outside Windows Update), repeats
	// KB5034123 and has a "File 1" row.
	if want := []string{"KB2267602", "KB5027397", "KB5034123", "KB5034441"}; !slices.Equal(inv.KBs, want) {
		t.Errorf("KBs = %q, want %q", inv.KBs, want)
	}
	if inv.PendingReboot {
		t.Error("no restart is pending")
	}
}

func TestInventoryPendingFromRegistry(t *testing.T) {
	a, _ := newAdapter(t, winreboot.Fake{Keys: []string{winreboot.ServicingKey}})
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil || !resp.Inventory.PendingReboot {
		t.Errorf("PendingReboot = %v, err %v; want the registry's pending restart", resp.Inventory.PendingReboot, err)
	}
}

func TestListUpdates(t *testing.T) {
	for _, tt := range []struct {
		name, golden string
		source       wua.Source
		req          adapters.ListUpdatesRequest
		origin       string
	}{
		{"default", "updates.golden.json", wua.SourceDefault, adapters.ListUpdatesRequest{}, "default"},
		{"wsus", "", wua.SourceWSUS, adapters.ListUpdatesRequest{}, "wsus"},
		{"offline cab", "", wua.SourceDefault, adapters.ListUpdatesRequest{OfflineCatalog: `C:\wsusscn2.cab`}, `offline:C:\wsusscn2.cab`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, f := newAdapter(t, winreboot.Fake{}, func(o *wua.Options) { o.Source = tt.source })
			resp, err := a.ListUpdates(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if tt.golden != "" {
				golden(t, tt.golden, resp)
			}
			if c := f.Calls(); len(c) != 1 || c[0] != "search "+wua.DefaultCriteria {
				t.Errorf("calls = %q", c)
			}
			got := map[string]adapters.Update{}
			for _, u := range resp.Updates {
				got[u.ID] = u
				if u.Origin != tt.origin {
					t.Errorf("%s: origin %q, want %q", u.ID, u.Origin, tt.origin)
				}
			}
			// The driver (Type=2), the installed and the hidden update are not listed.
			if len(got) != 5 {
				t.Errorf("%d updates, want 5", len(got))
			}
			cu := got[cumulative]
			if cu.Classification != patchcore.ClassSecurity || cu.Severity.Level != patchcore.SeverityCritical || cu.KB != "KB5034765" ||
				cu.Reboot != patchcore.RebootRequired || cu.Size != 904806400 || !slices.Equal(cu.CVEs, []string{"CVE-2024-21412", "CVE-2024-21351"}) {
				t.Errorf("cumulative update = %+v", cu)
			}
			for id, want := range map[string]patchcore.Classification{defender: patchcore.ClassDefinition, dotnet: patchcore.ClassSecurity, msrt: patchcore.ClassBugfix, ssu: patchcore.ClassCritical} {
				if got[id].Classification != want {
					t.Errorf("%s: classification %q, want %q", got[id].Title, got[id].Classification, want)
				}
			}
			if got[dotnet].Severity.Level != patchcore.SeverityHigh || got[dotnet].Reboot != patchcore.RebootMay || got[defender].Reboot != patchcore.RebootNever {
				t.Errorf(".NET %+v / Defender %+v", got[dotnet], got[defender])
			}
		})
	}
}

func TestClassifyByGUID(t *testing.T) {
	tests := []struct {
		u    wua.UpdateInfo
		want patchcore.Classification
	}{
		{wua.UpdateInfo{CategoryIDs: []string{"{0fa1201d-4330-4fa8-8ae9-b877473b6441}"}}, patchcore.ClassSecurity},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryUpdates, parse.CategoryCriticalUpdates}}, patchcore.ClassCritical},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryUpdateRollups}}, patchcore.ClassUpdateRollup},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryServicePacks}}, patchcore.ClassServicePack},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryFeaturePacks}}, patchcore.ClassFeaturePack},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryTools}}, patchcore.ClassTool},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryDrivers}}, patchcore.ClassDriver},
		{wua.UpdateInfo{CategoryIDs: []string{parse.CategoryUpgrades}}, patchcore.ClassEnhancement},
		{wua.UpdateInfo{Type: 2}, patchcore.ClassDriver},
		{wua.UpdateInfo{CategoryIDs: []string{"72E7624A-5B00-45D2-B92F-E561C0A6A160"}}, patchcore.ClassOther},
	}
	for _, tt := range tests {
		if got := parse.Classify(tt.u); got != tt.want {
			t.Errorf("Classify(%q) = %q, want %q", tt.u.CategoryIDs, got, tt.want)
		}
	}
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name   string
		req    adapters.InstallRequest
		want   []adapters.ItemResult
		calls  []string
		reboot bool
	}{
		{"succeeded, restart required", adapters.InstallRequest{IDs: []string{cumulative}},
			[]adapters.ItemResult{{ID: cumulative, Status: adapters.ItemInstalledPendingReboot, Reason: "installed; a restart completes it"}},
			[]string{"search UpdateID='" + cumulative + "'", "download " + cumulative, "install " + cumulative}, true},
		{"failed with HRESULT", adapters.InstallRequest{IDs: []string{dotnet}},
			[]adapters.ItemResult{{ID: dotnet, Status: adapters.ItemFailed, Reason: "install failed: 0x80070643 (ERROR_INSTALL_FAILURE)"}},
			[]string{"search UpdateID='" + dotnet + "'", "download " + dotnet, "install " + dotnet}, false},
		{"succeeded with errors", adapters.InstallRequest{IDs: []string{ssu}},
			[]adapters.ItemResult{{ID: ssu, Status: adapters.ItemInstalled, Reason: "succeeded with errors: 0x80242014 (WU_E_UH_POSTREBOOTSTILLPENDING)"}},
			[]string{"search UpdateID='" + ssu + "'", "download " + ssu, "install " + ssu}, false},
		{"already downloaded is installed without downloading", adapters.InstallRequest{IDs: []string{defender}},
			[]adapters.ItemResult{{ID: defender, Status: adapters.ItemInstalled}},
			[]string{"search UpdateID='" + defender + "'", "install " + defender}, false},
		{"download failure stops the install", adapters.InstallRequest{IDs: []string{msrt}},
			[]adapters.ItemResult{{ID: msrt, Status: adapters.ItemFailed, Reason: "download failed: 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED)"}},
			[]string{"search UpdateID='" + msrt + "'", "download " + msrt}, false},
		{"already installed", adapters.InstallRequest{IDs: []string{installed}},
			[]adapters.ItemResult{{ID: installed, Status: adapters.ItemInstalled, Reason: "already installed"}},
			[]string{"search UpdateID='" + installed + "'"}, false},
		{"hidden is held", adapters.InstallRequest{IDs: []string{hidden}},
			[]adapters.ItemResult{{ID: hidden, Status: adapters.ItemHeld, Reason: "hidden in Windows Update; install with Force"}},
			[]string{"search UpdateID='" + hidden + "'"}, false},
		{"unknown", adapters.InstallRequest{IDs: []string{"00000000-0000-0000-0000-000000000000"}},
			[]adapters.ItemResult{{ID: "00000000-0000-0000-0000-000000000000", Status: adapters.ItemNotApplicable, Reason: "Windows Update does not offer this update to this machine"}},
			[]string{"search UpdateID='00000000-0000-0000-0000-000000000000'"}, false},
		{"not a GUID (no criteria injection)", adapters.InstallRequest{IDs: []string{"x' or IsInstalled=0 or UpdateID='y"}},
			[]adapters.ItemResult{{ID: "x' or IsInstalled=0 or UpdateID='y", Status: adapters.ItemFailed, Reason: "not a Windows Update UpdateID (a GUID)"}},
			nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := newAdapter(t, winreboot.Fake{})
			resp, err := a.Install(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Items, tt.want) {
				t.Errorf("items:\n got %+v\nwant %+v", resp.Items, tt.want)
			}
			if !slices.Equal(f.Calls(), tt.calls) {
				t.Errorf("calls = %q, want %q", f.Calls(), tt.calls)
			}
			if resp.RebootRequired != tt.reboot {
				t.Errorf("RebootRequired = %v", resp.RebootRequired)
			}
		})
	}
}

func TestInstallResult(t *testing.T) {
	tests := []struct {
		r      wua.OperationResult
		status adapters.ItemStatus
		err    error
	}{
		{wua.OperationResult{ResultCode: parse.ResultSucceeded}, adapters.ItemInstalled, nil},
		{wua.OperationResult{ResultCode: parse.ResultSucceeded, HResult: parse.HResultRebootRequired}, adapters.ItemInstalledPendingReboot, nil},
		{wua.OperationResult{ResultCode: parse.ResultSucceededWithErrors, RebootRequired: true}, adapters.ItemInstalledPendingReboot, nil},
		{wua.OperationResult{ResultCode: parse.ResultAborted}, adapters.ItemFailed, nil},
		{wua.OperationResult{ResultCode: parse.ResultNotStarted}, adapters.ItemFailed, nil},
		{wua.OperationResult{ResultCode: parse.ResultFailed, HResult: int32(-2145124329)}, adapters.ItemNotApplicable, nil}, // 0x80240017
		{wua.OperationResult{ResultCode: parse.ResultFailed, HResult: parse.HResultAlreadyInstalled}, adapters.ItemInstalled, nil},
		{wua.OperationResult{ResultCode: parse.ResultFailed, HResult: int32(-2145124330)}, "", patchcore.ErrPackageManagerLocked}, // 0x80240016
		{wua.OperationResult{ResultCode: parse.ResultFailed, HResult: int32(-2147024891)}, "", patchcore.ErrPermission},           // 0x80070005
	}
	for _, tt := range tests {
		item, err := parse.InstallResult(tt.r)
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("%+v: err = %v, want %v", tt.r, err, tt.err)
			continue
		}
		if item.Status != tt.status {
			t.Errorf("%+v: status %q, want %q (%s)", tt.r, item.Status, tt.status, item.Reason)
		}
	}
}

func TestDownload(t *testing.T) {
	a, _ := newAdapter(t, winreboot.Fake{})
	resp, err := a.Download(context.Background(), adapters.DownloadRequest{IDs: []string{cumulative, defender, msrt, installed}})
	if err != nil {
		t.Fatal(err)
	}
	want := []adapters.ItemResult{
		{ID: cumulative, Status: adapters.ItemDownloaded},
		{ID: defender, Status: adapters.ItemDownloaded, Reason: "already downloaded"},
		{ID: msrt, Status: adapters.ItemFailed, Reason: "download failed: 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED)"},
		{ID: installed, Status: adapters.ItemInstalled, Reason: "already installed"},
	}
	if !slices.Equal(resp.Items, want) {
		t.Errorf("items:\n got %+v\nwant %+v", resp.Items, want)
	}
}

func TestRebootRequired(t *testing.T) {
	a, _ := newAdapter(t, winreboot.Fake{Keys: []string{winreboot.WindowsUpdateKey}})
	resp, err := a.RebootRequired(context.Background(), adapters.RebootRequiredRequest{})
	if err != nil || !resp.Required || !slices.Equal(resp.Reasons, []string{winreboot.ReasonWindowsUpdate}) {
		t.Errorf("resp = %+v, err = %v", resp, err)
	}
}

func TestDefaultsOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the defaults are the real Windows Update Agent here")
	}
	a := wua.New(wua.Options{})
	ctx := context.Background()
	if _, err := a.Info(ctx, adapters.InfoRequest{}); err != nil {
		t.Errorf("Info: %v", err)
	}
	if _, err := a.Inventory(ctx, adapters.InventoryRequest{}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("Inventory: %v, want ErrUnsupported", err)
	}
	if _, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("ListUpdates: %v, want ErrUnsupported", err)
	}
	if _, err := a.RebootRequired(ctx, adapters.RebootRequiredRequest{}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("RebootRequired: %v, want ErrUnsupported", err)
	}
}

func TestPlatformOfHotpatch(t *testing.T) {
	for _, tc := range []struct {
		edition string
		want    bool
	}{
		{"ServerDatacenterAzure", true},
		{"ServerDatacenterCoreAzure", true},
		{"ServerDatacenter", false},
		{"ServerStandard", false},
		{"ServerAzureStackHCICor", false},
		{"Enterprise", false},
	} {
		cv := wua.CurrentVersion{ProductName: "Windows Server 2022 Datacenter", EditionID: tc.edition, CurrentBuild: "20348", UBR: 2333}
		if got := parse.PlatformOf(cv, "amd64").Hotpatch; got != tc.want {
			t.Errorf("EditionID %s: Hotpatch %v, want %v", tc.edition, got, tc.want)
		}
	}
}
