package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/patchcore/sdk/internal/samples"
)

// TestHelpGoesToStdout: help that was asked for is output (stdout, exit 0);
// a wrong invocation is an error (one line on stderr, exit 2).
func TestHelpGoesToStdout(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{args: []string{"help"}, wantStdout: "usage: patchctl <command>"},
		{args: []string{"-h"}, wantStdout: "commands:"},
		{args: []string{"--help"}, wantStdout: "A FILE argument of - reads standard input."},
		{args: []string{"help", "scan"}, wantStdout: "--sha256 HEX"},
		{args: []string{"scan", "-h"}, wantStdout: "usage: patchctl scan"},
		{args: []string{"install", "--help"}, wantStdout: "usage: patchctl install"},
		{args: []string{"detect", "-h"}, wantStdout: "-inventory string"},
		{args: []string{"feed", "-h"}, wantStdout: "patchctl feed fetch"},
		{args: []string{"help", "feed", "fetch"}, wantStdout: "-max-bytes int"},
		{args: []string{"feed", "parse", "-h"}, wantStdout: "usage: patchctl feed parse"},
		{args: []string{"adapters", "-h"}, wantStdout: "patchctl adapters check"},
		{args: []string{"adapters", "check", "-h"}, wantStdout: "-install-id string"},
		{args: nil, code: 2, wantStderr: "usage: patchctl <command>"},
		{args: []string{"scan", "--bogus"}, code: 2, wantStderr: "flag provided but not defined: -bogus (run patchctl help scan)"},
		{args: []string{"feed"}, code: 2, wantStderr: "missing subcommand (parse, fetch, formats)"},
		{args: []string{"frob"}, code: 2, wantStderr: `unknown command "frob"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if tt.wantStdout != "" && (!strings.Contains(out.String(), tt.wantStdout) || errOut.Len() != 0) {
				t.Errorf("stdout %q, stderr %q; want %q on stdout and nothing on stderr", out.String(), errOut.String(), tt.wantStdout)
			}
			if tt.wantStderr != "" && (!strings.Contains(errOut.String(), tt.wantStderr) || out.Len() != 0) {
				t.Errorf("stderr %q, stdout %q; want %q on stderr and nothing on stdout", errOut.String(), out.String(), tt.wantStderr)
			}
			if tt.code == 2 && tt.args != nil && strings.Count(strings.TrimSpace(errOut.String()), "\n") != 0 {
				t.Errorf("a usage error is %d lines, want one:\n%s", strings.Count(errOut.String(), "\n"), errOut.String())
			}
		})
	}
}

// TestDashReadsStdin: "-" names standard input for feed parse, detect
// --feed and detect --inventory, once per invocation.
func TestDashReadsStdin(t *testing.T) {
	sid, err := os.ReadFile(samples.Path(t, "debsecan/001.sid"))
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(samples.Path(t, "debsecan/001.status"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		stdin []byte
		args  []string
		code  int
		want  string
	}{
		{"feed parse -", sid, []string{"feed", "parse", "--json", "-"}, 0, `"id":"CVE-2005-3184"`},
		{"detect --feed -", sid, []string{"detect", "--feed", "-", "--inventory", "dpkg-status=" + samples.Path(t, "debsecan/001.status"), "--json"}, 0, `"missing": 12`},
		{"detect --inventory dpkg-status=-", status, []string{"detect", "--feed", samples.Path(t, "debsecan/001.sid"), "--inventory", "dpkg-status=-", "--json"}, 0, `"missing": 12`},
		{"detect --inventory json=-", []byte(`{"device_id":"d1","platform":{"family":"linux","distro":"debian","codename":"sid"},"packages":[{"name":"ethereal","version":"0.10.12-6","ecosystem":"deb"}]}`),
			[]string{"detect", "--feed", samples.Path(t, "debsecan/001.sid"), "--inventory", "json=-", "--json"}, 0, `"device_id": "d1"`},
		{"stdin twice", status, []string{"detect", "--feed", "-", "--inventory", "dpkg-status=-"}, 2, "- (standard input) can be given only once"},
		{"garbage on stdin", []byte("not a feed\n"), []string{"feed", "parse", "-"}, 1, "stdin: content not recognised"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdin: bytes.NewReader(tt.stdin), stdout: &out, stderr: &errOut}, tt.args)
			if code != tt.code || !strings.Contains(out.String()+errOut.String(), tt.want) {
				t.Errorf("exit %d, want %d and %q in\nstdout: %s\nstderr: %s", code, tt.code, tt.want, out.String(), errOut.String())
			}
		})
	}
}

// helloAdapter builds examples/hello-adapter once per test binary.
var helloAdapter = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "patchctl-hello")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "hello-adapter")
	cmd := exec.Command("go", "build", "-o", bin, "../hello-adapter")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.Error{Name: "go build ../hello-adapter: " + string(out), Err: err}
	}
	return bin, nil
})

// TestScanInstallPluginBinary: scan and install load a third-party plugin
// binary with --adapter ./PATH, checked with --sha256.
func TestScanInstallPluginBinary(t *testing.T) {
	bin, err := helloAdapter()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	hexSum := hex.EncodeToString(sum[:])
	root := t.TempDir()
	for name, content := range map[string]string{"installed/greeter": "1.0.0\n", "repo/greeter/1.1.0": ""} {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runIt := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, args)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runIt("scan", "--adapter", bin, "--sha256", hexSum, "--root", root, "--json")
	if code != 0 {
		t.Fatalf("scan exit %d: %s", code, errOut)
	}
	var rep scanReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Adapter != bin || len(rep.Missing) != 1 || rep.Missing[0].Package != "greeter" || rep.Missing[0].CandidateVersion != "1.1.0" {
		t.Errorf("scan report %+v; want greeter 1.1.0 missing through %s", rep, bin)
	}
	code, out, errOut = runIt("install", "--adapter", bin, "--sha256", hexSum, "--root", root, "greeter")
	if code != 0 || !strings.Contains(out, "greeter  installed  1.0.0  1.1.0") {
		t.Errorf("install exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if v, _ := os.ReadFile(filepath.Join(root, "installed/greeter")); string(v) != "1.1.0\n" {
		t.Errorf("installed version after install: %q", v)
	}

	refusals := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"scan", "--adapter", bin, "--sha256", strings.Repeat("00", 32), "--root", root}, 1, "refusing to start"},
		{[]string{"install", "--adapter", bin, "--sha256", strings.Repeat("00", 32), "--root", root, "greeter"}, 1, "refusing to start"},
		{[]string{"scan", "--adapter", bin, "--sha256", "00", "--root", root}, 2, "not a hex SHA-256"},
		{[]string{"scan", "--adapter", "apt", "--sha256", hexSum}, 2, "--sha256 checks a plugin binary"},
		{[]string{"scan", "--sha256", hexSum}, 2, "name it with --adapter ./PATH"},
		{[]string{"scan", "--adapter", "hello-adapter"}, 2, "write ./hello-adapter for a file here"},
		{[]string{"scan", "--adapter", bin + "-missing"}, 1, "no such file"},
	}
	for _, r := range refusals {
		if code, _, errOut := runIt(r.args...); code != r.code || !strings.Contains(errOut, r.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", r.args, code, errOut, r.code, r.want)
		}
	}
}
