package csaf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

// patchesHash is the SHA-256 of the JSON of every patch Parse emits for doc.
func patchesHash(t *testing.T, doc []byte) string {
	t.Helper()
	ps, err := parseBytes(Reader{}, doc)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range ps {
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestOutputUnchanged pins the patches of the large generated documents
// and the samples to hashes computed with the parser before its speed-up
// (commit 93046ea's code): any change in any emitted field fails.
func TestOutputUnchanged(t *testing.T) {
	tests := []struct {
		name string
		doc  func(t *testing.T) []byte
		hash string
	}{
		{"large RHSA", func(*testing.T) []byte { return largeAdvisory() }, "c5eab942167be817028fc6283f9ea6f697c0da2de66d18150f3ad5d24b8fb6a1"},
		{"large VEX", func(*testing.T) []byte { return largeVEX() }, "9bd5f7e25eac9082d917c019762982b0ad70f38a4281f5589176b672f1200d3d"},
		// Changed on purpose: its E4S 7.6 fixes have Release "7.6", not "7".
		{"rhsa-2022-0011", readFile(samples.Path(t, "redhat/rhsa-2022-0011.csaf.json")), "b75cf126bec16b5ccc54bcfee79c6937da86922faba1db3e6f796ab24e217837"},
		{"rhsa-2024_6163", readFile(samples.Path(t, "redhat/rhsa-2024_6163.csaf.json")), "f788aa018c708b4c63a037fc19691bb18693ebec03a806a0fa173684c7706084"},
		{"cve-2024-24786 VEX", readFile(samples.Path(t, "redhat/cve-2024-24786.vex.json")), "1a027b910c05b67b5361f560d3bf6f82a12ba3dadce8bc2e405ecad0a3fba128"},
		{"testdata VEX", readFile("testdata/cve-2023-99999.vex.json"), "a4731668a5e00e40f2fc56ba7d1a0903b5767c14f5d11a88f568540704261318"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc(t)
			if got := patchesHash(t, doc); got != tt.hash {
				t.Errorf("patches hash %s, want %s (output changed)", got, tt.hash)
			}
			// Vulnerabilities first: Parse cannot stream them and
			// keeps them until the product tree is read.
			if got := patchesHash(t, vulnerabilitiesFirst(t, doc)); got != tt.hash {
				t.Errorf("vulnerabilities first: patches hash %s, want %s", got, tt.hash)
			}
		})
	}
}

// vulnerabilitiesFirst rewrites doc with its sections in the order
// vulnerabilities, document, product_tree.
func vulnerabilitiesFirst(t *testing.T, doc []byte) []byte {
	t.Helper()
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(doc, &sections); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range []string{"vulnerabilities", "document", "product_tree"} {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", k, sections[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// TestSectionAfterStreamedVulnerabilities: a second document or product
// tree after streamed vulnerabilities would change how they map; it is
// rejected with a ParseError naming the section.
func TestSectionAfterStreamedVulnerabilities(t *testing.T) {
	for _, key := range []string{"document", "product_tree"} {
		doc := `{"document":{"category":"csaf_vex","tracking":{"id":"CVE-1"}},"product_tree":{},"vulnerabilities":[{"cve":"CVE-1"}],"` + key + `":{}}`
		_, err := parseBytes(Reader{}, []byte(doc))
		var pe *feed.ParseError
		if !errors.As(err, &pe) || pe.Field != key || !errors.Is(err, patchcore.ErrMalformedFeed) {
			t.Errorf("%s after vulnerabilities: error %v, want a ParseError for field %q wrapping ErrMalformedFeed", key, err, key)
		}
	}
	// Before the vulnerabilities a repeated section is merged as before.
	doc := `{"document":{"category":"csaf_vex"},"product_tree":{},"document":{"tracking":{"id":"CVE-1"}},"vulnerabilities":[{"cve":"CVE-1"}]}`
	ps, err := parseBytes(Reader{}, []byte(doc))
	if err != nil || len(ps) != 1 || ps[0].ID != "CVE-1" || ps[0].Source != "csaf-vex" {
		t.Errorf("repeated document before vulnerabilities: %v, %v", ps, err)
	}
}

func readFile(path string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestLargeVEXShape checks that largeVEX exercises every status path, so
// that its pinned hash covers them.
func TestLargeVEXShape(t *testing.T) {
	ps, err := parseBytes(Reader{}, largeVEX())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("%d patches, want 1", len(ps))
	}
	count := map[string]int{}
	for _, f := range ps[0].Fixes {
		count[string(f.Status)+"/"+f.Attributes["vex_status"]+"/"+f.Attributes["remediation"]+"/"+f.Attributes["advisory"]]++
	}
	if len(count) < 4 {
		t.Errorf("only %d kinds of fixes: %v", len(count), count)
	}
}

// largeVEX is the large advisory turned into a VEX document whose products
// have every status, with no_fix_planned and none_available remediations.
func largeVEX() []byte {
	doc := largeAdvisory()
	doc = bytes.Replace(doc, []byte(`"csaf_security_advisory"`), []byte(`"csaf_vex"`), 1)
	doc = bytes.Replace(doc, []byte(`"aggregate_severity":{"text":"Important"},`), nil, 1)
	for i, st := range []string{"known_affected", "known_not_affected", "under_investigation", "first_fixed"} {
		doc = bytes.Replace(doc, []byte(`"product_status":{"fixed":`), []byte(`"product_status":{"`+st+`":`), 10)
		_ = i
	}
	doc = bytes.Replace(doc, []byte(`"remediations":[{"category":"vendor_fix","url":"https://access.redhat.com/errata/RHSA-2024:9999"`), []byte(`"threats":[{"category":"impact","details":"Moderate"}],"remediations":[{"category":"no_fix_planned"`), 10)
	doc = bytes.Replace(doc, []byte(`"remediations":[{"category":"vendor_fix","url":"https://access.redhat.com/errata/RHSA-2024:9999"`), []byte(`"remediations":[{"category":"none_available"`), 10)
	doc = bytes.Replace(doc, []byte(`"remediations":[{"category":"vendor_fix","url":"https://access.redhat.com/errata/RHSA-2024:9999"`), []byte(`"remediations":[{"category":"vendor_fix","url":"https://access.redhat.com/errata/RHSA-2024:1234"`), 10)
	return doc
}
