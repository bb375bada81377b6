package adapters

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

type sourceKind int

const (
	sourceBinary sourceKind = iota + 1
	sourceBuiltin
	sourceReattach
	sourceInProcess
)

// Source says where a Host finds its adapter. Build one with Binary,
// Builtin, Reattach or InProcess.
type Source struct {
	kind     sourceKind
	name     string
	path     string
	sha256   []byte
	reattach *plugin.ReattachConfig
	factory  Factory
}

// Name is the adapter name the Host logs and reports errors under.
func (s Source) Name() string { return s.name }

// Binary is a plugin binary at path, started as a subprocess. sum is the
// binary's expected SHA-256: the host refuses to start a binary whose digest
// differs (patchcore.ErrChecksumMismatch). Third-party binaries must be given
// a sum; nil skips the check, for binaries built by the caller (tests, a
// developer's `patchctl adapters check`).
func Binary(path string, sum []byte) Source {
	return Source{kind: sourceBinary, name: filepath.Base(path), path: path, sha256: sum}
}

// Builtin is an adapter compiled into the running program, served by
// re-executing os.Executable() (never a PATH lookup) with BuiltinSubcommand
// and name.
func Builtin(name string) Source {
	return Source{kind: sourceBuiltin, name: name}
}

// Reattach connects to an adapter that is already serving, such as one
// started by ServeTest or a plugin being debugged. A reattached adapter that
// exits cannot be restarted by the host.
func Reattach(name string, cfg *plugin.ReattachConfig) Source {
	return Source{kind: sourceReattach, name: name, reattach: cfg}
}

// InProcess calls the adapter f builds directly, without a process or gRPC:
// for embedding and as the baseline in benchmarks. A crash in it is a crash
// of the host.
func InProcess(name string, f Factory) Source {
	return Source{kind: sourceInProcess, name: name, factory: f}
}

// Timeouts bound the calls a Host makes. Zero fields take the defaults.
// Install, Uninstall and Download have no host-side timeout: they end when
// the adapter finishes or the caller's context ends, and a package-manager
// transaction is never interrupted by a timer.
type Timeouts struct {
	// Start bounds launching the plugin and its handshake (default 30 s).
	Start time.Duration
	// Info bounds Info (default 30 s).
	Info time.Duration
	// Read bounds Inventory, ListUpdates and RebootRequired (default 30 min).
	Read time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Start <= 0 {
		t.Start = 30 * time.Second
	}
	if t.Info <= 0 {
		t.Info = 30 * time.Second
	}
	if t.Read <= 0 {
		t.Read = 30 * time.Minute
	}
	return t
}

// HostOption configures a Host.
type HostOption func(*hostConfig)

type hostConfig struct {
	logger      hclog.Logger
	timeouts    Timeouts
	stderrLines int
	env         []string
	runner      command.Runner
}

// WithLogger sets the host's logger; the plugin's log lines are re-emitted
// through it, named after the adapter. The default discards.
func WithLogger(l hclog.Logger) HostOption { return func(c *hostConfig) { c.logger = l } }

// WithTimeouts sets the per-call timeouts.
func WithTimeouts(t Timeouts) HostOption { return func(c *hostConfig) { c.timeouts = t } }

// WithStderrLines sets how many of the plugin's last stderr lines an
// ExitError carries (default 20).
func WithStderrLines(n int) HostOption { return func(c *hostConfig) { c.stderrLines = n } }

// WithPluginEnv adds KEY=VALUE entries to the plugin's environment, on top of
// the host's.
func WithPluginEnv(env ...string) HostOption {
	return func(c *hostConfig) { c.env = append(c.env, env...) }
}

// WithInProcessRunner sets the command runner an InProcess adapter gets
// (default command.OS{}).
func WithInProcessRunner(r command.Runner) HostOption { return func(c *hostConfig) { c.runner = r } }

