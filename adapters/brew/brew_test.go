package brew

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/internal/goldenfile"
	"github.com/patchcore/sdk/patchcore"
	"github.com/patchcore/sdk/patchcore/version"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, name, v, *update)
}

func sonoma(t *testing.T) (adapters.Adapter, *commandtest.Runner) {
	r := commandtest.Load(t, filepath.Join("testdata", "sonoma.txt"))
	return New(Options{Runner: r}), r
}

func TestInventory(t *testing.T) {
	a, r := sonoma(t)
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	inv := resp.Inventory
	if inv.CollectedAt.IsZero() {
		t.Error("CollectedAt not set")
	}
	inv.CollectedAt, inv.Duration = time.Time{}, 0
	golden(t, "inventory.golden.json", inv)
	got := map[string]patchcore.Package{}
	for _, p := range inv.Packages {
		got[p.Name] = p
	}
	for name, want := range map[string]string{
		"curl": "8.4.0", "openssl@3": "3.2.0_1", "node": "21.2.0", "hashicorp/tap/terraform": "1.6.6",
		"cask:firefox": "120.0.1", "cask:visual-studio-code": "1.85.1", "ca-certificates": "2023-12-12",
	} {
		if got[name].Version != want {
			t.Errorf("%s: version %q, want %q", name, got[name].Version, want)
		}
	}
	if !got["node"].Held || got["curl"].Held {
		t.Errorf("held: node %v curl %v, want only the pinned node", got["node"].Held, got["curl"].Held)
	}
	for _, c := range r.Calls() {
		if !slices.Contains(c.Env, "HOMEBREW_NO_AUTO_UPDATE=1") {
			t.Errorf("%s ran without HOMEBREW_NO_AUTO_UPDATE", c)
		}
	}
}

func TestListUpdates(t *testing.T) {
	a, r := sonoma(t)
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "updates.golden.json", resp)
	if r.Lines()[0] != "brew update --quiet" {
		t.Errorf("Refresh did not run brew update first: %q", r.Lines())
	}
	var ids []string
	for _, u := range resp.Updates {
		ids = append(ids, u.ID)
	}
	if want := []string{"cask:firefox", "curl", "node"}; !slices.Equal(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
}

