package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"
)

// A dpkg status file with a continuation line of white space only is read
// (dpkg only warns) and the repair is printed with its file and line.
func TestDetectDpkgStatusRecovery(t *testing.T) {
	var out, errOut bytes.Buffer
	status := samples.Path(t, "debian/status-whitespace-continuation")
	code := run(t.Context(), &env{stdout: &out, stderr: &errOut}, []string{"detect",
		"--feed", samples.Path(t, "debian/DLA-list-malformed-header"),
		"--inventory", "dpkg-status=" + status, "--platform", "debian:stretch", "--json"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), status+":26: Description: recovered: continuation line holds only white space") {
		t.Errorf("stderr %q", errOut.String())
	}
	if !strings.Contains(out.String(), `"counts"`) {
		t.Errorf("no report: %s", out.String())
	}
}