// ExitError reports an adapter process that crashed, hung or exited during a
// call. It matches patchcore.ErrAdapterExited with errors.Is, and unwraps to
// what was observed (a transport error, or patchcore.ErrTimeout for a hang).
type ExitError struct {
	Adapter string
	Method  string
	Pid     int
	// Stderr holds the process's last stderr lines, oldest first.
	Stderr []string
	Err    error
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "adapter %s", e.Adapter)
	if e.Pid > 0 {
		fmt.Fprintf(&b, " (pid %d)", e.Pid)
	}
	b.WriteString(" exited")
	if e.Method != "" {
		fmt.Fprintf(&b, " during %s", e.Method)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.Stderr) > 0 {
		fmt.Fprintf(&b, "; last stderr: %s", strings.Join(e.Stderr, " | "))
	}
	return b.String()
}

// Is reports whether target is patchcore.ErrAdapterExited.
func (e *ExitError) Is(target error) bool { return target == patchcore.ErrAdapterExited }

// Unwrap returns what was observed.
func (e *ExitError) Unwrap() error { return e.Err }

// Host runs one adapter and implements Adapter, Uninstaller and
// ProgressInstaller by calling it. It starts the adapter on first use,
// detects a crashed or hung plugin process (reported as an *ExitError) and
// starts a new one on the next call. It is safe for concurrent use; Close
// must be called to stop the plugin process.
type Host struct {
	src    Source
	cfg    hostConfig
	logger hclog.Logger

	// closing is closed when Close begins: a start under way gives up.
	closing chan struct{}
	// life ends when Close gives up waiting (its context ended) or has
	// finished: it bounds the drain of retired processes.
	life    context.Context
	endLife context.CancelFunc

	mu       sync.Mutex
	proc     *pluginProc
	starting *startAttempt
	local    Adapter
	closed   bool
	retiring sync.WaitGroup
	retired  []*pluginProc
}

// startAttempt is a plugin start under way, which other callers wait for
// without holding the Host's mutex.
type startAttempt struct {
	done chan struct{}
	err  error
}

// pluginProc is one running plugin process (or reattached server).
type pluginProc struct {
	client   *plugin.Client
	protocol plugin.ClientProtocol
	rpc      *rpcClient
	stderr   *stderrLog
	pid      int
	version  int
	// proc is the process runner (nil for a reattached server).
	proc *procRunner
	// mutating counts the Download, Install and Uninstall calls that may
	// still run in the plugin: a call counts until it returns, and one whose
	// caller gave up keeps counting, since the plugin finishes the
	// transaction. A retired process is drained only when it is not zero.
	mutating atomic.Int32
}

// NewHost returns a Host for src. Nothing starts until the first call or Start.
func NewHost(src Source, opts ...HostOption) *Host {
	cfg := hostConfig{stderrLines: 20}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.timeouts = cfg.timeouts.withDefaults()
	if cfg.logger == nil {
		cfg.logger = hclog.NewNullLogger()
	}
	if cfg.runner == nil {
		cfg.runner = command.OS{}
	}
	life, endLife := context.WithCancel(context.Background())
	return &Host{src: src, cfg: cfg, logger: cfg.logger.Named(src.name), closing: make(chan struct{}), life: life, endLife: endLife}
}

// Start launches the adapter now (calls start it lazily otherwise), so
// start-up errors (checksum, protocol mismatch) surface early.
func (h *Host) Start(ctx context.Context) error {
	_, _, err := h.acquire(ctx)
	return err
}

// Pid returns the plugin process's id, or 0 when none is running (in-process,
// not yet started, or exited).
func (h *Host) Pid() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.proc == nil || h.src.kind == sourceReattach {
		return 0
	}
	return h.proc.pid
}

// NegotiatedVersion returns the protocol version agreed with the running
// plugin, or ProtocolVersion for an in-process adapter, or 0 before start.
func (h *Host) NegotiatedVersion() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.src.kind == sourceInProcess:
		return ProtocolVersion
	case h.proc != nil:
		return h.proc.version
	}
	return 0
}

