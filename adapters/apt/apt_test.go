package apt

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/goldenfile"
	"github.com/patchcore/sdk/patchcore"
)

var update = flag.Bool("update", false, "rewrite golden files")

// recorded is a command.Runner that answers from captured output.
type recorded struct {
	mu    sync.Mutex
	calls []command.Command
	// answer returns the result for a command; ok false means "unexpected".
	answer func(c command.Command) (command.Result, error)
}

func (r *recorded) Run(ctx context.Context, c command.Command) (command.Result, error) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return command.Result{}, err
	}
	return r.answer(c)
}

func (r *recorded) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, c := range r.calls {
		s = append(s, c.String())
	}
	return s
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// debian12 answers with the output captured on a Debian 12 machine.
func debian12(t testing.TB, aptGet func(c command.Command) (command.Result, error)) *recorded {
	dpkgQuery := readTestdata(t, "debian12/dpkg-query.txt")
	aptList := readTestdata(t, "debian12/apt-list-upgradable.txt")
	arch := readTestdata(t, "debian12/dpkg-print-architecture.txt")
	return &recorded{answer: func(c command.Command) (command.Result, error) {
		switch {
		case c.Name == "dpkg-query":
			return command.Result{Stdout: dpkgQuery}, nil
		case c.Name == "dpkg" && strings.Contains(c.String(), "--print-architecture"):
			return command.Result{Stdout: arch}, nil
		case c.Name == "apt" && strings.Contains(c.String(), "list --upgradable"):
			return command.Result{Stdout: aptList, Stderr: []byte("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n")}, nil
		case c.Name == "apt-get" && aptGet != nil:
			return aptGet(c)
		}
		t.Errorf("unexpected command %s", c)
		return command.Result{ExitCode: 1}, &command.ExitError{Command: c.String(), ExitCode: 1}
	}}
}

func testRoot(t testing.TB) string {
	root, err := filepath.Abs("testdata/debian12/root")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// golden compares v, as indented JSON, with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, v any) {
	t.Helper()
	goldenfile.JSON(t, name, v, *update)
}

func TestInfo(t *testing.T) {
	r := &recorded{answer: func(c command.Command) (command.Result, error) {
		t.Errorf("Info ran %s", c)
		return command.Result{}, nil
	}}
	info, err := New(Options{Runner: r}).Info(t.Context(), adapters.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "apt" || info.VersionScheme != "deb" || info.ProtocolVersion != adapters.ProtocolVersion {
		t.Errorf("Info = %+v", info)
	}
}

func TestInventoryGolden(t *testing.T) {
	a := New(Options{Runner: debian12(t, nil)})
	resp, err := a.Inventory(t.Context(), adapters.InventoryRequest{Target: adapters.Target{Root: testRoot(t)}})
	if err != nil {
		t.Fatal(err)
	}
	inv := resp.Inventory
	if inv.Platform.Distro != "debian" || inv.Platform.Version != "12" || inv.Platform.Codename != "bookworm" || inv.Platform.Arch != "amd64" {
		t.Errorf("platform = %+v", inv.Platform)
	}
	if inv.Platform.Kernel != "" {
		t.Errorf("an alternate root has no running kernel, got %q", inv.Platform.Kernel)
	}
	if len(inv.Packages) != 763 {
		t.Errorf("got %d packages, want the 763 dpkg-query listed", len(inv.Packages))
	}
	var apt *patchcore.Package
	for i := range inv.Packages {
		if inv.Packages[i].Name == "apt-transport-https" {
			apt = &inv.Packages[i]
		}
	}
	if apt == nil || apt.SourceName != "apt" || apt.SourceVersion != "2.6.1" || apt.Version != "2.6.1" || apt.Arch != "all" {
		t.Errorf("apt-transport-https = %+v, want source apt 2.6.1", apt)
	}
	golden(t, "debian12/inventory.golden.json", inv.Packages)
}

func TestInventoryRunningSystem(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "sys/kernel"), 0o755)
	os.WriteFile(filepath.Join(proc, "sys/kernel/osrelease"), []byte("6.1.0-18-amd64\n"), 0o644)
	r := debian12(t, nil)
	resp, err := New(Options{Runner: r, ProcRoot: proc}).Inventory(t.Context(), adapters.InventoryRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Inventory.Platform.Kernel != "6.1.0-18-amd64" {
		t.Errorf("kernel = %q", resp.Inventory.Platform.Kernel)
	}
	for _, c := range r.commands() {
		if strings.Contains(c, "--admindir") {
			t.Errorf("running system queried with %s", c)
		}
	}
}

