package approve

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/patchcore/sdk/patchcore"
)

func FuzzParseListEntry(f *testing.F) {
	for _, s := range []string{"KB5034441", "CVE-2024-*", "package:openssl", "package:linux-image-*<=6.1.90-1",
		"package:a=1*", "package:a>=", "DSA-5678-1", "*", "package:*", "cve-", "package:x<1<2", "a\x00b"} {
		f.Add(s)
	}
	p := debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1), "openssl", "3.0.13-1", "CVE-2024-1")
	p.Fixes = append(p.Fixes, patchcore.Fix{KB: "KB1", Package: "a*b", FixedVersion: "1"})
	cmp := func(_, a, b string) (int, error) {
		if a == "" || b == "" {
			return 0, errors.New("empty version")
		}
		return bytes.Compare([]byte(a), []byte(b)), nil
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseListEntry(s)
		if err != nil {
			if !errors.Is(err, patchcore.ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		if e.Raw != s || e.Pattern == "" {
			t.Fatalf("parsed %q into %+v", s, e)
		}
		again, err := ParseListEntry(e.String())
		if err != nil || again != e {
			t.Fatalf("re-parsing %q: %+v, %v", s, again, err)
		}
		_, _ = e.matchPatch(&p, cmp)
		_, _ = e.matchPatch(&p, nil)
	})
}

func FuzzParseBaseline(f *testing.F) {
	f.Add([]byte(`{"id":"b","rules":[{"name":"kev","kev":true,"deadline":"3d","approve_until":"2024-12-31","severities":["critical"]}],
		"approved_patches":["KB1","package:openssl>=3"],"rejected_patches":["CVE-2024-1"],"rejected_action":"BLOCK",
		"rings":[{"name":"test"},{"name":"prod","after":"168h","min_success_rate":0.95}],
		"approvals":[{"patch_id":"KB1","action":"reject","scope":{"kind":"device","id":"d1"},"by":"a","at":"2024-05-01T00:00:00Z",
		"custom_severity":{"level":"high","raw":"ours"},"rating":3,"expires":"2024-07-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"id":"b","auto_approval":{"platforms":["*"]}}`))
	f.Add([]byte(`{"id":"b","rules":[{"name":"r","approve_after_days":7,"products":["Windows*"],"cves":["CVE-*"],"min_epss":0.5}]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`[]`))
	patches := []patchcore.Patch{
		winPatch("KB1", patchcore.ClassSecurity, patchcore.SeverityCritical, day(2024, 5, 1), "CVE-2024-1"),
		debPatch("DSA-1", patchcore.ClassSecurity, patchcore.SeverityHigh, day(2024, 5, 1), "openssl", "3.0.13-1"),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBaseline(data)
		if err != nil {
			if !errors.Is(err, patchcore.ErrInvalidInput) && !errors.Is(err, patchcore.ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrInvalidInput nor ErrTooLarge", err)
			}
			return
		}
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshalling a parsed baseline: %v", err)
		}
		b2, err := ParseBaseline(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		out2, _ := json.Marshal(b2)
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the baseline:\n%s\n%s", out, out2)
		}
		e, err := Evaluate(b, patches, testNow)
		if err != nil {
			t.Fatalf("Evaluate of a valid baseline: %v", err)
		}
		dev := patchcore.Device{ID: "d1", Groups: []string{"g"}, Ring: "prod"}
		c := e.Compliance(&DeviceResult{Device: dev, Findings: []patchcore.Finding{
			{PatchID: "KB1", State: patchcore.FindingMissing}, {PatchID: "DSA-1", State: patchcore.FindingInstalled}}})
		if len(c.Patches)+len(c.Unapproved) != 2 {
			t.Fatalf("compliance lost a finding: %+v", c)
		}
	})
}