func (h *Host) closedError() error {
	return fmt.Errorf("adapter %s: host is closed: %w", h.src.name, patchcore.ErrAdapterExited)
}

// acquire returns the adapter to call, starting a plugin process if none
// runs. The mutex is not held while a process starts: concurrent callers
// wait for the same start (each as long as its own context allows), and
// Close neither waits for it nor lets it finish.
func (h *Host) acquire(ctx context.Context) (Adapter, *pluginProc, error) {
	for {
		a, p, s, err := h.acquireLocked(ctx)
		if s == nil || err != nil {
			return a, p, err
		}
		if s.done != nil {
			// Another call is starting the process.
			select {
			case <-s.done:
			case <-ctx.Done():
				return nil, nil, fmt.Errorf("adapter %s: starting: %w", h.src.name, ctx.Err())
			}
			if s.err != nil && !errors.Is(s.err, context.Canceled) && !errors.Is(s.err, context.DeadlineExceeded) {
				return nil, nil, s.err
			}
			continue // started, or the starter gave up: look again
		}
		return h.start(ctx)
	}
}

// acquireLocked looks under the mutex for an adapter to call. It returns a
// start attempt to wait for (done set) or an empty one meaning "start one".
func (h *Host) acquireLocked(ctx context.Context) (Adapter, *pluginProc, *startAttempt, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, nil, h.closedError()
	}
	if h.src.kind == sourceInProcess {
		if h.local == nil {
			a, err := h.src.factory(ctx, Env{Runner: h.cfg.runner, Logger: h.logger})
			if err != nil {
				return nil, nil, nil, fmt.Errorf("adapter %s: building the adapter: %w", h.src.name, err)
			}
			if a == nil {
				return nil, nil, nil, fmt.Errorf("adapter %s: factory returned a nil Adapter: %w", h.src.name, patchcore.ErrInvalidInput)
			}
			h.local = a
		}
		return h.local, nil, nil, nil
	}
	if p := h.proc; p != nil {
		if !p.client.Exited() {
			return p.rpc, p, nil, nil
		}
		h.proc = nil
		go p.client.Kill() // collects its goroutines; the process is gone
		if h.src.kind == sourceReattach {
			return nil, nil, nil, &ExitError{Adapter: h.src.name, Pid: p.pid, Stderr: p.stderr.Lines(),
				Err: errors.New("the reattached adapter is gone and cannot be restarted")}
		}
		h.logger.Warn("adapter process had exited; starting a new one", "pid", p.pid)
	}
	if h.starting != nil {
		return nil, nil, h.starting, nil
	}
	h.starting = &startAttempt{done: make(chan struct{})}
	return nil, nil, &startAttempt{}, nil
}

// start launches a process for the attempt acquireLocked registered.
func (h *Host) start(ctx context.Context) (Adapter, *pluginProc, error) {
	p, err := h.launch(ctx)
	h.mu.Lock()
	s := h.starting
	h.starting = nil
	if err == nil && h.closed {
		err = h.closedError()
		go p.client.Kill()
	}
	if err == nil {
		h.proc = p
	}
	s.err = err
	close(s.done)
	h.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return p.rpc, p, nil
}

