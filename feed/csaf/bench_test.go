package csaf

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

func benchDoc(b *testing.B, doc []byte) {
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	fixes := 0
	start := cpuTime()
	for b.Loop() {
		fixes = 0
		if err := (Reader{}).Parse(context.Background(), bytes.NewReader(doc), func(p patchcore.Patch) error { fixes += len(p.Fixes); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
	b.ReportMetric(float64(fixes), "fixes/doc")
}

func readBench(b *testing.B, path string) []byte {
	doc, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// largeAdvisory generates a kernel-sized RHSA (about 20 MB): many binary
// packages on several products and architectures, many CVEs.
func largeAdvisory() []byte {
	var buf bytes.Buffer
	products := []string{"AppStream-9.4.0.Z.MAIN", "BaseOS-9.4.0.Z.MAIN", "CRB-9.4.0.Z.MAIN", "NFV-9.4.0.Z.MAIN", "RT-9.4.0.Z.MAIN"}
	arches := []string{"x86_64", "aarch64", "ppc64le", "s390x"}
	buf.WriteString(`{"document":{"aggregate_severity":{"text":"Important"},"category":"csaf_security_advisory","csaf_version":"2.0","publisher":{"name":"Red Hat Product Security"},"title":"Important: kernel security update","tracking":{"id":"RHSA-2024:9999","initial_release_date":"2024-09-03T17:57:24+00:00","current_release_date":"2024-09-04T00:00:00+00:00"},"notes":[{"category":"general","text":"The kernel packages contain the Linux kernel."}]},"product_tree":{"branches":[{"category":"vendor","name":"Red Hat","branches":[{"category":"product_family","name":"Red Hat Enterprise Linux","branches":[`)
	for i, p := range products {
		if i > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, `{"category":"product_name","name":"%s","product":{"name":"%s","product_id":"%s","product_identification_helper":{"cpe":"cpe:/a:redhat:enterprise_linux:9::appstream"}}}`, p, p, p)
	}
	buf.WriteString(`]}`)
	var ids []string
	for _, a := range arches {
		fmt.Fprintf(&buf, `,{"category":"architecture","name":"%s","branches":[`, a)
		for k := range 150 {
			if k > 0 {
				buf.WriteString(",")
			}
			n := fmt.Sprintf("kernel-sub%d-0:5.14.0-427.33.1.el9_4.%s", k, a)
			ids = append(ids, n)
			fmt.Fprintf(&buf, `{"category":"product_version","name":"%s","product":{"name":"%s","product_id":"%s","product_identification_helper":{"purl":"pkg:rpm/redhat/kernel-sub%d@5.14.0-427.33.1.el9_4?arch=%s"}}}`, n, n, n, k, a)
		}
		buf.WriteString(`]}`)
	}
	buf.WriteString(`]}],"relationships":[`)
	var full []string
	for i, p := range products {
		for j, id := range ids {
			if i > 0 || j > 0 {
				buf.WriteString(",")
			}
			f := p + ":" + id
			full = append(full, f)
			fmt.Fprintf(&buf, `{"category":"default_component_of","full_product_name":{"name":"%s as a component of %s","product_id":"%s"},"product_reference":"%s","relates_to_product_reference":"%s"}`, id, p, f, id, p)
		}
	}
	buf.WriteString(`]},"vulnerabilities":[`)
	for c := range 60 {
		if c > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, `{"cve":"CVE-2024-%05d","notes":[{"category":"description","text":"A flaw in the kernel."}],"product_status":{"fixed":[`, c)
		for i, f := range full {
			if i > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, "%q", f)
		}
		buf.WriteString(`]},"remediations":[{"category":"vendor_fix","url":"https://access.redhat.com/errata/RHSA-2024:9999","product_ids":[`)
		for i, f := range full {
			if i > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, "%q", f)
		}
		buf.WriteString(`]}],"scores":[{"cvss_v3":{"baseScore":7.8,"vectorString":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}]}`)
	}
	buf.WriteString("]}\n")
	return buf.Bytes()
}

func BenchmarkRHSASample(b *testing.B) {
	benchDoc(b, readBench(b, samples.Path(b, "redhat/rhsa-2022-0011.csaf.json")))
}
func BenchmarkVEXSample(b *testing.B) {
	benchDoc(b, readBench(b, samples.Path(b, "redhat/cve-2024-24786.vex.json")))
}
func BenchmarkRHSALarge(b *testing.B) { benchDoc(b, largeAdvisory()) }
