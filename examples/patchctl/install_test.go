package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/patchcore"
)

// TestInstallAdvisoryWithDNF installs a security advisory by its ID through
// the dnf adapter running as a plugin, into a root with a local repository,
// then checks that scan no longer lists it.
func TestInstallAdvisoryWithDNF(t *testing.T) {
	rpmrepotest.Require(t, "dnf")
	repo := rpmrepotest.Repo(t)
	root := rpmrepotest.Root(t, repo)
	rpmrepotest.DNFRepoFile(t, root, repo)

	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut}
	if code := run(t.Context(), e, []string{"scan", "--adapter", "dnf", "--root", root, "--json"}); code != 0 {
		t.Fatalf("scan exited %d: %s", code, errOut.String())
	}
	var rep scanReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Missing) != 1 ||
		strings.Join(rep.Missing[0].Advisories, ",") != rpmrepotest.AdvisoryID || rep.Missing[0].VendorSeverity != rpmrepotest.Severity ||
		rep.Missing[0].Severity != patchcore.ParseSeverity(rpmrepotest.Severity).Level.String() {
		t.Fatalf("scan = %s, %v", out.String(), err)
	}

	out.Reset()
	if code := run(t.Context(), e, []string{"install", "--adapter", "dnf", "--root", root, "--json", rpmrepotest.AdvisoryID}); code != 0 {
		t.Fatalf("install exited %d: %s", code, errOut.String())
	}
	var resp adapters.InstallResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || len(resp.Items) != 1 || resp.Items[0].Status != adapters.ItemInstalled {
		t.Fatalf("install = %s, %v", out.String(), err)
	}

	out.Reset()
	run(t.Context(), e, []string{"scan", "--adapter", "dnf", "--root", root, "--json"})
	rep = scanReport{}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Missing) != 0 {
		t.Errorf("scan after install = %s, %v; want nothing missing", out.String(), err)
	}

	errOut.Reset()
	if code := run(t.Context(), e, []string{"install", "--adapter", "dnf"}); code != 2 || !strings.Contains(errOut.String(), "at least one") {
		t.Errorf("install without IDs: exit %d, stderr %q", code, errOut.String())
	}
}

// TestInstallNothingInstalledFails: a package that is not installed and an
// advisory ID that apt reads as a package name were "not applicable" and
// install exited 0. Any item not installed makes it exit 1, with one line
// naming each.
func TestInstallNothingInstalledFails(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"install", "--adapter", "apt", "--root", debianRoot(t), "nosuchpkg", "DSA-5678-1"})
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "nosuchpkg") || !strings.Contains(lines[0], "DSA-5678-1") {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line naming both IDs", code, errOut.String())
	}
}

func TestNotInstalled(t *testing.T) {
	ok := adapters.ItemResult{ID: "a", Status: adapters.ItemInstalled}
	tests := []struct {
		items []adapters.ItemResult
		want  string // "" for no error
	}{
		{[]adapters.ItemResult{ok, {ID: "b", Status: adapters.ItemInstalledPendingReboot}}, ""},
		{[]adapters.ItemResult{ok, {ID: "b", Status: adapters.ItemNotApplicable, Reason: "package b is not installed"}},
			"1 of 2 items not installed: b not_applicable: package b is not installed"},
		{[]adapters.ItemResult{{ID: "h", Status: adapters.ItemHeld}, {ID: "f", Status: adapters.ItemFailed, Reason: "exit 100\nE: broken"}},
			"2 of 2 items not installed: h held; f failed: exit 100; E: broken"},
		{[]adapters.ItemResult{{ID: "d", Status: adapters.ItemDownloaded}, {ID: "x"}}, "d downloaded; x (no status)"},
	}
	for _, tt := range tests {
		err := notInstalled(tt.items)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: error %v, want %q", tt.items, err, tt.want)
		}
	}
}
