package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters/apt/apttest"
)

func TestAdaptersList(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"adapters"}); code != 0 {
		t.Fatalf("patchctl adapters exited %d: %s", code, errOut.String())
	}
	for _, want := range []string{"NAME", "apt", "deb", "debian,ubuntu"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("adapters output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestAdaptersCheckBuiltin runs the conformance kit against the apt adapter,
// re-executed as a plugin subprocess, on a real bookworm root.
func TestAdaptersCheckBuiltin(t *testing.T) {
	root := apttest.BookwormRoot(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"adapters", "check", "--root", root, "apt"}); code != 0 {
		t.Fatalf("patchctl adapters check apt exited %d: %s\n%s", code, errOut.String(), out.String())
	}
	for _, want := range []string{"PASS  info", "PASS  inventory-versions", "PASS  errors-are-sentinels", "apt: 9 passed, 0 failed, 2 skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestAdaptersCheckErrors(t *testing.T) {
	plugin := filepath.Join(t.TempDir(), "my-adapter")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\necho not a plugin\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	zero := strings.Repeat("00", 32)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no argument", []string{"adapters", "check"}, 2, "want one plugin path"},
		{"unknown subcommand", []string{"adapters", "frob"}, 2, `unknown adapters subcommand "frob"`},
		{"bare unknown name", []string{"adapters", "check", "my-adapter"}, 2, "write ./my-adapter for a file here"},
		{"bad digest", []string{"adapters", "check", "--sha256", "xyz", plugin}, 2, "not a hex SHA-256"},
		{"checksum mismatch", []string{"adapters", "check", "--sha256", zero, plugin}, 1, "refusing to start"},
		{"stdout before handshake", []string{"adapters", "check", plugin}, 1, `wrote "not a plugin" to stdout before the plugin handshake`},
		{"missing binary", []string{"adapters", "check", plugin + "-missing"}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, tt.args)
			if code != tt.code || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut.String(), tt.code, tt.want)
			}
		})
	}
}
