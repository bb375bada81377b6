//go:build unix

package adapters

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/patchcore"
)

// syncBuffer is a bytes.Buffer safe for the host's logging goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) {
			return b[i+2] != 'Z'
		}
		return true
	} else if _, serr := os.Stat("/proc/self"); serr == nil {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// processState is the state letter /proc gives pid (R, S, T, Z, ...), or 0.
func processState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if i := strings.LastIndexByte(string(b), ')'); err == nil && i > 0 && i+2 < len(b) {
		return b[i+2]
	}
	return 0
}

// waitGone fails the test if pid is still alive after d.
func waitGone(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !processAlive(pid) {
			return
		}
	}
	t.Errorf("plugin process %d still alive %s after it should have ended", pid, d)
}

// newTestHost starts a host for the named test plugin and closes it (and
// checks its process is gone) when the test ends.
func newTestHost(t *testing.T, src Source, opts ...HostOption) (*Host, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	opts = append([]HostOption{WithLogger(hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}))}, opts...)
	h := NewHost(src, opts...)
	t.Cleanup(func() {
		pid := h.Pid()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
		if pid != 0 {
			waitGone(t, pid, 3*time.Second)
		}
	})
	return h, logs
}

func TestHostRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, logs := newTestHost(t, Builtin("fake"), WithPluginEnv(envTestPackages+"=5000"))
	info, err := h.Info(ctx, InfoRequest{})
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name != "fake" || info.ProtocolVersion != 1 || info.VersionScheme != "deb" || len(info.Capabilities) != 1 {
		t.Errorf("Info = %+v", info)
	}
	if h.NegotiatedVersion() != 1 || h.Pid() == 0 || h.Pid() == os.Getpid() {
		t.Errorf("NegotiatedVersion = %d, Pid = %d", h.NegotiatedVersion(), h.Pid())
	}
	inv, err := h.Inventory(ctx, InventoryRequest{})
	if err != nil {
		t.Fatalf("Inventory: %v", err)
	}
	want := newFake(5000, "")
	if len(inv.Inventory.Packages) != 5000 || inv.Inventory.Packages[4999] != want.pkgs[4999] || inv.Inventory.Packages[0] != want.pkgs[0] {
		t.Errorf("Inventory: %d packages, last %+v", len(inv.Inventory.Packages), inv.Inventory.Packages[len(inv.Inventory.Packages)-1])
	}
	if !inv.Inventory.PendingReboot || inv.Inventory.Platform.Codename != "bookworm" ||
		inv.Inventory.Duration != 42*time.Millisecond || inv.Inventory.CollectedAt.Year() != 2026 {
		t.Errorf("Inventory header = %+v", inv.Inventory.Platform)
	}
	ups, err := h.ListUpdates(ctx, ListUpdatesRequest{})
	if err != nil {
		t.Fatalf("ListUpdates: %v", err)
	}
	wantUps, _ := want.ListUpdates(ctx, ListUpdatesRequest{})
	if len(ups.Updates) != 1 || ups.Updates[0].Severity != wantUps.Updates[0].Severity ||
		!ups.Updates[0].Issued.Equal(wantUps.Updates[0].Issued) || ups.Updates[0].CVEs[0] != "CVE-2024-0727" {
		t.Errorf("ListUpdates = %+v", ups)
	}
	var progress []Progress
	res, err := h.InstallWithProgress(ctx, InstallRequest{IDs: []string{"openssl", "curl"}}, func(p Progress) { progress = append(progress, p) })
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if len(res.Items) != 2 || res.Items[1].ID != "curl" || res.Items[1].Status != ItemInstalled || len(progress) != 2 {
		t.Errorf("Install = %+v, progress %+v", res, progress)
	}
	// The plugin's hclog lines come back through the host's logger, named after the adapter.
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(logs.String(), "[INFO]  fake: installing: package=curl"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("plugin log line not re-emitted under the adapter's name; logs:\n%s", logs)
			break
		}
	}
	rr, err := h.RebootRequired(ctx, RebootRequiredRequest{})
	if err != nil || !rr.Required {
		t.Errorf("RebootRequired = %+v, %v", rr, err)
	}
	if _, err := h.Uninstall(ctx, UninstallRequest{IDs: []string{"x"}}); !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("Uninstall error = %v, want ErrUnsupported", err)
	}
	if _, err := h.Inventory(ctx, InventoryRequest{Target: Target{Root: "/stdout"}}); err != nil {
		t.Errorf("Inventory after a stray stdout print: %v", err)
	}
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(logs.String(), "a stray print to stdout"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("host did not log the plugin's stdout output; logs:\n%s", logs)
			break
		}
	}
}

