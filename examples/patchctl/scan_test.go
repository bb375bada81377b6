package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
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

// TestScanHostMatchesAptList is the quick start's promise: on a Debian or
// Ubuntu host, `patchctl scan` lists exactly the packages that
// `apt list --upgradable` lists, each with its installed and candidate version.
func TestScanHostMatchesAptList(t *testing.T) {
	if _, err := exec.LookPath("apt"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs on Debian: apt must be on PATH")
		}
		t.Skip("skipping: no apt on this machine (the quick start needs a Debian or Ubuntu host)")
	}
	cmd := exec.CommandContext(t.Context(), "apt", "list", "--upgradable")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	listing, err := cmd.Output()
	if err != nil {
		t.Fatalf("apt list --upgradable: %v", err)
	}
	// Lines look like: unzip/oldstable-security 6.0-28+deb12u1 amd64 [upgradable from: 6.0-28]
	want := map[string]string{}
	for _, line := range strings.Split(string(listing), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[3] != "[upgradable" {
			continue
		}
		name, _, _ := strings.Cut(f[0], "/")
		want[name+":"+f[2]] = strings.TrimSuffix(f[5], "]") + " -> " + f[1]
	}

	var out, errOut bytes.Buffer
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"scan", "--json"}); code != 0 {
		t.Fatalf("patchctl scan exited %d: %s", code, errOut.String())
	}
	var rep scanReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("scan --json output: %v\n%s", err, out.String())
	}
	got := map[string]string{}
	for _, m := range rep.Missing {
		got[m.Package+":"+m.Arch] = m.InstalledVersion + " -> " + m.CandidateVersion
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: apt list says %q, patchctl scan says %q", k, v, got[k])
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: patchctl scan reports %q, apt list --upgradable does not list it", k, v)
		}
	}
	t.Logf("%d upgradable packages, the same in both", len(want))
}
