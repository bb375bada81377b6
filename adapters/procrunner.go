package adapters

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts a plugin process for go-plugin (its RunnerFunc) in
// place of go-plugin's own runner, for three things that one does not do:
//   - Kill ends the plugin's whole process group (on Unix) and closes the
//     host's ends of its pipes, so a helper the plugin forked cannot keep the
//     host waiting on a pipe it inherited;
//   - the first stdout line is checked as it arrives: output that cannot be
//     a handshake ("1|1|unix|…") ends the line at once, without waiting for
//     a newline or the start timeout, and the process is killed;
//   - it can be killed while go-plugin is still waiting for the handshake
//     (go-plugin's Client.Kill waits for the start to finish).
type procRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
	path   string

	mu     sync.Mutex
	pid    int
	killed bool
}

var _ runner.Runner = (*procRunner)(nil)

// newProcRunner builds the runner for cmd, the plugin command the host
// prepared, with go-plugin's handshake environment from spec added. A
// non-nil sum is the binary's expected SHA-256.
func newProcRunner(cmd *exec.Cmd, spec *exec.Cmd, sum []byte) (*procRunner, error) {
	if sum != nil {
		b, err := os.ReadFile(cmd.Path)
		if err != nil {
			return nil, fmt.Errorf("verifying the checksum: %w", err)
		}
		got := sha256.Sum256(b)
		if !bytes.Equal(got[:], sum) {
			return nil, plugin.ErrChecksumsDoNotMatch
		}
	}
	cmd.Env = append(cmd.Env, spec.Env...)
	cmd.Stdin = spec.Stdin
	setProcessGroup(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	r := &procRunner{cmd: cmd, stderr: stderr, path: cmd.Path}
	r.stdout = &handshakeReader{r: stdout, onForeign: r.kill}
	return r, nil
}

// Start implements runner.Runner.
func (r *procRunner) Start(context.Context) error {
	if err := r.cmd.Start(); err != nil {
		return err
	}
	r.mu.Lock()
	r.pid = r.cmd.Process.Pid
	r.mu.Unlock()
	return nil
}

// kill ends the process group and closes the pipes; it may run any number
// of times, from any goroutine.
func (r *procRunner) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid == 0 || r.killed {
		return
	}
	r.killed = true
	killProcessGroup(r.cmd.Process)
	_ = r.stdout.Close()
	_ = r.stderr.Close()
}

// Wait implements runner.Runner.
func (r *procRunner) Wait(context.Context) error { return r.cmd.Wait() }

// Kill implements runner.Runner.
func (r *procRunner) Kill(context.Context) error {
	r.kill()
	return nil
}

// Diagnose implements runner.Runner.
func (r *procRunner) Diagnose(context.Context) string { return "" }

// Stdout implements runner.Runner.
func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }

// Stderr implements runner.Runner.
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }

// Name implements runner.Runner.
func (r *procRunner) Name() string { return r.path }

// ID implements runner.Runner.
func (r *procRunner) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid == 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

// PluginToHost implements runner.Runner: host and plugin share addresses.
func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

// HostToPlugin implements runner.Runner.
func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

// handshakeReader passes the plugin's stdout through, watching its first
// line: as soon as what arrived cannot begin a go-plugin handshake line
// (decimal core protocol version, then "|"), it ends the line with a
// newline, so go-plugin reports the unrecognised message at once, and
// calls onForeign.
type handshakeReader struct {
	r         io.ReadCloser
	onForeign func()

	mu      sync.Mutex
	first   []byte // the first line so far
	decided bool
	pending []byte // a synthetic newline still to deliver
}

func (h *handshakeReader) Read(p []byte) (int, error) {
	h.mu.Lock()
	if len(h.pending) > 0 {
		n := copy(p, h.pending)
		h.pending = h.pending[n:]
		h.mu.Unlock()
		return n, nil
	}
	decided := h.decided
	h.mu.Unlock()
	n, err := h.r.Read(p)
	if decided || n == 0 {
		return n, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	line := p[:n]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
		h.decided = true
	}
	h.first = append(h.first, line...)
	if !couldBeHandshake(h.first) {
		h.decided = true
		if !bytes.Contains(p[:n], []byte{'\n'}) {
			h.pending = []byte{'\n'}
		}
		go h.onForeign() // after go-plugin has read the line
	}
	return n, err
}

func (h *handshakeReader) Close() error { return h.r.Close() }

// couldBeHandshake reports whether b can begin a handshake line: digits,
// then "|" once at least one digit came.
func couldBeHandshake(b []byte) bool {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	switch {
	case i == len(b):
		return true
	case i == 0:
		return false
	}
	return b[i] == '|'
}
