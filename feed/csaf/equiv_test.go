package csaf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

// TestGolden compares the patches of the large generated documents and
// of the samples with golden files (see render), with the vulnerabilities
// section in place and moved first (Parse cannot stream them then and
// keeps them until the product tree is read): any change in any emitted
// field fails, showing the lines that changed. Each document's patches are
// also checked by hand against what the document says, so that a golden
// file rewritten with -update cannot pin a wrong answer unnoticed.
func TestGolden(t *testing.T) {
	tests := []struct {
		name, golden string
		doc          func(t *testing.T) []byte
		check        func(t *testing.T, p patchcore.Patch)
	}{
		{"large RHSA", "large-rhsa.txt.gz", func(*testing.T) []byte { return largeAdvisory() }, checkLargeRHSA},
		{"large VEX", "large-vex.txt.gz", func(*testing.T) []byte { return largeVEX() }, checkLargeVEX},
		{"rhsa-2022-0011", "rhsa-2022-0011.txt", readFile(samples.Path(t, "redhat/rhsa-2022-0011.csaf.json")), checkRHSA2022_0011},
		{"rhsa-2024_6163", "rhsa-2024_6163.txt", readFile(samples.Path(t, "redhat/rhsa-2024_6163.csaf.json")), checkRHSA2024_6163},
		{"cve-2024-24786 VEX", "cve-2024-24786.vex.txt", readFile(samples.Path(t, "redhat/cve-2024-24786.vex.json")), checkVEX2024_24786},
		{"testdata VEX", "cve-2023-99999.vex.txt", readFile("testdata/cve-2023-99999.vex.json"), checkVEX2023_99999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc(t)
			ps, err := parseBytes(Reader{}, doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 {
				t.Fatalf("%d patches, want 1", len(ps))
			}
			tt.check(t, ps[0])
			got := render(t, ps)
			golden(t, tt.golden, got)
			moved, err := parseBytes(Reader{}, vulnerabilitiesFirst(t, doc))
			if err != nil {
				t.Fatalf("vulnerabilities first: %v", err)
			}
			if again := render(t, moved); !bytes.Equal(again, got) {
				t.Errorf("vulnerabilities first: output differs:\n%s", lineDiff(again, got))
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
// that its golden file covers them.
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
