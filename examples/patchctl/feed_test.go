package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/patchcore"
)

var sharedFeeds = samples.Dir()

func runCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), &env{stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestFeedParseTable(t *testing.T) {
	code, out, stderr := runCmd("feed", "parse", sharedFeeds+"/microsoft/cvrfDocument-2024-Jan.xml", sharedFeeds+"/chocolatey/firefox.nuspec")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// January 2024: 37 KB patches, 37 product-version and CBL-Mariner
	// package patches, and the Chocolatey package.
	if !strings.HasPrefix(lines[0], "ID ") || len(lines) != 1+37+37+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	found := 0
	for _, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "KB5034123":
			if strings.Join(f[1:7], " ") == "msrc-cvrf Critical security 2024-01-09 35 4" {
				found++
			}
		case "chocolatey:firefox@67.0.1":
			if strings.Join(f[1:6], " ") == "chocolatey unknown other 0 1" {
				found++
			}
		case "msrc:11655@121.0.2277.83":
			if strings.Join(f[1:7], " ") == "msrc-cvrf Important security 2024-01-09 18 1" {
				found++
			}
		}
	}
	if found != 3 {
		t.Errorf("table:\n%s", out)
	}
}

func TestFeedParseJSON(t *testing.T) {
	code, out, stderr := runCmd("feed", "parse", "--json", "--format", "osv", sharedFeeds+"/ubuntu/USN-5614-1.osv.json", sharedFeeds+"/rocky/RLSA-2023_3220.osv.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var p patchcore.Patch
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		ids = append(ids, p.ID)
		if p.ID == "USN-5614-1" && (len(p.Fixes) != 3 || p.Fixes[2].FixedVersion != "1.20.0-1ubuntu0.1") {
			t.Errorf("USN fixes %+v", p.Fixes)
		}
	}
	if strings.Join(ids, " ") != "USN-5614-1 RLSA-2023:3220" {
		t.Errorf("ids %v", ids)
	}
}

func TestFeedParseErrors(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.json"
	os.WriteFile(bad, []byte(`{"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [`), 0o644)
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"feed"}, 2, "missing subcommand"},
		{[]string{"feed", "bogus"}, 2, "unknown subcommand"},
		{[]string{"feed", "parse"}, 2, "no FILE"},
		{[]string{"feed", "parse", "--format", "nope", bad}, 2, `format "nope"`},
		{[]string{"feed", "parse", bad}, 1, bad + ": offset"},
		{[]string{"feed", "parse", dir + "/absent"}, 1, "no such file"},
	}
	for _, tt := range tests {
		code, _, stderr := runCmd(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
}

// Each file gets a summary line on stderr, then each recovery with its
// position, whatever the format and in table and NDJSON modes alike.
func TestFeedParseSummary(t *testing.T) {
	dla := sharedFeeds + "/debian/DLA-list-malformed-header"
	suse := sharedFeeds + "/suse/cvrf-opensuse-su-2016-0874-1.xml"
	for _, mode := range [][]string{{"feed", "parse"}, {"feed", "parse", "--json"}} {
		code, _, stderr := runCmd(append(mode, dla, suse)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", mode, code, stderr)
		}
		want := []string{
			"patchctl feed parse: " + dla + ": debian-advisory-list: 1 patches, 4 CVEs with a patch, 0 not covered, 1 recovered",
			"patchctl feed parse: " + dla + ":4: advisory header: recovered: malformed advisory header",
			"patchctl feed parse: " + suse + ": suse-cvrf: 1 patches, 1 CVEs with a patch, 0 not covered, 2 recovered",
			"patchctl feed parse: " + suse + ":83: openSUSE-SU-2016:0874-1: recovered: bytes eb are not UTF-8",
			"patchctl feed parse: " + suse + ":125: openSUSE-SU-2016:0874-1: recovered: bytes e4 are not UTF-8",
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%v: stderr:\n%s", mode, stderr)
		}
		for i, w := range want {
			if !strings.HasPrefix(lines[i], w) {
				t.Errorf("%v: line %d = %q, want prefix %q", mode, i+1, lines[i], w)
			}
		}
	}
}

// An explicit --format that is not the file's is an error naming what the
// file is, not an empty answer.
func TestFeedParseFormatMismatch(t *testing.T) {
	rh := sharedFeeds + "/redhat/rhsa-2024_6163.csaf.json"
	code, out, stderr := runCmd("feed", "parse", "--json", "--format", "msrc-csaf", rh)
	if code != 1 || out != "" || !strings.Contains(stderr, rh+": content is not format msrc-csaf but format csaf") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
}

func TestFeedFormats(t *testing.T) {
	code, out, _ := runCmd("feed", "formats")
	if code != 0 || !strings.Contains(out, "msrc-cvrf\n") || !strings.Contains(out, "winget\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
