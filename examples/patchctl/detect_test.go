package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/patchcore"
)

func TestDetectDebsecanJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect",
		"--feed", samples.Path(t, "debsecan/001.sid"),
		"--inventory", "dpkg-status=" + samples.Path(t, "debsecan/001.status"), "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep struct {
		Counts   map[string]int `json:"counts"`
		Findings []map[string]any
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Counts["missing"] != 12 || len(rep.Findings) == 0 {
		t.Errorf("counts %v, %d findings; want 12 missing", rep.Counts, len(rep.Findings))
	}
	for _, k := range []string{"patch_id", "title", "severity", "classification", "cves", "package", "installed_version", "fixed_version", "state", "reason"} {
		if _, ok := rep.Findings[0][k]; !ok {
			t.Errorf("finding has no %q: %v", k, rep.Findings[0])
		}
	}
}

func TestDetectWindowsTable(t *testing.T) {
	inv := patchcore.Inventory{DeviceID: "pc-1", Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro",
		DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3007, Arch: "amd64"}, KBs: []string{"KB5034123"}}
	b, _ := json.Marshal(inv)
	path := filepath.Join(t.TempDir(), "inv.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect",
		"--feed", samples.Path(t, "microsoft/cvrfDocument-2024-Jan.xml"),
		"--feed", samples.Path(t, "microsoft/cvrfDocument-2024-Feb.xml"),
		"--inventory", "json=" + path})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"installed  KB5034123",
		"build 10.0.22631.3007 >= 10.0.22631.3007 (dotted) from KB5034123 for Windows 11 Version 23H2 for x64-based Systems",
		"missing    KB5034765",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDetectUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"detect", "--inventory", "host"}, 2, "--feed is required"},
		{[]string{"detect", "--feed", "x"}, 2, "--inventory is required"},
		{[]string{"detect", "--feed", "x", "--inventory", "bogus=1"}, 2, "want dpkg-status=FILE"},
		{[]string{"detect", "--feed", "/nonexistent", "--inventory", "json=/nonexistent"}, 1, "no such file"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, tt.args); code != tt.code || !strings.Contains(errOut.String(), tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut.String(), tt.code, tt.msg)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	p, err := parsePlatform("debian:bookworm")
	if err != nil || p.Distro != "debian" || p.Codename != "bookworm" || p.Version != "" {
		t.Errorf("debian:bookworm = %+v, %v", p, err)
	}
	p, err = parsePlatform("rhel:8.4")
	if err != nil || p.Distro != "rhel" || p.Version != "8.4" {
		t.Errorf("rhel:8.4 = %+v, %v", p, err)
	}
	for _, bad := range []string{":x", "bookworm", "debian:", "debian"} {
		if _, err := parsePlatform(bad); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "want ID:RELEASE") {
			t.Errorf("%q: error %v, want a usage error showing ID:RELEASE", bad, err)
		}
	}
}