func TestHostErrorsKeepSentinels(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, _ := newTestHost(t, Builtin("fake"))
	tests := []struct {
		root string
		want error
	}{
		{"/locked", patchcore.ErrPackageManagerLocked},
		{"/permission", patchcore.ErrPermission},
	}
	for _, tt := range tests {
		_, err := h.Download(ctx, DownloadRequest{Target: Target{Root: tt.root}, IDs: []string{"a"}})
		if !errors.Is(err, tt.want) {
			t.Errorf("Download(%s) error = %v, want errors.Is %v", tt.root, err, tt.want)
		}
		var re *RemoteError
		if !errors.As(err, &re) || errors.Is(err, patchcore.ErrAdapterExited) {
			t.Errorf("Download(%s) error = %#v, want a *RemoteError and a live adapter", tt.root, err)
		}
	}
	ctx2, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := h.Inventory(ctx2, InventoryRequest{Target: Target{Root: "/slow"}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("Inventory with a deadline: %v after %s, want DeadlineExceeded promptly", err, time.Since(start))
	}
}

func TestHostProtocolMismatch(t *testing.T) {
	t.Parallel()
	h, _ := newTestHost(t, Builtin("v2"))
	err := h.Start(context.Background())
	if !errors.Is(err, patchcore.ErrProtocolMismatch) {
		t.Fatalf("Start error = %v, want ErrProtocolMismatch", err)
	}
	for _, want := range []string{"protocol version 2", "speaks version 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestHostStartFailures(t *testing.T) {
	t.Parallel()
	// Only "silent" gets a short start timeout: the others must fail for
	// their own reason, however slowly a loaded -race run starts them.
	tests := []struct {
		plugin string
		start  time.Duration
		want   []string
		is     error
	}{
		{"stdout-early", 0, []string{"hello from a plugin that prints before serving", "must never write to stdout"}, patchcore.ErrAdapterExited},
		{"factory-fails", 0, []string{"exited during start", "opening /var/lib/fake/status: permission denied"}, patchcore.ErrAdapterExited},
		{"silent", 500 * time.Millisecond, []string{"no handshake within 500ms"}, patchcore.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.plugin, func(t *testing.T) {
			t.Parallel()
			h, _ := newTestHost(t, Builtin(tt.plugin), WithTimeouts(Timeouts{Start: tt.start}))
			err := h.Start(context.Background())
			if !errors.Is(err, tt.is) {
				t.Fatalf("Start error = %v, want errors.Is %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.plugin != "stdout-early" && strings.Contains(err.Error(), "to stdout") {
				t.Errorf("error %q blames stdout for a plugin that wrote nothing there", err)
			}
			// The host keeps working: the next call tries again and fails the same way, without hanging.
			if err2 := h.Start(context.Background()); !errors.Is(err2, tt.is) {
				t.Errorf("second Start error = %v", err2)
			}
		})
	}
	// A factory that prints is harmless: Serve points stdout at stderr meanwhile.
	h, logs := newTestHost(t, Builtin("stdout-in-factory"))
	if _, err := h.Info(context.Background(), InfoRequest{}); err != nil {
		t.Fatalf("Info from a plugin whose factory prints: %v", err)
	}
	if !strings.Contains(logs.String(), "printed by the factory") {
		t.Errorf("the factory's print was not re-emitted from stderr; logs:\n%s", logs)
	}
}

func TestHostCrashMidCall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, _ := newTestHost(t, Builtin("fake"))
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := h.Pid()
	_, err := h.Inventory(ctx, InventoryRequest{Target: Target{Root: "/crash"}})
	var ee *ExitError
	if !errors.Is(err, patchcore.ErrAdapterExited) || !errors.As(err, &ee) {
		t.Fatalf("Inventory error = %v, want an *ExitError", err)
	}
	if ee.Pid != pid || ee.Method != "Inventory" || !strings.Contains(err.Error(), "segmentation fault in libfake") {
		t.Errorf("ExitError = %v (pid %d, want %d)", err, ee.Pid, pid)
	}
	waitGone(t, pid, 3*time.Second)
	// The next call starts a new process.
	if _, err := h.Inventory(ctx, InventoryRequest{}); err != nil {
		t.Fatalf("Inventory after a crash: %v", err)
	}
	if h.Pid() == pid || h.Pid() == 0 {
		t.Errorf("pid after restart = %d, crashed one was %d", h.Pid(), pid)
	}
}

func TestHostHungPlugin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, _ := newTestHost(t, Builtin("fake"), WithTimeouts(Timeouts{Read: 300 * time.Millisecond}))
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := h.Pid()
	start := time.Now()
	_, err := h.ListUpdates(ctx, ListUpdatesRequest{Target: Target{Root: "/hang"}})
	if !errors.Is(err, patchcore.ErrAdapterExited) || !errors.Is(err, patchcore.ErrTimeout) {
		t.Fatalf("ListUpdates error = %v, want ErrAdapterExited and ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hang detected after %s", d)
	}
	waitGone(t, pid, 5*time.Second)
	if _, err := h.ListUpdates(ctx, ListUpdatesRequest{}); err != nil {
		t.Fatalf("ListUpdates after a hang: %v", err)
	}
}

func TestHostChecksum(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	wrong := sha256.Sum256([]byte("not the plugin"))

	bad, _ := newTestHost(t, Binary(exe, wrong[:]), WithPluginEnv(envTestPlugin+"=fake"))
	err = bad.Start(context.Background())
	if !errors.Is(err, patchcore.ErrChecksumMismatch) {
		t.Fatalf("Start with a wrong checksum: %v, want ErrChecksumMismatch", err)
	}
	if bad.Pid() != 0 || !strings.Contains(err.Error(), "refusing to start") {
		t.Errorf("error = %v, pid = %d", err, bad.Pid())
	}
	good, _ := newTestHost(t, Binary(exe, sum[:]), WithPluginEnv(envTestPlugin+"=fake"))
	if _, err := good.Info(context.Background(), InfoRequest{}); err != nil {
		t.Fatalf("Info with the right checksum: %v", err)
	}
}

func TestHostDrainsInstallOnClose(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "installed")
	h := NewHost(Builtin("fake"), WithPluginEnv(envTestMarker+"="+marker))
	ctx := context.Background()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := h.Pid()
	ictx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := h.Install(ictx, InstallRequest{Target: Target{Root: "/slowinstall"}, IDs: []string{"openssl"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Install with a short deadline: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("install finished before the caller gave up; the test proves nothing")
	}
	// The install ends only once Close has run longer than the 2 s that
	// go-plugin's Kill gives a plugin to exit: Close must wait for it.
	go func() {
		time.Sleep(2500 * time.Millisecond)
		_ = os.WriteFile(marker+".release", nil, 0o600)
	}()
	if err := h.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "finished" {
		t.Errorf("Close did not let the running install finish: %v", err)
	}
	waitGone(t, pid, 3*time.Second)
	if _, err := h.Info(ctx, InfoRequest{}); !errors.Is(err, patchcore.ErrAdapterExited) {
		t.Errorf("Info after Close: %v", err)
	}
}

func TestNoOrphanWhenHostDies(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envTestHost+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("reading the plugin pid from the host: %v (stderr: %s)", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || !processAlive(pid) {
		t.Fatalf("host printed %q: plugin pid not alive (%v)", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: the host gets no chance to clean up
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pid, 5*time.Second)
}

// readPids waits for the test plugin to write its pids to path.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("pid file %s: %q", path, b)
			}
			pids = append(pids, pid)
		}
		return pids
	}
	t.Fatalf("the plugin wrote no pid to %s", path)
	return nil
}