// launch starts the plugin process and performs the handshake.
func (h *Host) launch(ctx context.Context) (*pluginProc, error) {
	stderr := newStderrLog(h.logger, h.cfg.stderrLines)
	// proc is the process runner, once go-plugin has asked for it; killing
	// it ends a start that will not finish.
	var (
		procMu sync.Mutex
		proc   *procRunner
	)
	killProc := func() {
		procMu.Lock()
		r := proc
		procMu.Unlock()
		if r != nil {
			r.kill()
		}
	}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: hostPluginSets(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           quietNamed{h.logger.Named("go-plugin")},
		Stderr:           stderr,
		SyncStdout:       &stdoutLog{logger: h.logger},
		SyncStderr:       stderr,
		StartTimeout:     h.cfg.timeouts.Start,
	}
	switch h.src.kind {
	case sourceReattach:
		if h.src.reattach == nil {
			return nil, fmt.Errorf("adapter %s: Reattach without a config: %w", h.src.name, patchcore.ErrInvalidInput)
		}
		set, ok := hostPluginSets()[h.src.reattach.ProtocolVersion]
		if !ok {
			return nil, fmt.Errorf("adapter %s speaks plugin protocol version %d, this host speaks version %s: %w",
				h.src.name, h.src.reattach.ProtocolVersion, joinInts(hostProtocols()), patchcore.ErrProtocolMismatch)
		}
		cc.Reattach = h.src.reattach
		cc.Plugins = set
		cc.VersionedPlugins = nil
	case sourceBinary, sourceBuiltin:
		cmd, err := h.command()
		if err != nil {
			return nil, err
		}
		tlsConfig, hostCert, err := newHostTLS()
		if err != nil {
			return nil, fmt.Errorf("adapter %s: %w", h.src.name, err)
		}
		// go-plugin's AutoMTLS protocol with P-256 keys, each side its
		// own: only certificates travel (see mtls.go).
		cmd.Env = append(cmd.Env, clientCertEnv+"="+string(hostCert))
		cc.Cmd = cmd
		cc.SkipHostEnv = true // command put it first
		cc.TLSConfig = tlsConfig
	default:
		return nil, fmt.Errorf("adapter %s: empty Source: %w", h.src.name, patchcore.ErrInvalidInput)
	}

	if h.src.kind != sourceReattach {
		cmd := cc.Cmd
		cc.Cmd = nil
		cc.RunnerFunc = func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			r, err := newProcRunner(cmd, spec, h.src.sha256)
			if err == nil {
				procMu.Lock()
				proc = r
				procMu.Unlock()
			}
			return r, err
		}
	}
	client := plugin.NewClient(cc)
	type started struct {
		protocol plugin.ClientProtocol
		rpc      *rpcClient
		err      error
	}
	done := make(chan started, 1)
	go func() {
		var s started
		s.protocol, s.err = client.Client()
		if s.err == nil {
			var raw any
			raw, s.err = s.protocol.Dispense(pluginName)
			if s.err == nil {
				var ok bool
				if s.rpc, ok = raw.(*rpcClient); !ok {
					s.err = fmt.Errorf("plugin dispensed %T, not an adapter client", raw)
				}
			}
		}
		done <- s
	}()
	var s started
	select {
	case s = <-done:
	case <-ctx.Done():
		killProc()
		go func() { <-done; client.Kill() }()
		return nil, fmt.Errorf("adapter %s: starting: %w", h.src.name, ctx.Err())
	case <-h.closing:
		killProc()
		go func() { <-done; client.Kill() }()
		return nil, &ExitError{Adapter: h.src.name, Method: "start", Stderr: stderr.Lines(),
			Err: errors.New("the host was closed during the start")}
	}
	if s.err != nil {
		client.Kill() // also waits for the stderr reader, so stderr is complete
		return nil, h.startError(s.err, stderr)
	}
	p := &pluginProc{client: client, protocol: s.protocol, rpc: s.rpc, stderr: stderr, version: client.NegotiatedVersion()}
	if rc := client.ReattachConfig(); rc != nil {
		p.pid = rc.Pid
	}
	procMu.Lock()
	if proc != nil {
		p.proc, p.pid = proc, proc.cmd.Process.Pid
	}
	procMu.Unlock()
	h.logger.Debug("adapter started", "pid", p.pid, "protocol", p.version)
	return p, nil
}

