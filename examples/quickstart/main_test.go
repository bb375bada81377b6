package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"
)

// TestQuickstart runs the program's flow on the repository's copy of
// USN-5614-1 and checks every step's line.
func TestQuickstart(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), &out, samples.Path(t, "ubuntu/USN-5614-1.osv.json")); err != nil {
		t.Fatal(err)
	}
	want := `catalog: USN-5614-1 medium "wayland vulnerability", released 2022-09-15, fixes for 3 releases
detect: web-1 USN-5614-1 missing: libwayland-client0 (source wayland) 1.20.0-1 < 1.20.0-1ubuntu0.1 (deb) from USN-5614-1 for 22.04
detect: web-2 USN-5614-1 installed: libwayland-client0 (source wayland) 1.20.0-1ubuntu0.1 >= 1.20.0-1ubuntu0.1 (deb) from USN-5614-1 for 22.04
approve: USN-5614-1 approved: approved by rule "security-7d" (7 days after release on 2022-09-15)
compliance: web-1 compliant=false missing=1
compliance: web-2 compliant=true missing=0
deploy: web-1 window opens Sat 2022-10-01 22:00 CEST
deploy: web-1 USN-5614-1 posted
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestQuickstartBadFeed(t *testing.T) {
	err := run(t.Context(), &bytes.Buffer{}, samples.Path(t, "SOURCES.md"))
	if err == nil || !strings.Contains(err.Error(), "SOURCES.md") {
		t.Errorf("run on a file that is no feed: %v, want an error naming it", err)
	}
}
