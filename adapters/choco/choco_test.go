package choco

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/internal/goldenfile"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files")

// recorded returns a runner replaying the named files under testdata/.
func recorded(t *testing.T, files ...string) *commandtest.Runner {
	t.Helper()
	r := commandtest.New(t)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := commandtest.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, rec := range recs {
			r.Add(rec)
		}
	}
	return r
}

func newAdapter(t *testing.T, files ...string) (adapters.Adapter, *commandtest.Runner) {
	r := recorded(t, files...)
	return New(Options{Runner: r, Registry: winreboot.Fake{}}), r
}

// golden compares v as indented JSON with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, name, v, *update)
}

func TestInventory(t *testing.T) {
	for _, tt := range []struct {
		file, golden string
		n            int
		held         []string
	}{
		{"choco2.txt", "inventory.golden.json", 12, []string{"notepadplusplus"}},
		{"choco1.txt", "inventory-choco1.golden.json", 3, nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			a, r := newAdapter(t, tt.file)
			resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
			if err != nil {
				t.Fatal(err)
			}
			inv := resp.Inventory
			if inv.CollectedAt.IsZero() {
				t.Error("CollectedAt not set")
			}
			inv.CollectedAt, inv.Duration = time.Time{}, 0
			golden(t, tt.golden, inv)
			if n := len(inv.Packages); n != tt.n {
				t.Errorf("%d packages, want %d", n, tt.n)
			}
			var held []string
			for _, p := range inv.Packages {
				if p.Held {
					held = append(held, p.Name)
				}
				if p.Ecosystem != patchcore.EcosystemChocolatey {
					t.Errorf("%s: ecosystem %q", p.Name, p.Ecosystem)
				}
			}
			if !slices.Equal(held, tt.held) {
				t.Errorf("held = %q, want %q", held, tt.held)
			}
			// choco --version is asked once per adapter.
			if _, err := a.Inventory(context.Background(), adapters.InventoryRequest{}); err != nil {
				t.Fatal(err)
			}
			if n := countLine(r.Lines(), "choco --version"); n != 1 {
				t.Errorf("choco --version ran %d times, want 1", n)
			}
		})
	}
}

func countLine(lines []string, line string) int {
	n := 0
	for _, l := range lines {
		if l == line {
			n++
		}
	}
	return n
}

func TestListUpdates(t *testing.T) {
	a, _ := newAdapter(t, "choco2.txt")
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "updates.golden.json", resp)
	var ids []string
	for _, u := range resp.Updates {
		ids = append(ids, u.ID)
		if u.ID == "notepadplusplus" != u.Held {
			t.Errorf("%s: Held = %v", u.ID, u.Held)
		}
	}
	want := []string{"firefox", "git", "git.install", "notepadplusplus", "notepadplusplus.install", "vcredist140"}
	if !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name   string
		req    adapters.InstallRequest
		want   []adapters.ItemResult
		reboot bool
		cmds   []string // upgrade and pin commands run, in order
	}{
		{
			name: "success",
			req:  adapters.InstallRequest{IDs: []string{"git"}},
			want: []adapters.ItemResult{{ID: "git", Status: adapters.ItemInstalled, FromVersion: "2.43.0", ToVersion: "2.44.0"}},
			cmds: []string{"choco upgrade git --yes --no-progress"},
		},
		{
			name:   "reboot required 3010",
			req:    adapters.InstallRequest{IDs: []string{"vcredist140"}},
			want:   []adapters.ItemResult{{ID: "vcredist140", Status: adapters.ItemInstalledPendingReboot, Reason: "installed; a restart completes it (exit 3010)", FromVersion: "14.36.32532", ToVersion: "14.38.33135"}},
			reboot: true,
			cmds:   []string{"choco upgrade vcredist140 --yes --no-progress"},
		},
		{
			name: "msi failure 1603",
			req:  adapters.InstallRequest{IDs: []string{"firefox"}},
			want: []adapters.ItemResult{{ID: "firefox", Status: adapters.ItemFailed, FromVersion: "121.0.1",
				Reason: "choco upgrade exit 1603 (MSI fatal error 1603): firefox (exited 1603) - Error while running 'C:\\ProgramData\\chocolatey\\lib\\firefox\\tools\\chocolateyInstall.ps1'."}},
			cmds: []string{"choco upgrade firefox --yes --no-progress"},
		},
		{
			name: "already installed runs nothing",
			req:  adapters.InstallRequest{IDs: []string{"googlechrome"}},
			want: []adapters.ItemResult{{ID: "googlechrome", Status: adapters.ItemInstalled, Reason: "already installed at the latest version 120.0.6099.217", FromVersion: "120.0.6099.217", ToVersion: "120.0.6099.217"}},
		},
		{
			name: "not in the sources",
			req:  adapters.InstallRequest{IDs: []string{"nosuchpkg"}},
			want: []adapters.ItemResult{{ID: "nosuchpkg", Status: adapters.ItemNotApplicable, Reason: "package not found in the configured sources"}},
			cmds: []string{"choco upgrade nosuchpkg --yes --no-progress"},
		},
		{
			name: "pinned is held",
			req:  adapters.InstallRequest{IDs: []string{"notepadplusplus"}},
			want: []adapters.ItemResult{{ID: "notepadplusplus", Status: adapters.ItemHeld, Reason: "pinned (choco pin); install with Force to upgrade", FromVersion: "8.6"}},
		},
		{
			name: "pinned with force is unpinned, upgraded and pinned again",
			req:  adapters.InstallRequest{IDs: []string{"notepadplusplus"}, Force: true},
			want: []adapters.ItemResult{{ID: "notepadplusplus", Status: adapters.ItemInstalled, FromVersion: "8.6", ToVersion: "8.6.2"}},
			cmds: []string{"choco pin remove --name notepadplusplus", "choco upgrade notepadplusplus --yes --no-progress", "choco pin add --name notepadplusplus"},
		},
		{
			name: "option-like id is refused",
			req:  adapters.InstallRequest{IDs: []string{"--force"}},
			want: []adapters.ItemResult{{ID: "--force", Status: adapters.ItemFailed, Reason: "not a Chocolatey package name"}},
		},
		{
			name:   "several, in request order",
			req:    adapters.InstallRequest{IDs: []string{"vcredist140", "git"}},
			want:   []adapters.ItemResult{{ID: "vcredist140", Status: adapters.ItemInstalledPendingReboot, Reason: "installed; a restart completes it (exit 3010)", FromVersion: "14.36.32532", ToVersion: "14.38.33135"}, {ID: "git", Status: adapters.ItemInstalled, FromVersion: "2.43.0", ToVersion: "2.44.0"}},
			reboot: true,
			cmds:   []string{"choco upgrade vcredist140 --yes --no-progress", "choco upgrade git --yes --no-progress"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := newAdapter(t, "choco2.txt", "upgrades.txt")
			resp, err := a.Install(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Items, tt.want) {
				t.Errorf("items:\n got %+v\nwant %+v", resp.Items, tt.want)
			}
			if resp.RebootRequired != tt.reboot {
				t.Errorf("RebootRequired = %v, want %v", resp.RebootRequired, tt.reboot)
			}
			var cmds []string
			for _, l := range r.Lines() {
				if slices.Contains([]string{"upgrade", "pin remove", "pin add"}, verb(l)) {
					cmds = append(cmds, l)
				}
			}
			if !slices.Equal(cmds, tt.cmds) {
				t.Errorf("commands = %q, want %q", cmds, tt.cmds)
			}
		})
	}
}