// command builds the plugin's command line.
func (h *Host) command() (*exec.Cmd, error) {
	var cmd *exec.Cmd
	switch h.src.kind {
	case sourceBinary:
		path := h.src.path
		if !strings.ContainsRune(path, os.PathSeparator) && !strings.ContainsRune(path, '/') {
			path = "." + string(os.PathSeparator) + path // a bare name is a file here, never a PATH lookup
		}
		cmd = exec.Command(path)
	case sourceBuiltin:
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("adapter %s: locating this program to re-execute it: %w", h.src.name, err)
		}
		cmd = exec.Command(exe, BuiltinSubcommand, h.src.name)
	}
	// The host's environment first, so that what is added here and in
	// launch wins over a variable of the same name the host itself was
	// given (launch sets SkipHostEnv so go-plugin does not append it again).
	level := h.cfg.logger.GetLevel()
	cmd.Env = append(append(os.Environ(), h.cfg.env...), logLevelEnv+"="+level.String())
	setParentDeathSignal(cmd)
	return cmd, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

var incompatibleVersion = regexp.MustCompile(`Plugin version: (\d+), Client versions: \[([\d ]*)\]`)

// startError explains why a plugin did not start.
func (h *Host) startError(err error, stderr *stderrLog) error {
	name := h.src.name
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		got := "unreadable"
		if b, rerr := os.ReadFile(h.src.path); rerr == nil {
			sum := sha256.Sum256(b)
			got = hex.EncodeToString(sum[:])
		}
		return fmt.Errorf("adapter %s: refusing to start %s: its SHA-256 is %s, expected %s: %w",
			name, h.src.path, got, hex.EncodeToString(h.src.sha256), patchcore.ErrChecksumMismatch)
	case strings.Contains(msg, "incompatible API version"):
		if m := incompatibleVersion.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("adapter %s speaks plugin protocol version %s, this host speaks version %s: %w",
				name, m[1], strings.ReplaceAll(strings.TrimSpace(m[2]), " ", ", "), patchcore.ErrProtocolMismatch)
		}
		return fmt.Errorf("adapter %s: %s: %w", name, msg, patchcore.ErrProtocolMismatch)
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		line := strings.TrimPrefix(strings.SplitN(msg, "\n", 2)[0], "Unrecognized remote plugin message: ")
		if line == "" && strings.Contains(msg, "Failed to read any lines") {
			// stdout closed, with nothing on it, before go-plugin saw the exit.
			return &ExitError{Adapter: name, Method: "start", Stderr: stderr.Lines(),
				Err: errors.New("it exited before the plugin handshake")}
		}
		return &ExitError{Adapter: name, Method: "start", Stderr: stderr.Lines(),
			Err: fmt.Errorf("it wrote %q to stdout before the plugin handshake (adapters must never write to stdout; log to stderr through hclog)", line)}
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return &ExitError{Adapter: name, Method: "start", Stderr: stderr.Lines(),
			Err: fmt.Errorf("no handshake within %s: %w", h.cfg.timeouts.Start, patchcore.ErrTimeout)}
	case strings.Contains(msg, "plugin exited before we could connect"):
		return &ExitError{Adapter: name, Method: "start", Stderr: stderr.Lines(), Err: err}
	}
	var pe *os.PathError
	if errors.As(err, &pe) || errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("adapter %s: starting %s: %w", name, h.src.path, err)
	}
	return &ExitError{Adapter: name, Method: "start", Stderr: stderr.Lines(), Err: err}
}

// callKind says how the host treats a call's time and failures.
type callKind int

const (
	callInfo callKind = iota
	callRead
	callMutating
)

