package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters/apt/apttest"
	"github.com/patchcore/sdk/patchcore"
)

// TestScanRootReportsSecurityUpdate runs patchctl scan --root on a real
// bookworm root holding unzip 6.0-28 while bookworm-security has a fix.
func TestScanRootReportsSecurityUpdate(t *testing.T) {
	root := apttest.BookwormRoot(t)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"scan", "--root", root, "--json"}); code != 0 {
		t.Fatalf("patchctl scan --root exited %d: %s", code, errOut.String())
	}
	var rep scanReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("scan --json output: %v\n%s", err, out.String())
	}
	var unzip *missingPatch
	for i := range rep.Missing {
		if rep.Missing[i].Package == "unzip" {
			unzip = &rep.Missing[i]
		}
	}
	if unzip == nil {
		t.Fatalf("unzip is not reported missing:\n%s", out.String())
	}
	if unzip.InstalledVersion != apttest.OldUnzip || unzip.Classification != patchcore.ClassSecurity ||
		!strings.Contains(unzip.Origin, "Debian-Security") || unzip.Held {
		t.Errorf("unzip = %+v, want a security update from Debian-Security over %s", unzip, apttest.OldUnzip)
	}
	if rep.Adapter != "apt" || rep.Platform.Codename != "bookworm" {
		t.Errorf("report adapter %q platform %+v", rep.Adapter, rep.Platform)
	}

	out.Reset()
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"scan", "--root", root}); code != 0 {
		t.Fatalf("patchctl scan (table) exited %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "unzip") || !strings.Contains(out.String(), "security") {
		t.Errorf("table output lacks the unzip security update:\n%s", out.String())
	}
}

func TestScanBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing root", []string{"scan", "--root", "/nonexistent/root"}, 1, "no such file or directory"},
		{"root is a file", []string{"scan", "--root", file}, 1, "not a directory"},
		{"empty root", []string{"scan", "--root", t.TempDir()}, 1, "no supported package manager"},
		{"empty root, apt named", []string{"scan", "--adapter", "apt", "--root", t.TempDir()}, 1, "dpkg database"},
		{"unknown adapter", []string{"scan", "--adapter", "nope"}, 2, "unknown adapter"},
		{"stray argument", []string{"scan", "extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line containing %q", errOut.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout not empty: %q", out.String())
			}
		})
	}
}