func TestListUpdatesGolden(t *testing.T) {
	r := debian12(t, nil)
	resp, err := New(Options{Runner: r}).ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: adapters.Target{Root: testRoot(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Updates) != 134 {
		t.Errorf("got %d updates, want the 134 apt list printed", len(resp.Updates))
	}
	byID := map[string]adapters.Update{}
	for _, u := range resp.Updates {
		byID[u.ID] = u
	}
	tests := []struct {
		id, installed, candidate, origin string
		class                            patchcore.Classification
	}{
		{"unzip", "6.0-28", "6.0-28+deb12u1", "Debian-Security:12/oldstable-security", patchcore.ClassSecurity},
		{"libpcre2-8-0", "10.42-1", "10.42-1+deb12u2", "Debian-Security:12/oldstable-security", patchcore.ClassSecurity},
		{"krb5-locales", "1.20.1-2+deb12u3", "1.20.1-2+deb12u5", "Debian:12.15/oldstable, Debian-Security:12/oldstable-security", patchcore.ClassSecurity},
		{"bash", "5.2.15-2+b8", "5.2.15-2+b13", "Debian:12.15/oldstable", patchcore.ClassBugfix},
		{"libcap2", "1:2.66-4+deb12u2+b2", "1:2.66-4+deb12u3+b1", "Debian:12.15/oldstable", patchcore.ClassBugfix},
	}
	for _, tt := range tests {
		u, ok := byID[tt.id]
		if !ok {
			t.Errorf("%s missing from the updates", tt.id)
			continue
		}
		if u.InstalledVersion != tt.installed || u.AvailableVersion != tt.candidate || u.Origin != tt.origin || u.Classification != tt.class {
			t.Errorf("%s = %+v, want %s -> %s from %q (%s)", tt.id, u, tt.installed, tt.candidate, tt.origin, tt.class)
		}
	}
	golden(t, "debian12/updates.golden.json", resp.Updates)
}

func TestListUpdatesHeld(t *testing.T) {
	q := strings.Replace(string(readTestdata(t, "debian12/dpkg-query.txt")), "unzip\t6.0-28\tamd64\tunzip\t6.0-28\tii ", "unzip\t6.0-28\tamd64\tunzip\t6.0-28\thi ", 1)
	if !strings.Contains(q, "\thi ") {
		t.Fatal("fixture does not have unzip 6.0-28")
	}
	base := debian12(t, nil)
	r := &recorded{answer: func(c command.Command) (command.Result, error) {
		if c.Name == "dpkg-query" {
			return command.Result{Stdout: []byte(q)}, nil
		}
		return base.answer(c)
	}}
	a := New(Options{Runner: r})
	resp, err := a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: adapters.Target{Root: testRoot(t)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range resp.Updates {
		if (u.ID == "unzip") != u.Held {
			t.Errorf("%s held = %v", u.ID, u.Held)
		}
	}
	inst, err := a.Install(t.Context(), adapters.InstallRequest{Target: adapters.Target{Root: testRoot(t)}, IDs: []string{"unzip"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(inst.Items) != 1 || inst.Items[0].Status != adapters.ItemHeld {
		t.Errorf("Install of a held package = %+v, want held", inst.Items)
	}
	for _, c := range r.commands() {
		if strings.HasPrefix(c, "apt-get") {
			t.Errorf("Install of a held package ran %s", c)
		}
	}
}

func TestInstallPerItem(t *testing.T) {
	installedUnzip := false
	base := debian12(t, nil)
	var aptGetArgs string
	r := &recorded{answer: func(c command.Command) (command.Result, error) {
		switch c.Name {
		case "apt-get":
			aptGetArgs = c.String()
			installedUnzip = true
			return command.Result{Stdout: []byte("Setting up unzip (6.0-28+deb12u1) ...\n")}, nil
		case "dpkg-query":
			res, err := base.answer(c)
			if installedUnzip {
				res.Stdout = []byte(strings.Replace(string(res.Stdout), "unzip\t6.0-28\t", "unzip\t6.0-28+deb12u1\t", 1))
			}
			return res, err
		}
		return base.answer(c)
	}}
	resp, err := New(Options{Runner: r}).Install(t.Context(), adapters.InstallRequest{
		Target: adapters.Target{Root: testRoot(t)},
		IDs:    []string{"unzip", "no-such-package", "adduser", "bad name", "DSA-5678-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status adapters.ItemStatus
		reason string
	}{
		{adapters.ItemInstalled, ""},
		{adapters.ItemNotApplicable, "not installed: package no-such-package is not installed"},
		{adapters.ItemInstalled, "no newer candidate"},
		{adapters.ItemFailed, "is not a package name"},
		{adapters.ItemNotApplicable, "not installed: apt cannot map the advisory DSA-5678-1 to packages"},
	}
	if len(resp.Items) != len(want) {
		t.Fatalf("items = %+v", resp.Items)
	}
	for i, it := range resp.Items {
		if it.Status != want[i].status || !strings.HasPrefix(it.Reason, want[i].reason) && !strings.Contains(it.Reason, want[i].reason) {
			t.Errorf("item %d (%s) = %s (%s), want %s (%s)", i, it.ID, it.Status, it.Reason, want[i].status, want[i].reason)
		}
	}
	if resp.Items[0].FromVersion != "6.0-28" || resp.Items[0].ToVersion != "6.0-28+deb12u1" {
		t.Errorf("unzip result %+v", resp.Items[0])
	}
	for _, w := range []string{"install --only-upgrade unzip", "--no-remove", "DPkg::Chroot-Directory=" + testRoot(t), "Dir=" + testRoot(t)} {
		if !strings.Contains(aptGetArgs, w) {
			t.Errorf("apt-get ran as %q, missing %q", aptGetArgs, w)
		}
	}
	if strings.Contains(aptGetArgs, "adduser") {
		t.Errorf("apt-get asked to install an up-to-date package: %s", aptGetArgs)
	}
}

func TestInstallLocked(t *testing.T) {
	lockOut := "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)\nE: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n"
	r := debian12(t, func(c command.Command) (command.Result, error) {
		return command.Result{ExitCode: 100, Stderr: []byte(lockOut)}, &command.ExitError{Command: c.String(), ExitCode: 100}
	})
	_, err := New(Options{Runner: r}).Install(t.Context(), adapters.InstallRequest{Target: adapters.Target{Root: testRoot(t)}, IDs: []string{"unzip"}})
	if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
		t.Errorf("err = %v, want ErrPackageManagerLocked", err)
	}
}

func TestInstallRepairsInterruptedDpkg(t *testing.T) {
	calls := 0
	var repaired bool
	base := debian12(t, nil)
	r := &recorded{answer: func(c command.Command) (command.Result, error) {
		switch {
		case c.Name == "apt-get":
			calls++
			if calls == 1 {
				return command.Result{ExitCode: 100, Stderr: []byte("E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem. \n")},
					&command.ExitError{Command: c.String(), ExitCode: 100}
			}
			return command.Result{}, nil
		case c.Name == "dpkg" && strings.Contains(c.String(), "--configure -a"):
			repaired = true
			return command.Result{}, nil
		}
		return base.answer(c)
	}}
	resp, err := New(Options{Runner: r}).Install(t.Context(), adapters.InstallRequest{Target: adapters.Target{Root: testRoot(t)}, IDs: []string{"unzip"}})
	if err != nil {
		t.Fatal(err)
	}
	if !repaired || calls != 2 {
		t.Errorf("repaired = %v, apt-get calls = %d; want a repair and a retry", repaired, calls)
	}
	// the recorded dpkg-query still shows the old version, so the item failed honestly
	if resp.Items[0].Status != adapters.ItemFailed || !strings.Contains(resp.Items[0].Reason, "6.0-28") {
		t.Errorf("item = %+v", resp.Items[0])
	}
}

func TestMissingTool(t *testing.T) {
	r := &recorded{answer: func(c command.Command) (command.Result, error) {
		return command.Result{}, fmt.Errorf("running %s: %w", c, &exec.Error{Name: c.Name, Err: exec.ErrNotFound})
	}}
	_, err := New(Options{Runner: r}).ListUpdates(t.Context(), adapters.ListUpdatesRequest{})
	if err == nil || !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("err = %v, want a not-installed error wrapping ErrUnsupported", err)
	}
}

func TestBadRoot(t *testing.T) {
	a := New(Options{Runner: debian12(t, nil)})
	for _, root := range []string{"/nonexistent/root", "apt.go"} {
		_, err := a.Inventory(t.Context(), adapters.InventoryRequest{Target: adapters.Target{Root: root}})
		if !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("root %s: err = %v, want ErrInvalidInput", root, err)
		}
	}
}

// A root apt does not serve (no dpkg database), or one with no package
// source, is refused with ErrUnsupported: never "no packages" or "no
// updates".
func TestRefusesWhatItDoesNotServe(t *testing.T) {
	noSources := t.TempDir()
	if err := os.MkdirAll(filepath.Join(noSources, "var/lib/dpkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(filepath.Join(testRoot(t), "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noSources, "var/lib/dpkg/status"), status, 0o644); err != nil {
		t.Fatal(err)
	}
	a := New(Options{Runner: debian12(t, nil)})
	tests := []struct {
		name, root, want string
		calls            []string
	}{
		{"no dpkg database", t.TempDir(), "is not a system apt serves", []string{"Inventory", "ListUpdates", "Install"}},
		{"no package sources", noSources, "has no package sources", []string{"ListUpdates", "Install"}},
	}
	for _, tt := range tests {
		tgt := adapters.Target{Root: tt.root}
		for _, call := range tt.calls {
			var err error
			switch call {
			case "Inventory":
				_, err = a.Inventory(t.Context(), adapters.InventoryRequest{Target: tgt})
			case "ListUpdates":
				_, err = a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: tgt})
			case "Install":
				_, err = a.Install(t.Context(), adapters.InstallRequest{Target: tgt, IDs: []string{"bash"}})
			}
			if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %s: %v, want ErrUnsupported saying %q", tt.name, call, err, tt.want)
			}
		}
	}
}

func TestRebootRequired(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "var/lib/dpkg"), 0o755)
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	os.MkdirAll(filepath.Join(root, "run"), 0o755)
	os.MkdirAll(filepath.Join(root, "var"), 0o755)
	os.Symlink("/run", filepath.Join(root, "var/run")) // as on a real system: must not reach the host's /run
	a := New(Options{Runner: debian12(t, nil)})
	tgt := adapters.Target{Root: root}
	resp, err := a.RebootRequired(t.Context(), adapters.RebootRequiredRequest{Target: tgt})
	if err != nil || resp.Required {
		t.Fatalf("no reboot-required file: %+v, %v", resp, err)
	}
	os.WriteFile(filepath.Join(root, "run/reboot-required"), []byte("*** System restart required ***\n"), 0o644)
	os.WriteFile(filepath.Join(root, "run/reboot-required.pkgs"), []byte("linux-image-6.1.0-18-amd64\nlibc6\nlibc6\n"), 0o644)
	resp, err = a.RebootRequired(t.Context(), adapters.RebootRequiredRequest{Target: tgt})
	if err != nil || !resp.Required || strings.Join(resp.Reasons, ",") != "libc6,linux-image-6.1.0-18-amd64" {
		t.Errorf("with reboot-required: %+v, %v", resp, err)
	}
}