// do runs fn against the adapter with the call's timeout and turns failures
// of the plugin process into *ExitError, retiring the process so that the
// next call starts a new one.
func (h *Host) do(ctx context.Context, method string, kind callKind, fn func(context.Context, Adapter) error) error {
	a, p, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	var timeout time.Duration
	switch kind {
	case callInfo:
		timeout = h.cfg.timeouts.Info
	case callRead:
		timeout = h.cfg.timeouts.Read
	case callMutating:
		if p != nil {
			p.mutating.Add(1)
			defer func() {
				// A call the caller gave up on may still run in the plugin.
				if ctx.Err() == nil {
					p.mutating.Add(-1)
				}
			}()
		}
	}
	cctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		cctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	err = fn(cctx, a)
	if err == nil {
		return nil
	}
	var te *transportError
	if p == nil || !errors.As(err, &te) {
		if ctx.Err() == nil && cctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("adapter %s: %s did not finish within %s: %w", h.src.name, method, timeout, errors.Join(patchcore.ErrTimeout, err))
		}
		return fmt.Errorf("adapter %s: %s: %w", h.src.name, method, err)
	}
	if code := status.Code(te.err); code == codes.DeadlineExceeded || code == codes.Canceled {
		// gRPC's own deadline timer can fire before the context's does.
		select {
		case <-cctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("adapter %s: %s: %w", h.src.name, method, ctx.Err())
	}
	if cctx.Err() != nil {
		h.logger.Error("adapter did not answer in time; stopping it", "method", method, "timeout", timeout, "pid", p.pid)
		h.retire(p)
		return &ExitError{Adapter: h.src.name, Method: method, Pid: p.pid, Stderr: p.stderr.Lines(),
			Err: fmt.Errorf("hung: no answer within %s: %w", timeout, patchcore.ErrTimeout)}
	}
	// The connection failed. Give the process a moment to be seen as exited,
	// so its last stderr lines are all in.
	for deadline := time.Now().Add(2 * time.Second); !p.client.Exited() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	h.logger.Error("adapter process failed during a call", "method", method, "pid", p.pid, "error", te.err)
	h.retire(p)
	return &ExitError{Adapter: h.src.name, Method: method, Pid: p.pid, Stderr: p.stderr.Lines(), Err: te.err}
}

// retire detaches p so the next call starts a new process, and stops p in
// the background. A process that may still run an install of ours
// (mutating) is drained first, for as long as the host lives (Close bounds
// it with its context); any other is killed at once: it is hung or broken,
// and asking it to drain could wait for ever.
func (h *Host) retire(p *pluginProc) {
	h.mu.Lock()
	if h.proc == p {
		h.proc = nil
	}
	h.retired = append(h.retired, p)
	h.retiring.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.retiring.Done()
		if p.mutating.Load() == 0 {
			p.kill()
			return
		}
		_ = h.stop(h.life, p)
	}()
}

// stop drains p (lets running installs finish) and then ends it.
func (h *Host) stop(ctx context.Context, p *pluginProc) error {
	var err error
	if !p.client.Exited() {
		// Ask even when no call of ours is running: a caller may have given
		// up on an install that the plugin is still finishing. Only ctx
		// bounds the wait; a package-manager transaction may take long.
		running, derr := p.rpc.drain(ctx)
		switch {
		case derr != nil && ctx.Err() != nil:
			err = fmt.Errorf("adapter %s: stopping while operations may still run: %w", h.src.name, ctx.Err())
			h.logger.Error("killing adapter before its running operations finished", "pid", p.pid)
		case derr == nil && running > 0:
			h.logger.Info("adapter finished its running operations", "count", running)
		}
	}
	if h.src.kind == sourceReattach {
		if cerr := p.protocol.Close(); cerr != nil && err == nil && !p.client.Exited() {
			err = fmt.Errorf("adapter %s: closing: %w", h.src.name, cerr)
		}
	}
	if err != nil {
		p.kill()
	}
	p.client.Kill()
	return err
}

// kill ends the process at once. go-plugin's Kill alone first asks the
// plugin to shut down, which a frozen process never answers.
func (p *pluginProc) kill() {
	if p.proc != nil {
		p.proc.kill()
	}
	p.client.Kill()
}