// writeJSON writes v as JSON into a temporary file and returns its path.
func writeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDetectNoCleanAnswerFromBadInput: each of these exited 0 with "0
// missing, 0 not applicable" before detection reported its coverage. Now a
// mistyped platform is a usage error, a device the feeds do not cover
// exits 3 naming what the feeds cover, and an empty inventory is an error;
// stderr is one line.
func TestDetectNoCleanAnswerFromBadInput(t *testing.T) {
	emptyStatus := filepath.Join(t.TempDir(), "status")
	if err := os.WriteFile(emptyStatus, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	win := writeJSON(t, patchcore.Inventory{Platform: patchcore.Platform{Family: "windows", ProductName: "Windows 11 Pro",
		DisplayVersion: "23H2", Build: "10.0.22631", UBR: 3007, Arch: "amd64"}})
	noPackages := writeJSON(t, patchcore.Inventory{DeviceID: "d1", Platform: patchcore.Platform{Family: "linux", Distro: "debian", Codename: "bookworm"}})
	debsecan := samples.Path(t, "debsecan/001.sid")
	status := "dpkg-status=" + samples.Path(t, "debsecan/001.status")
	tracker := samples.Path(t, "debian/security-tracker-subset.json")
	rocky := samples.Path(t, "rocky/updateinfo.xml")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring of the one stderr line
		stdout string // substring of stdout
	}{
		{"codename without the distro", []string{"--feed", debsecan, "--inventory", status, "--platform", "bookworm"}, 2,
			`--platform "bookworm" has no colon: want ID:RELEASE, e.g. debian:bookworm`, ""},
		{"distro without the release", []string{"--feed", debsecan, "--inventory", status, "--platform", "debian:"}, 2,
			"has no RELEASE", ""},
		{"rocky feed, debian device", []string{"--feed", rocky, "--inventory", status, "--platform", "debian:bookworm"}, 3,
			"not covered: the catalog has no patches for debian bookworm; the feeds cover rocky 8 (4 patches)", "NOT COVERED"},
		{"feeds of other releases", []string{"--feed", tracker, "--inventory", status, "--platform", "debian:forky"}, 3,
			"no patches for debian forky; the feeds cover debian bookworm (2 patches), debian bullseye (2 patches)", "no answer"},
		{"dpkg status without a release, release-specific feed", []string{"--feed", tracker, "--inventory", status}, 3,
			"give --platform debian:CODENAME", ""},
		{"windows device, linux feed", []string{"--feed", rocky, "--inventory", "json=" + win}, 3,
			"the catalog has no Windows patches; the feeds cover rocky 8", ""},
		{"empty dpkg status", []string{"--feed", debsecan, "--inventory", "dpkg-status=" + emptyStatus, "--platform", "debian:bookworm"}, 1,
			"no installed packages in this dpkg status file", ""},
		{"json={}", []string{"--feed", debsecan, "--inventory", "json=" + writeJSON(t, map[string]any{})}, 1,
			"empty: no platform, packages or KBs", ""},
		{"platform and no packages", []string{"--feed", debsecan, "--inventory", "json=" + noPackages}, 1,
			`inventory of device "d1" is empty (no packages)`, ""},
		{"covered", []string{"--feed", debsecan, "--inventory", status, "--platform", "debian:bookworm"}, 0,
			"", "debian:bookworm: 12 missing, 0 unknown, 0 installed pending reboot, 66 installed, 0 superseded, 1 not applicable; 79 of the catalog's 79 patches are for this device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, append([]string{"detect"}, tt.args...))
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(errOut.String()), "\n") {
				if l != "" {
					lines = append(lines, l)
				}
			}
			if tt.stderr == "" && len(lines) != 0 || tt.stderr != "" && (len(lines) != 1 || !strings.Contains(lines[0], tt.stderr)) {
				t.Errorf("stderr %q, want one line containing %q", errOut.String(), tt.stderr)
			}
			if !strings.Contains(out.String(), tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, out.String())
			}
		})
	}
}

// TestDetectCoverageJSON: --json reports the coverage, and for a device
// the feeds do not cover, what they cover.
func TestDetectCoverageJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect", "--json",
		"--feed", samples.Path(t, "rocky/updateinfo.xml"),
		"--inventory", "dpkg-status=" + samples.Path(t, "debsecan/001.status"), "--platform", "debian:bookworm"})
	if code != 3 {
		t.Fatalf("exit %d, want 3: %s", code, errOut.String())
	}
	var rep detectReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	c := rep.Coverage
	if c.Covered || c.Patches != 0 || len(c.Catalog) != 1 || c.Catalog[0].Distro != "rocky" || c.Catalog[0].Release != "8" || c.Catalog[0].Patches != 4 {
		t.Errorf("coverage %+v", c)
	}
}

// TestDetectBaselineVerdict: against a baseline that approves no Linux
// patch yet, the device is compliant, and the verdict says how many
// missing security patches wait outside the baseline; a device the feeds
// do not cover is not compliant.
func TestDetectBaselineVerdict(t *testing.T) {
	pending := filepath.Join("testdata", "linux-security.json") // the README's example
	approving := filepath.Join(t.TempDir(), "approving.json")
	os.WriteFile(approving, []byte(`{"id":"auto","auto_approval":{"platforms":["*"]},"rules":[{"name":"security","classifications":["security"]}]}`), 0o600)
	status := "dpkg-status=" + samples.Path(t, "debsecan/001.status")
	tests := []struct {
		feed, baseline string
		code           int
		want           string
	}{
		{"debsecan/001.sid", pending, 0, "baseline linux-security: compliant; 12 missing patches not approved by the baseline (12 security)"},
		{"debsecan/001.sid", approving, 0, "baseline auto: NOT compliant: 12 approved patches missing, 0 failed"},
		{"rocky/updateinfo.xml", approving, 3, "baseline auto: NOT compliant: the feeds do not cover the device"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect", "--actionable",
			"--feed", samples.Path(t, tt.feed), "--inventory", status, "--platform", "debian:bookworm", "--baseline", tt.baseline})
		if code != tt.code || !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s with %s: exit %d, stdout:\n%s\nwant exit %d and %q (stderr %q)", tt.feed, filepath.Base(tt.baseline), code, out.String(), tt.code, tt.want, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"id":""}`), 0o600)
	if code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect", "--feed", samples.Path(t, "debsecan/001.sid"),
		"--inventory", status, "--baseline", bad}); code != 1 || !strings.Contains(errOut.String(), "id: must not be empty") {
		t.Errorf("invalid baseline: exit %d, stderr %q", code, errOut.String())
	}
}