// A program that is not a plugin (it prints to stdout, here without a
// newline, and keeps running, with a helper holding its stdout) is refused
// and stopped, helper and all, within two seconds: not after the start
// timeout, nor when the helper ends.
func TestHostRefusesNonPluginAtOnce(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "pid")
	h, _ := newTestHost(t, Builtin("not-a-plugin"), WithPluginEnv(envTestMarker+"="+marker))
	start := time.Now()
	err := h.Start(context.Background())
	took := time.Since(start)
	if !errors.Is(err, patchcore.ErrAdapterExited) || !strings.Contains(err.Error(), "usage: frobnicate") {
		t.Fatalf("Start error = %v, want an ExitError quoting the stdout line", err)
	}
	if took > 2*time.Second {
		t.Errorf("refused after %s, want within 2s", took)
	}
	for _, pid := range readPids(t, marker) {
		waitGone(t, pid, max(2*time.Second-took, 100*time.Millisecond))
	}
}

// Close does not wait behind a start that hangs (a plugin that never
// performs the handshake): it returns promptly, the start fails, and the
// half-started process is stopped.
func TestHostCloseDuringHungStart(t *testing.T) {
	t.Parallel()
	h := NewHost(Builtin("silent"), WithTimeouts(Timeouts{Start: 20 * time.Second}))
	started := make(chan error, 1)
	go func() { started <- h.Start(context.Background()) }()
	time.Sleep(300 * time.Millisecond) // the start is under way
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	begin := time.Now()
	if err := h.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Close took %s behind a hung start", d)
	}
	select {
	case err := <-started:
		if !errors.Is(err, patchcore.ErrAdapterExited) {
			t.Errorf("Start interrupted by Close: %v, want ErrAdapterExited", err)
		}
	case <-time.After(3 * time.Second):
		t.Errorf("Start still running 3s after Close")
	}
	// Other calls are not blocked behind the start either.
	if h.Pid() != 0 {
		t.Errorf("Pid after Close = %d", h.Pid())
	}
}

