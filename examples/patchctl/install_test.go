package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
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
		strings.Join(rep.Missing[0].Advisories, ",") != rpmrepotest.AdvisoryID || rep.Missing[0].Severity != rpmrepotest.Severity {
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
