package csaf

import (
	"errors"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
)

func FuzzCSAF(f *testing.F) {
	for _, s := range []string{samples.Path(f, "redhat/rhsa-2022-0011.csaf.json"), samples.Path(f, "redhat/cve-2024-24786.vex.json"), "testdata/cve-2023-99999.vex.json"} {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"document":{"category":"csaf_vex","tracking":{"id":"CVE-1"}},"product_tree":{"relationships":[{"full_product_name":{"product_id":"a:b"},"product_reference":"b","relates_to_product_reference":"a"}]},"vulnerabilities":[{"cve":"CVE-1","product_status":{"known_affected":["a:b"]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		(Reader{}).Detect(b)
		_, err := parseBytes(Reader{}, b)
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
	})
}