// A retired process that no install of ours may still run in is killed at
// once, not asked to drain: a frozen plugin (here stopped with SIGSTOP)
// would never answer the drain.
func TestHostKillsFrozenPlugin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, _ := newTestHost(t, Builtin("fake"), WithTimeouts(Timeouts{Read: 300 * time.Millisecond}))
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := h.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/proc/self"); err == nil { // wait until the kernel shows it stopped
		for deadline := time.Now().Add(2 * time.Second); processState(pid) != 'T' && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		}
		if st := processState(pid); st != 'T' {
			t.Fatalf("plugin %d is in state %q after SIGSTOP, want stopped", pid, st)
		}
	}
	_, err := h.ListUpdates(ctx, ListUpdatesRequest{})
	if !errors.Is(err, patchcore.ErrAdapterExited) || !errors.Is(err, patchcore.ErrTimeout) {
		t.Fatalf("ListUpdates of a frozen plugin: %v, want ErrAdapterExited and ErrTimeout", err)
	}
	waitGone(t, pid, 3*time.Second)
}

// A retired process in which an install of ours may still run is drained:
// the install, which its caller gave up on, finishes before the process is
// stopped, although the read that found the process hung has long returned.
func TestHostDrainsRetiredInstall(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "installed")
	h, _ := newTestHost(t, Builtin("fake"), WithPluginEnv(envTestMarker+"="+marker), WithTimeouts(Timeouts{Read: 300 * time.Millisecond}))
	ctx := context.Background()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := h.Pid()
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	installed := make(chan error, 1)
	go func() {
		_, err := h.Install(ictx, InstallRequest{Target: Target{Root: "/slowinstall"}, IDs: []string{"openssl"}})
		installed <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-installed; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Install: %v", err)
	}
	if _, err := h.ListUpdates(ctx, ListUpdatesRequest{Target: Target{Root: "/hang"}}); !errors.Is(err, patchcore.ErrTimeout) {
		t.Fatalf("ListUpdates /hang: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if !processAlive(pid) {
		t.Fatal("the retired process was stopped while an install ran in it")
	}
	_ = os.WriteFile(marker+".release", nil, 0o600)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(marker); err == nil && string(b) == "finished" {
			break
		}
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "finished" {
		t.Errorf("the install did not finish: %v", err)
	}
	waitGone(t, pid, 3*time.Second)
}
