package softwareupdate

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/internal/goldenfile"
	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, name, v, *update)
}

func load(t *testing.T, file string) (adapters.Adapter, *commandtest.Runner) {
	r := commandtest.Load(t, filepath.Join("testdata", file))
	return New(Options{Runner: r}), r
}

func TestParseList(t *testing.T) {
	for _, tt := range []struct {
		file   string
		labels []string
	}{
		{"sonoma.txt", []string{"Command Line Tools for Xcode-15.3", "macOS Sonoma 14.4.1-23E224", "Safari17.4.1SonomaAuto-17.4.1", "macOS Sequoia 15.0-24A335"}},
		{"mojave.txt", []string{"Command Line Tools (macOS Mojave version 10.14) for Xcode-10.3", "macOS 10.14.1 Update", "BridgeOSUpdateCustomer"}},
		{"none.txt", nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := commandtest.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			for _, r := range recs {
				if r.Line == "/usr/sbin/softwareupdate --list" {
					out = append(append(out, r.Stderr...), r.Stdout...)
				}
			}
			items, err := parseList(out)
			if err != nil {
				t.Fatal(err)
			}
			var labels []string
			for _, it := range items {
				labels = append(labels, it.Label)
			}
			if !slices.Equal(labels, tt.labels) {
				t.Errorf("labels = %q, want %q", labels, tt.labels)
			}
			golden(t, "list-"+tt.file[:len(tt.file)-4]+".golden.json", items)
		})
	}
}

func TestParseListDetails(t *testing.T) {
	items, err := parseList([]byte("* Label: macOS Sonoma 14.4.1-23E224\n\tTitle: macOS Sonoma 14.4.1, Version: 14.4.1, Size: 1053245KiB, Recommended: YES, Action: restart, \n"))
	if err != nil {
		t.Fatal(err)
	}
	want := swItem{Label: "macOS Sonoma 14.4.1-23E224", Title: "macOS Sonoma 14.4.1", Version: "14.4.1", Size: 1053245 * 1024, Recommended: true, Action: "restart"}
	if len(items) != 1 || items[0] != want {
		t.Errorf("items = %+v, want %+v", items, want)
	}
	for _, bad := range []string{"* Label: x\n", "* Label: x\n\tTitle: a, Size: lots, \n", "* Label: \n"} {
		if _, err := parseList([]byte(bad)); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("ParseList(%q): err = %v, want ErrInvalidInput", bad, err)
		}
	}
}

func TestInventory(t *testing.T) {
	a, _ := load(t, "sonoma.txt")
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	inv := resp.Inventory
	inv.CollectedAt, inv.Duration = time.Time{}, 0
	golden(t, "inventory.golden.json", inv)
	p := inv.Platform
	if p.Version != "14.4" || p.Build != "23E214" || p.Arch != "x86_64" || p.ProductName != "macOS" || p.Distro != "macos" {
		t.Errorf("platform = %+v", p)
	}
	for _, pkg := range inv.Packages {
		if pkg.Name == "XProtectPlistConfigData" && pkg.Version != "5271" {
			t.Errorf("XProtect version %q, want the newest 5271", pkg.Version)
		}
	}
}