// Close stops the adapter: it asks the plugin to finish running installs
// (Drain), waits for them as long as ctx allows, then ends the process.
// When ctx ends first the process is killed and Close says so. Calls after
// Close fail with patchcore.ErrAdapterExited.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	p := h.proc
	h.proc = nil
	close(h.closing)
	h.mu.Unlock()
	defer h.endLife()
	var errs []error
	if p != nil {
		errs = append(errs, h.stop(ctx, p))
	}
	done := make(chan struct{})
	go func() { h.retiring.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		h.endLife()
		h.mu.Lock()
		retired := h.retired
		h.mu.Unlock()
		for _, r := range retired {
			r.kill()
		}
		<-done
		errs = append(errs, fmt.Errorf("adapter %s: waiting for stopped processes: %w", h.src.name, ctx.Err()))
	}
	if c, ok := h.local.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Info implements Adapter.
func (h *Host) Info(ctx context.Context, req InfoRequest) (r InfoResponse, err error) {
	err = h.do(ctx, "Info", callInfo, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.Info(ctx, req)
		return err
	})
	return r, err
}

// Inventory implements Adapter.
func (h *Host) Inventory(ctx context.Context, req InventoryRequest) (r InventoryResponse, err error) {
	err = h.do(ctx, "Inventory", callRead, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.Inventory(ctx, req)
		return err
	})
	return r, err
}

// ListUpdates implements Adapter.
func (h *Host) ListUpdates(ctx context.Context, req ListUpdatesRequest) (r ListUpdatesResponse, err error) {
	err = h.do(ctx, "ListUpdates", callRead, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.ListUpdates(ctx, req)
		return err
	})
	return r, err
}

// Download implements Adapter.
func (h *Host) Download(ctx context.Context, req DownloadRequest) (r DownloadResponse, err error) {
	err = h.do(ctx, "Download", callMutating, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.Download(ctx, req)
		return err
	})
	return r, err
}

// Install implements Adapter. Cancelling ctx returns at once, but the
// plugin lets a started package-manager transaction finish; Close waits for it.
func (h *Host) Install(ctx context.Context, req InstallRequest) (r InstallResponse, err error) {
	err = h.do(ctx, "Install", callMutating, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.Install(ctx, req)
		return err
	})
	return r, err
}

// InstallWithProgress implements ProgressInstaller. An adapter without the
// progress capability installs without reporting.
func (h *Host) InstallWithProgress(ctx context.Context, req InstallRequest, report func(Progress)) (r InstallResponse, err error) {
	err = h.do(ctx, "Install", callMutating, func(ctx context.Context, a Adapter) (err error) {
		if pi, ok := a.(ProgressInstaller); ok {
			r, err = pi.InstallWithProgress(ctx, req, report)
		} else {
			r, err = a.Install(ctx, req)
		}
		return err
	})
	return r, err
}

// RebootRequired implements Adapter.
func (h *Host) RebootRequired(ctx context.Context, req RebootRequiredRequest) (r RebootRequiredResponse, err error) {
	err = h.do(ctx, "RebootRequired", callRead, func(ctx context.Context, a Adapter) (err error) {
		r, err = a.RebootRequired(ctx, req)
		return err
	})
	return r, err
}

// Uninstall implements Uninstaller; an adapter without it fails with
// patchcore.ErrUnsupported.
func (h *Host) Uninstall(ctx context.Context, req UninstallRequest) (r UninstallResponse, err error) {
	err = h.do(ctx, "Uninstall", callMutating, func(ctx context.Context, a Adapter) (err error) {
		u, ok := a.(Uninstaller)
		if !ok {
			return fmt.Errorf("adapter does not implement Uninstall: %w", patchcore.ErrUnsupported)
		}
		r, err = u.Uninstall(ctx, req)
		return err
	})
	return r, err
}

var (
	_ Adapter           = (*Host)(nil)
	_ Uninstaller       = (*Host)(nil)
	_ ProgressInstaller = (*Host)(nil)
)
