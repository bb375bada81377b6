package winget

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
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/internal/goldenfile"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files")

const common = " --accept-source-agreements --disable-interactivity"

// recorded returns a runner replaying testdata/file, HRESULT exit codes
// included.
func recorded(t *testing.T, file string) *commandtest.Runner {
	t.Helper()
	return commandtest.Load(t, filepath.Join("testdata", file))
}

func newAdapter(t *testing.T) (adapters.Adapter, *commandtest.Runner) {
	r := recorded(t, "win11.txt")
	return New(Options{Runner: r, Registry: winreboot.Fake{}}), r
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, name, v, *update)
}

func TestInventory(t *testing.T) {
	a, _ := newAdapter(t)
	resp, err := a.Inventory(context.Background(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	inv := resp.Inventory
	inv.CollectedAt, inv.Duration = time.Time{}, 0
	golden(t, "inventory.golden.json", inv)
	got := map[string]patchcore.Package{}
	for _, p := range inv.Packages {
		got[p.Name] = p
	}
	for id, v := range map[string]string{
		"7zip.7zip": "23.01", "Git.Git": "2.43.0", "Tencent.WeChat": "3.9.8.25",
		"Microsoft.VCRedist.2015+.x64": "14.36.32532.0", "ARP\\Machine\\X64\\{F132AF7F-7BCA-4ED…": "6.0.9239.1",
	} {
		if got[id].Version != v {
			t.Errorf("%s: version %q, want %q", id, got[id].Version, v)
		}
	}
	if len(inv.Packages) != 11 {
		t.Errorf("%d packages, want 11", len(inv.Packages))
	}
	if !got["Notepad++.Notepad++"].Held {
		t.Error("the pinned Notepad++ is not held")
	}
}

func TestListUpdates(t *testing.T) {
	a, r := newAdapter(t)
	resp, err := a.ListUpdates(context.Background(), adapters.ListUpdatesRequest{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "updates.golden.json", resp)
	if r.Lines()[0] != "winget source update"+common {
		t.Errorf("Refresh did not update the sources first: %q", r.Lines())
	}
	var ids []string
	for _, u := range resp.Updates {
		ids = append(ids, u.ID)
	}
	// The truncated "Microsoft.VCRedist.2015+…" is resolved through winget list.
	want := []string{"Discord.Discord", "Git.Git", "Microsoft.PowerShell", "Microsoft.VCRedist.2015+.x64", "Mozilla.Firefox", "Notepad++.Notepad++"}
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
	}{
		{"success", adapters.InstallRequest{IDs: []string{"Git.Git"}},
			[]adapters.ItemResult{{ID: "Git.Git", Status: adapters.ItemInstalled, FromVersion: "2.43.0", ToVersion: "2.44.0"}}, false},
		{"in use", adapters.InstallRequest{IDs: []string{"Mozilla.Firefox"}},
			[]adapters.ItemResult{{ID: "Mozilla.Firefox", Status: adapters.ItemFailed, FromVersion: "121.0.1",
				Reason: "winget upgrade 0x8A150101 (APPINSTALLER_CLI_ERROR_INSTALL_PACKAGE_IN_USE): Application is currently running. Exit the application then try again."}}, false},
		{"reboot to finish", adapters.InstallRequest{IDs: []string{"Microsoft.PowerShell"}},
			[]adapters.ItemResult{{ID: "Microsoft.PowerShell", Status: adapters.ItemInstalledPendingReboot, FromVersion: "7.4.1.0", ToVersion: "7.4.2.0",
				Reason: "installed; a restart completes it: 0x8A150109 (APPINSTALLER_CLI_ERROR_INSTALL_REBOOT_REQUIRED_TO_FINISH)"}}, true},
		{"already newest runs nothing", adapters.InstallRequest{IDs: []string{"Microsoft.Edge"}},
			[]adapters.ItemResult{{ID: "Microsoft.Edge", Status: adapters.ItemInstalled, FromVersion: "122.0.2365.92", ToVersion: "122.0.2365.92", Reason: "already installed at the newest version 122.0.2365.92"}}, false},
		{"pinned held", adapters.InstallRequest{IDs: []string{"Notepad++.Notepad++"}},
			[]adapters.ItemResult{{ID: "Notepad++.Notepad++", Status: adapters.ItemHeld, FromVersion: "8.6", Reason: "pinned (winget pin); install with Force to upgrade"}}, false},
		{"pinned forced", adapters.InstallRequest{IDs: []string{"Notepad++.Notepad++"}, Force: true},
			[]adapters.ItemResult{{ID: "Notepad++.Notepad++", Status: adapters.ItemInstalled, FromVersion: "8.6", ToVersion: "8.6.5"}}, false},
		{"explicit targeting upgrade", adapters.InstallRequest{IDs: []string{"Discord.Discord"}},
			[]adapters.ItemResult{{ID: "Discord.Discord", Status: adapters.ItemInstalled, FromVersion: "1.0.9032", ToVersion: "1.0.9037"}}, false},
		{"full id of a row winget truncated", adapters.InstallRequest{IDs: []string{"Microsoft.VCRedist.2015+.x64"}},
			[]adapters.ItemResult{{ID: "Microsoft.VCRedist.2015+.x64", Status: adapters.ItemInstalled, FromVersion: "14.36.32532.0", ToVersion: "14.38.33135.0"}}, false},
		{"truncated id refused", adapters.InstallRequest{IDs: []string{"Microsoft.VCRedist.2015+…"}},
			[]adapters.ItemResult{{ID: "Microsoft.VCRedist.2015+…", Status: adapters.ItemFailed, Reason: "winget truncated this identifier in its table output; install it by its full identifier"}}, false},
		{"not installed", adapters.InstallRequest{IDs: []string{"patchcore-adaptertest-no-such-update"}},
			[]adapters.ItemResult{{ID: "patchcore-adaptertest-no-such-update", Status: adapters.ItemNotApplicable, Reason: "no installed package matches: 0x8A150014 (APPINSTALLER_CLI_ERROR_NO_APPLICATIONS_FOUND)"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAdapter(t)
			resp, err := a.Install(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(resp.Items, tt.want) {
				t.Errorf("items:\n got %+v\nwant %+v", resp.Items, tt.want)
			}
			if resp.RebootRequired != tt.reboot {
				t.Errorf("RebootRequired = %v", resp.RebootRequired)
			}
		})
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		code   uint32
		status adapters.ItemStatus
		err    error
	}{
		{0, adapters.ItemInstalled, nil},
		{hrUpdateNotApplicable, adapters.ItemInstalled, nil},
		{hrPackageAlreadyInstalled, adapters.ItemInstalled, nil},
		{hrInstallAlreadyInstalled, adapters.ItemInstalled, nil},
		{hrInstallDowngrade, adapters.ItemInstalled, nil},
		{hrInstallRebootInitiated, adapters.ItemInstalledPendingReboot, nil},
		{3010, adapters.ItemInstalledPendingReboot, nil},
		{hrInstallRebootToInstall, adapters.ItemFailed, nil},
		{hrInstallerHashMismatch, adapters.ItemFailed, nil},
		{hrPackageIsPinned, adapters.ItemHeld, nil},
		{hrNoApplicationsFound, adapters.ItemNotApplicable, nil},
		{hrInstallInProgress, "", patchcore.ErrPackageManagerLocked},
		{1618, "", patchcore.ErrPackageManagerLocked},
		{hrCommandRequiresAdmin, "", patchcore.ErrPermission},
		{1, adapters.ItemFailed, nil},
	}
	for _, tt := range tests {
		item, err := itemResult("x", tt.code, []byte("some output\r\nlast words\r\n"))
		if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("0x%08X: err = %v, want %v", tt.code, err, tt.err)
			continue
		}
		if item.Status != tt.status {
			t.Errorf("0x%08X: status %q, want %q (%s)", tt.code, item.Status, tt.status, item.Reason)
		}
		if tt.status == adapters.ItemFailed && !strings.HasSuffix(item.Reason, ": last words") {
			t.Errorf("0x%08X: reason %q does not end with winget's last line", tt.code, item.Reason)
		}
	}
}

func TestParseTables(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		header [][]string
		rows   [][][]string
	}{
		{
			name:   "CRLF, escape sequences and a backspace spinner",
			in:     "\x1b[?25l  - \b\b\b\b  \\ \b\b\b\b    \b\b\b\bName    Id      Version\r\n\x1b[0m-------------------------\r\nFoo Bar Foo.Bar 1.2.3\r\n",
			header: [][]string{{"Name", "Id", "Version"}},
			rows:   [][][]string{{{"Foo Bar", "Foo.Bar", "1.2.3"}}},
		},
		{
			name:   "localized header (German) and a two-word label",
			in:     "Name     ID        Version  Quelle Pin-Typ\n----------------------------------------\nGit      Git.Git   2.43.0   winget Pinning\n",
			header: [][]string{{"Name", "ID", "Version", "Quelle", "Pin-Typ"}},
			rows:   [][][]string{{{"Git", "Git.Git", "2.43.0", "winget", "Pinning"}}},
		},
		{
			name:   "single-space label kept whole when a row crosses it",
			in:     "Name Id   Pin type\n--------------------\nA    A.A  Blocking\n",
			header: [][]string{{"Name", "Id", "Pin type"}},
			rows:   [][][]string{{{"A", "A.A", "Blocking"}}},
		},
		{
			name:   "wide characters count two cells",
			in:     "Name   Id       Version\n------------------------\n微信   Tencent  3.9\nabc    X.Y      1.0\n",
			header: [][]string{{"Name", "Id", "Version"}},
			rows:   [][][]string{{{"微信", "Tencent", "3.9"}, {"abc", "X.Y", "1.0"}}},
		},
		{
			name:   "nothing to list",
			in:     "No installed package found matching input criteria.\n",
			header: nil,
			rows:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tables, err := parseTables([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != len(tt.header) {
				t.Fatalf("%d tables, want %d: %+v", len(tables), len(tt.header), tables)
			}
			for i, tb := range tables {
				if !slices.Equal(tb.Header, tt.header[i]) {
					t.Errorf("header = %q, want %q", tb.Header, tt.header[i])
				}
				if len(tb.Rows) != len(tt.rows[i]) {
					t.Fatalf("rows = %q, want %q", tb.Rows, tt.rows[i])
				}
				for j := range tb.Rows {
					if !slices.Equal(tb.Rows[j], tt.rows[i][j]) {
						t.Errorf("row %d = %q, want %q", j, tb.Rows[j], tt.rows[i][j])
					}
				}
			}
		})
	}
}

func TestUpgradeTablesAndNotes(t *testing.T) {
	r := recorded(t, "win11.txt")
	res, err := r.Run(context.Background(), commandForLine("winget upgrade --include-pinned"+common))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := parseTables(res.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 2 {
		t.Fatalf("%d tables, want the upgrades and the explicit-targeting ones", len(tables))
	}
	if len(tables[0].Rows) != 5 || len(tables[1].Rows) != 1 {
		t.Errorf("rows: %d and %d, want 5 and 1", len(tables[0].Rows), len(tables[1].Rows))
	}
	if !slices.Contains(tables[0].Notes, "5 upgrades available.") {
		t.Errorf("notes of the first table = %q", tables[0].Notes)
	}
	rows := tableRows(tables)
	if !rows[len(rows)-1].Explicit || rows[0].Explicit {
		t.Error("only the second table's rows are explicit-targeting")
	}
	if !rows[1].Truncated() || rows[0].Truncated() {
		t.Errorf("truncation: %+v", rows[:2])
	}
}

func commandForLine(line string) command.Command {
	f := strings.Fields(line)
	return command.Command{Name: f[0], Args: f[1:]}
}

func TestRebootRequired(t *testing.T) {
	a := New(Options{Runner: commandtest.New(t), Registry: winreboot.Fake{Keys: []string{winreboot.WindowsUpdateKey}}})
	resp, err := a.RebootRequired(context.Background(), adapters.RebootRequiredRequest{})
	if err != nil || !resp.Required || len(resp.Reasons) != 1 {
		t.Errorf("resp = %+v, err = %v", resp, err)
	}
}

func TestResolveTruncated(t *testing.T) {
	installed := []listedPkg{{ID: "Contoso.App.x64", Version: "1.0"}, {ID: "Contoso.App.x86", Version: "1.0"}, {ID: "Fabrikam.Tool.Long", Version: "2.0"}}
	rows := []listedPkg{{ID: "Contoso.App…", Version: "1.0"}, {ID: "Fabrikam.To…", Version: "2.0"}, {ID: "Fabrikam.To…", Version: "3.0"}}
	got := resolveTruncated(rows, installed)
	want := []string{"Contoso.App…", "Fabrikam.Tool.Long", "Fabrikam.To…"}
	for i := range got {
		if got[i].ID != want[i] {
			t.Errorf("row %d: %q, want %q (ambiguous or version-mismatched prefixes stay truncated)", i, got[i].ID, want[i])
		}
	}
	if rows[1].ID != "Fabrikam.To…" {
		t.Error("ResolveTruncated changed its input")
	}
}
