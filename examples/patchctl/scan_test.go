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

// debianRoot is the smallest root the apt adapter reads: a dpkg status
// file with unzip installed and an os-release, no package sources.
func debianRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range map[string]string{
		"var/lib/dpkg/status":  "Package: unzip\nStatus: install ok installed\nVersion: 6.0-28\nArchitecture: amd64\n\n",
		"etc/os-release":       "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
		"etc/apt/sources.list": "deb http://deb.debian.org/debian bookworm main\n",
	} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestScanAdapterThatDoesNotServeTheRoot: zypper on a Debian root read an
// empty rpm database and printed "0 packages installed, 0 updates missing"
// with exit 0. It is an error now, on one line, with nothing on stdout.
func TestScanAdapterThatDoesNotServeTheRoot(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"scan", "--adapter", "zypper", "--root", debianRoot(t)})
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "zypper") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, nothing on stdout and one line naming zypper", code, out.String(), errOut.String())
	}
}

func TestCheckInventory(t *testing.T) {
	tests := []struct {
		inv  patchcore.Inventory
		want string // "" for no error
	}{
		{patchcore.Inventory{Packages: []patchcore.Package{{Name: "unzip", Version: "6.0-28"}}}, ""},
		{patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", Build: "10.0.22631"}}, ""},
		{patchcore.Inventory{KBs: []string{"KB5034123"}}, ""},
		{patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "debian", Version: "12"}}, "adapter zypper found no installed packages on /r: it does not serve it"},
	}
	for _, tt := range tests {
		err := checkInventory("zypper", "/r", &tt.inv)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: error %v, want %q", tt.inv, err, tt.want)
		}
	}
}
