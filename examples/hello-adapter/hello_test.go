package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/patchcore"
)

// makeRoot builds a toy system: greeter 1.0.0 installed with 1.1.0
// available, and shouter 2.0.0 installed and current.
func makeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"installed/greeter":    "1.0.0\n",
		"installed/shouter":    "2.0.0\n",
		"repo/greeter/1.0.0":   "",
		"repo/greeter/1.1.0":   "",
		"repo/greeter/1.0.10":  "",
		"repo/shouter/2.0.0":   "",
		"repo/whisperer/0.1.0": "",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestConformance runs the conformance kit in process, over real gRPC.
func TestConformance(t *testing.T) {
	root := makeRoot(t)
	adaptertest.Run(t, newAdapter, adaptertest.WithTarget(adapters.Target{Root: root}), adaptertest.WithInstallID("shouter"))
}

// pluginBin is the adapter binary TestMain builds once for the tests that
// load it as a subprocess.
var pluginBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hello-adapter-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBin = filepath.Join(dir, "hello-adapter")
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the plugin needs the go command on PATH: %v\n", err)
		os.Exit(1)
	}
	cmd := exec.Command(goTool, "build", "-o", pluginBin, ".")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// TestBuiltPluginBinary builds the adapter, loads it through the host with
// its SHA-256, passes the conformance checks against the subprocess, and
// installs an update through it.
func TestBuiltPluginBinary(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to check the plugin process is gone")
	}
	bin := pluginBin
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	root := makeRoot(t)
	ctx := context.Background()

	h := adapters.NewHost(adapters.Binary(bin, sum[:]), adapters.WithPluginEnv("HELLO_ROOT="+root))
	for _, r := range adaptertest.Check(ctx, h, adaptertest.WithInstallID("shouter")) {
		if r.Outcome != adaptertest.Passed {
			t.Errorf("conformance %s: %s: %s", r.Name, r.Outcome, r.Detail)
		}
	}
	pid := h.Pid()
	if pid == 0 || !processAlive(pid) {
		t.Fatalf("plugin pid %d not running", pid)
	}

	ups, err := h.ListUpdates(ctx, adapters.ListUpdatesRequest{})
	if err != nil || len(ups.Updates) != 1 || ups.Updates[0].AvailableVersion != "1.1.0" {
		t.Fatalf("ListUpdates = %+v, %v; want greeter 1.1.0 (semver order, not 1.0.10)", ups, err)
	}
	res, err := h.Install(ctx, adapters.InstallRequest{IDs: []string{"greeter", "whisperer", "nosuch"}})
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	want := []adapters.ItemStatus{adapters.ItemInstalled, adapters.ItemInstalled, adapters.ItemNotApplicable}
	for i, it := range res.Items {
		if it.Status != want[i] {
			t.Errorf("item %s: %s (%s), want %s", it.ID, it.Status, it.Reason, want[i])
		}
	}
	un, err := h.Uninstall(ctx, adapters.UninstallRequest{IDs: []string{"whisperer", "nosuch"}})
	if err != nil || len(un.Items) != 2 || un.Items[0].Status != adapters.ItemRemoved || un.Items[1].Status != adapters.ItemNotApplicable {
		t.Errorf("Uninstall = %+v, %v; want removed, not_applicable", un, err)
	}
	if err := os.WriteFile(filepath.Join(root, "lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Install(ctx, adapters.InstallRequest{IDs: []string{"greeter"}}); !errors.Is(err, patchcore.ErrPackageManagerLocked) {
		t.Errorf("Install while locked: %v, want ErrPackageManagerLocked across the process boundary", err)
	}

	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for deadline := time.Now().Add(3 * time.Second); processAlive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin process %d outlived Close", pid)
		}
	}
}

func TestRunByHand(t *testing.T) {
	bin := pluginBin
	out, err := exec.Command(bin).CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "not by hand") {
		t.Errorf("running the plugin by hand: %v, %q", err, out)
	}
}

// TestDefaultRoot covers the running "system" without $HELLO_ROOT: the
// state directory in the user's configuration directory, empty while it
// does not exist, and passing the conformance kit either way.
func TestDefaultRoot(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	t.Setenv("AppData", cfg)
	t.Setenv("HELLO_ROOT", "")
	ctx := t.Context()
	a, err := newAdapter(ctx, adapters.Env{Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := a.Inventory(ctx, adapters.InventoryRequest{})
	if err != nil || len(inv.Inventory.Packages) != 0 {
		t.Fatalf("Inventory of a missing default state = %+v, %v; want nothing installed", inv, err)
	}
	// With nothing installed the kit has no update to install: every other
	// check passes, and the install checks say why they cannot run (as
	// `patchctl adapters check ./hello-adapter` prints).
	for _, r := range adaptertest.Check(ctx, a) {
		install := strings.HasPrefix(r.Name, "install-")
		if install && r.Outcome != adaptertest.Skipped || !install && r.Outcome != adaptertest.Passed {
			t.Errorf("conformance on the empty default state: %s: %s: %s", r.Name, r.Outcome, r.Detail)
		}
	}

	state, err := defaultRoot()
	if err != nil || !strings.HasPrefix(state, cfg) {
		t.Fatalf("defaultRoot = %q, %v; want a directory under %s", state, err, cfg)
	}
	for name, content := range map[string]string{"installed/greeter": "1.0.0\n", "repo/greeter/1.1.0": ""} {
		p := filepath.Join(state, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ups, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{})
	if err != nil || len(ups.Updates) != 1 || ups.Updates[0].AvailableVersion != "1.1.0" {
		t.Fatalf("ListUpdates of the default state = %+v, %v; want greeter 1.1.0", ups, err)
	}
	adaptertest.Run(t, newAdapter, adaptertest.WithInstallID("greeter"))

	// An explicit root that does not exist is still an error.
	t.Setenv("HELLO_ROOT", filepath.Join(cfg, "missing"))
	b, _ := newAdapter(ctx, adapters.Env{Logger: hclog.NewNullLogger()})
	if _, err := b.Inventory(ctx, adapters.InventoryRequest{}); !errors.Is(err, patchcore.ErrNotFound) {
		t.Errorf("Inventory of a missing HELLO_ROOT: %v, want ErrNotFound", err)
	}
}