// verb returns "upgrade", "pin add", "pin remove" or "" for a choco command line.
func verb(line string) string {
	f := strings.Fields(line)
	switch {
	case len(f) > 1 && f[1] == "upgrade":
		return "upgrade"
	case len(f) > 2 && f[1] == "pin" && (f[2] == "add" || f[2] == "remove"):
		return "pin " + f[2]
	}
	return ""
}

func TestInstallLockedIsAnError(t *testing.T) {
	a, _ := newAdapter(t, "locked.txt")
	_, err := a.Install(context.Background(), adapters.InstallRequest{IDs: []string{"git"}})
	if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
		t.Errorf("err = %v, want ErrPackageManagerLocked", err)
	}
}

func TestUpgradeResult(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		out    string
		status adapters.ItemStatus
		err    error
	}{
		{"plain success", 0, "Chocolatey upgraded 1/1 packages.", adapters.ItemInstalled, nil},
		{"enhanced nothing to do", exitNothingToDo, "", adapters.ItemInstalled, nil},
		{"latest already", 0, "git v2.44.0 is the latest version available based on your source(s).\nChocolatey upgraded 0/1 packages.", adapters.ItemInstalled, nil},
		{"reboot initiated 1641", exitRebootInitiated, "", adapters.ItemInstalledPendingReboot, nil},
		{"reboot listed with exit 0", 0, "Packages requiring reboot:\n - git (exit code 3010)", adapters.ItemInstalledPendingReboot, nil},
		{"generic failure", 1, "Failures\n - git (exited 1) - boom", adapters.ItemFailed, nil},
		{"negative exit read as uint32", int(uint32(0xFFFFFFFF)), "", adapters.ItemFailed, nil},
		{"msi busy 1618", exitMSIBusy, "", "", patchcore.ErrPackageManagerLocked},
		{"access denied", 1, "Access to the path 'C:\\ProgramData\\chocolatey\\lib-bad' is denied.", "", patchcore.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := int(int32(uint32(tt.code)))
			item, err := upgradeResult("git", code, parseUpgrade([]byte(tt.out)))
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if item.Status != tt.status {
				t.Errorf("status = %q, want %q (reason %q)", item.Status, tt.status, item.Reason)
			}
		})
	}
}

func TestRebootRequired(t *testing.T) {
	a := New(Options{Runner: commandtest.New(t), Registry: winreboot.Fake{Keys: []string{winreboot.ServicingKey}}})
	resp, err := a.RebootRequired(context.Background(), adapters.RebootRequiredRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Required || !slices.Equal(resp.Reasons, []string{winreboot.ReasonServicing}) {
		t.Errorf("resp = %+v", resp)
	}
}

func TestUnsupported(t *testing.T) {
	a := New(Options{Runner: commandtest.New(t), Registry: winreboot.Fake{}})
	ctx := context.Background()
	if _, err := a.Download(ctx, adapters.DownloadRequest{IDs: []string{"git"}}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("Download: %v", err)
	}
	if _, err := a.Inventory(ctx, adapters.InventoryRequest{Target: adapters.Target{Root: "/mnt"}}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("Inventory with Root: %v", err)
	}
}
