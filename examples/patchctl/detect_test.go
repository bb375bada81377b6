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
	if _, err := parsePlatform(":x"); !errors.Is(err, errUsage) {
		t.Errorf(":x error %v", err)
	}
}