func TestListUpdates(t *testing.T) {
	a, _ := load(t, "sonoma.txt")
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "updates.golden.json", resp)
	byID := map[string]adapters.Update{}
	for _, u := range resp.Updates {
		byID[u.ID] = u
	}
	os := byID["macOS Sonoma 14.4.1-23E224"]
	if os.Reboot != patchcore.RebootRequired || os.Classification != patchcore.ClassUpdateRollup || os.Size != 1053245*1024 {
		t.Errorf("OS update = %+v", os)
	}
	if s := byID["Safari17.4.1SonomaAuto-17.4.1"]; s.Reboot != patchcore.RebootNever || s.Classification != patchcore.ClassOther {
		t.Errorf("Safari = %+v", s)
	}
	if c := byID["Command Line Tools for Xcode-15.3"]; c.Classification != patchcore.ClassTool {
		t.Errorf("CLT = %+v", c)
	}
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name   string
		ids    []string
		want   []adapters.ItemResult
		reboot bool
	}{
		{"no restart", []string{"Safari17.4.1SonomaAuto-17.4.1"},
			[]adapters.ItemResult{{ID: "Safari17.4.1SonomaAuto-17.4.1", Status: adapters.ItemInstalled, ToVersion: "17.4.1"}}, false},
		{"restart", []string{"macOS Sonoma 14.4.1-23E224"},
			[]adapters.ItemResult{{ID: "macOS Sonoma 14.4.1-23E224", Status: adapters.ItemInstalledPendingReboot, ToVersion: "14.4.1", Reason: "installed; a restart completes it"}}, true},
		{"failure", []string{"Command Line Tools for Xcode-15.3"},
			[]adapters.ItemResult{{ID: "Command Line Tools for Xcode-15.3", Status: adapters.ItemFailed, Reason: `softwareupdate --install exit 1: Failed to download & prepare update: Error Domain=NSURLErrorDomain Code=-1001 "The request timed out."`}}, false},
		{"already installed per history", []string{"macOS Sonoma 14.4-23E214", "Command Line Tools for Xcode-15.1"},
			[]adapters.ItemResult{
				{ID: "macOS Sonoma 14.4-23E214", Status: adapters.ItemInstalled, ToVersion: "14.4", Reason: "already installed (03/08/2024, 10:12:33)"},
				{ID: "Command Line Tools for Xcode-15.1", Status: adapters.ItemInstalled, ToVersion: "15.1", Reason: "already installed (12/13/2023, 09:01:02)"}}, false},
		{"unknown", []string{"Nonsense-1.0"},
			[]adapters.ItemResult{{ID: "Nonsense-1.0", Status: adapters.ItemNotApplicable, Reason: "softwareupdate does not offer this update"}}, false},
		{"option-like", []string{"--all"},
			[]adapters.ItemResult{{ID: "--all", Status: adapters.ItemFailed, Reason: "not a softwareupdate label"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := load(t, "sonoma.txt")
			resp, err := a.Install(context.Background(), adapters.InstallRequest{IDs: tt.ids})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Items, tt.want) {
				t.Errorf("items:\n got %+v\nwant %+v", resp.Items, tt.want)
			}
			if resp.RebootRequired != tt.reboot {
				t.Errorf("RebootRequired = %v", resp.RebootRequired)
			}
			rr, err := a.RebootRequired(context.Background(), adapters.RebootRequiredRequest{})
			if err != nil || rr.Required != tt.reboot {
				t.Errorf("RebootRequired after install = %+v, %v; want %v", rr, err, tt.reboot)
			}
		})
	}
}

func TestInstallNeedsCredentials(t *testing.T) {
	a, _ := load(t, "applesilicon.txt")
	_, err := a.Install(context.Background(), adapters.InstallRequest{IDs: []string{"macOS Sonoma 14.4.1-23E224"}})
	if !errors.Is(err, patchcore.ErrPermission) {
		t.Errorf("err = %v, want ErrPermission", err)
	}
}

func TestDownload(t *testing.T) {
	a, _ := load(t, "sonoma.txt")
	resp, err := a.Download(context.Background(), adapters.DownloadRequest{IDs: []string{"Safari17.4.1SonomaAuto-17.4.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []adapters.ItemResult{{ID: "Safari17.4.1SonomaAuto-17.4.1", Status: adapters.ItemDownloaded}}; !slices.Equal(resp.Items, want) {
		t.Errorf("items = %+v", resp.Items)
	}
}

func TestParseHistory(t *testing.T) {
	h, err := parseHistory([]byte("Display Name   Version  Date\n------------   -------  ----\nÜbersicht      1.0      01/01/2024, 00:00:00\nshort\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []historyEntry{{Name: "Übersicht", Version: "1.0", Date: "01/01/2024, 00:00:00"}, {Name: "short"}}
	if !slices.Equal(h, want) {
		t.Errorf("history = %+v", h)
	}
}