func TestInstall(t *testing.T) {
	tests := []struct {
		name  string
		req   adapters.InstallRequest
		want  []adapters.ItemResult
		verbs []string
	}{
		{"formula", adapters.InstallRequest{IDs: []string{"curl"}},
			[]adapters.ItemResult{{ID: "curl", Status: adapters.ItemInstalled, FromVersion: "8.4.0", ToVersion: "8.5.0"}},
			[]string{"brew upgrade --formula curl"}},
		{"cask", adapters.InstallRequest{IDs: []string{"cask:firefox"}},
			[]adapters.ItemResult{{ID: "cask:firefox", Status: adapters.ItemInstalled, FromVersion: "120.0.1", ToVersion: "121.0"}},
			[]string{"brew upgrade --cask firefox"}},
		{"already newest runs nothing", adapters.InstallRequest{IDs: []string{"cask:visual-studio-code"}},
			[]adapters.ItemResult{{ID: "cask:visual-studio-code", Status: adapters.ItemInstalled, FromVersion: "1.85.1", ToVersion: "1.85.1", Reason: "already installed at the newest version 1.85.1"}}, nil},
		{"not installed", adapters.InstallRequest{IDs: []string{"wget"}},
			[]adapters.ItemResult{{ID: "wget", Status: adapters.ItemNotApplicable, Reason: "not installed"}}, nil},
		{"pinned is held", adapters.InstallRequest{IDs: []string{"node"}},
			[]adapters.ItemResult{{ID: "node", Status: adapters.ItemHeld, FromVersion: "21.2.0", Reason: "pinned (brew pin); install with Force to upgrade"}}, nil},
		{"forced pinned fails and is pinned again", adapters.InstallRequest{IDs: []string{"node"}, Force: true},
			[]adapters.ItemResult{{ID: "node", Status: adapters.ItemFailed, FromVersion: "21.2.0", Reason: `brew upgrade exit 1: Error: node: Failed to download resource "node--21.5.0.arm64_sonoma.bottle.tar.gz"`}},
			[]string{"brew unpin node", "brew upgrade --formula node", "brew pin node"}},
		{"option-like id refused", adapters.InstallRequest{IDs: []string{"--HEAD"}},
			[]adapters.ItemResult{{ID: "--HEAD", Status: adapters.ItemFailed, Reason: "not a Homebrew formula or cask name"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := sonoma(t)
			resp, err := a.Install(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Items, tt.want) {
				t.Errorf("items:\n got %+v\nwant %+v", resp.Items, tt.want)
			}
			if resp.RebootRequired {
				t.Error("Homebrew never needs a restart")
			}
			var verbs []string
			for _, l := range r.Lines() {
				if f := strings.Fields(l); len(f) > 1 && slices.Contains([]string{"upgrade", "pin", "unpin"}, f[1]) {
					verbs = append(verbs, l)
				}
			}
			if !slices.Equal(verbs, tt.verbs) {
				t.Errorf("commands = %q, want %q", verbs, tt.verbs)
			}
		})
	}
}

func TestDownload(t *testing.T) {
	a, _ := sonoma(t)
	resp, err := a.Download(context.Background(), adapters.DownloadRequest{IDs: []string{"curl", "nosuchformula"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []adapters.ItemResult{
		{ID: "curl", Status: adapters.ItemDownloaded},
		{ID: "nosuchformula", Status: adapters.ItemNotApplicable, Reason: `Error: No available formula with the name "nosuchformula".`},
	}
	if !slices.Equal(resp.Items, want) {
		t.Errorf("items:\n got %+v\nwant %+v", resp.Items, want)
	}
}

func TestCallErrors(t *testing.T) {
	r := commandtest.Load(t, filepath.Join("testdata", "errors.txt"))
	ctx := context.Background()
	_, err := New(Options{Runner: r}).Inventory(ctx, adapters.InventoryRequest{})
	if !errors.Is(err, patchcore.ErrPermission) {
		t.Errorf("as root: err = %v, want ErrPermission", err)
	}
	_, err = New(Options{Runner: r, User: "admin"}).ListUpdates(ctx, adapters.ListUpdatesRequest{})
	if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
		t.Errorf("locked: err = %v, want ErrPackageManagerLocked", err)
	}
}

func TestUpgradeResult(t *testing.T) {
	tests := []struct {
		name   string
		exit   int
		out    string
		status adapters.ItemStatus
		err    error
	}{
		{"ok", 0, "==> Upgrading curl\n", adapters.ItemInstalled, nil},
		{"formula already installed", 0, "Warning: curl 8.5.0 already installed\n", adapters.ItemInstalled, nil},
		{"cask already newest", 0, "Warning: Not upgrading firefox, the latest version is already installed\n", adapters.ItemInstalled, nil},
		{"not installed", 1, "Error: wget not installed\n", adapters.ItemNotApplicable, nil},
		{"unknown cask", 1, "Error: Cask 'nosuch' is unavailable: No Cask with this name exists.\n", adapters.ItemNotApplicable, nil},
		{"pinned", 1, "Error: Not upgrading 1 pinned package:\nnode 21.2.0\n", adapters.ItemHeld, nil},
		{"cask needs a password", 1, "==> Running installer for zoom with sudo; the password may be necessary.\nsudo: a terminal is required to read the password\nError: Failure while executing; `/usr/bin/sudo -u root -E -- /usr/sbin/installer -pkg ...` exited with 1.\n", adapters.ItemFailed, nil},
		{"locked", 1, "Error: Another active Homebrew update process is already in progress.\n", "", patchcore.ErrPackageManagerLocked},
		{"root", 1, "Error: Running Homebrew as root is extremely dangerous and no longer supported.\n", "", patchcore.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			item, err := upgradeResult("x", tt.exit, []byte(tt.out))
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if item.Status != tt.status {
				t.Errorf("status = %q, want %q (%s)", item.Status, tt.status, item.Reason)
			}
		})
	}
}

func TestParseOutdatedOlderCaskForm(t *testing.T) {
	items, err := parseOutdated([]byte(`{"formulae":[],"casks":[{"name":"zoom","installed_versions":"5.16.10.26186","current_version":"5.17.0.28375"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !items[0].Cask || !slices.Equal(items[0].InstalledVersions, []string{"5.16.10.26186"}) || items[0].ID() != "cask:zoom" {
		t.Errorf("items = %+v", items)
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{`{"formulae":[{"name":"curl"}]}`, `{"formulae":[`, `{"formulae":{}}`, `[]`} {
		if _, err := parseOutdated([]byte(in)); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("ParseOutdated(%s): err = %v, want ErrInvalidInput", in, err)
		}
	}
	if _, err := parseInfo([]byte(`{"casks":[{"version":"1"}]}`)); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("ParseInfo without token: err = %v", err)
	}
}

func TestRebootRequiredIsFalse(t *testing.T) {
	resp, err := New(Options{Runner: commandtest.New(t)}).RebootRequired(context.Background(), adapters.RebootRequiredRequest{})
	if err != nil || resp.Required {
		t.Errorf("resp = %+v, err = %v", resp, err)
	}
}

func TestInfoDeclaresHomebrewScheme(t *testing.T) {
	info, err := New(Options{Runner: commandtest.New(t)}).Info(context.Background(), adapters.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	scheme, err := version.Lookup(info.VersionScheme)
	if err != nil || scheme.Name() != version.Homebrew {
		t.Fatalf("VersionScheme %q: %v, %v", info.VersionScheme, scheme, err)
	}
	// The versions of testdata/sonoma.txt and conformance.txt that the
	// dotted scheme rejected.
	for _, v := range []string{"3.2.0_1", "1.1.1w", "9.6p1", "2023-12-12", "3.12.1_1", "4.26.1,131620"} {
		if _, err := scheme.Parse(v); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestNewestVersion(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"8.4.0"}, "8.4.0"},
		{[]string{"3.2.0_1", "3.1.4", "3.2.0"}, "3.2.0_1"}, // brew lists kegs in directory order
		{[]string{"1.1.1w", "1.1.1v"}, "1.1.1w"},
		{[]string{"9.6p1", "9.5p1", "9.6"}, "9.6p1"},
		{[]string{"2.10.0", "2.9.5"}, "2.10.0"},
		{[]string{"22.1.0", "22.1.0.beta1"}, "22.1.0"},
		{[]string{"HEAD-4a1b2c3", "1.0"}, "1.0"}, // a HEAD build has no order
		{[]string{"HEAD-4a1b2c3"}, "HEAD-4a1b2c3"},
		{[]string{"latest"}, "latest"},
	} {
		if got := newestVersion(tt.in); got != tt.want {
			t.Errorf("NewestVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseInfoUnlinkedKegs(t *testing.T) {
	items, err := parseInfo([]byte(`{"formulae":[
	 {"name":"openssl@3","tap":"homebrew/core","linked_keg":null,"installed":[
	  {"version":"3.1.4","installed_on_request":true},{"version":"3.2.0_1","installed_on_request":false},{"version":"3.2.0","installed_on_request":true}]},
	 {"name":"neovim","tap":"homebrew/core","linked_keg":"HEAD-4a1b2c3","installed":[{"version":"HEAD-4a1b2c3","installed_on_request":true}]}],
	 "casks":[{"token":"adobe-acrobat-reader","installed":"latest"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]installedItem{}
	for _, it := range items {
		got[it.Name] = it
	}
	if it := got["openssl@3"]; it.Version != "3.2.0_1" || it.OnRequest {
		t.Errorf("openssl@3 = %+v, want the newest keg 3.2.0_1, installed as a dependency", it)
	}
	// Versions without an order are reported as they are, for detection to
	// report as Unknown, not dropped.
	if got["neovim"].Version != "HEAD-4a1b2c3" || got["adobe-acrobat-reader"].Version != "latest" {
		t.Errorf("items = %+v", items)
	}
}

func TestListUpdatesNewestInstalledVersion(t *testing.T) {
	r := commandtest.New(t,
		commandtest.Recording{Line: "brew outdated --json=v2", Stdout: []byte(`{"formulae":[{"name":"openssl@3","installed_versions":["3.2.0_1","3.1.4"],"current_version":"3.2.1","pinned":false}],"casks":[]}`)})
	resp, err := New(Options{Runner: r}).ListUpdates(context.Background(), adapters.ListUpdatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Updates) != 1 || resp.Updates[0].InstalledVersion != "3.2.0_1" || resp.Updates[0].AvailableVersion != "3.2.1" {
		t.Errorf("updates = %+v, want openssl@3 3.2.0_1 -> 3.2.1", resp.Updates)
	}
}
