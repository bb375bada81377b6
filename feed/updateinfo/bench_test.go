package updateinfo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
	"github.com/patchcore/sdk/patchcore"
)

func benchFormat(b *testing.B, f feed.Format, doc []byte) {
	b.Helper()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	n := 0
	start := cpuTime()
	for b.Loop() {
		n = 0
		if err := f.Parse(context.Background(), bytes.NewReader(doc), func(patchcore.Patch) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
	b.ReportMetric(float64(n), "patches/doc")
}

func readBench(b *testing.B, path string) []byte {
	doc, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// largeUpdateinfo generates an updateinfo.xml of the Rocky shape, about 30 MB.
func largeUpdateinfo() []byte {
	var buf bytes.Buffer
	buf.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n")
	for u := range 12000 {
		fmt.Fprintf(&buf, `  <update from="releng@rockylinux.org" status="final" type="security" version="2">
    <id>RLSA-2023:%05d</id>
    <title>Moderate: package%d security update</title>
    <issued date="2023-05-%02d 10:11:12"></issued>
    <updated date="2023-05-%02d 00:00:00"></updated>
    <rights>Copyright (C) 2023 Rocky Enterprise Software Foundation</rights>
    <release>Rocky Linux 8</release>
    <pushcount>1</pushcount>
    <severity>Moderate</severity>
    <summary>An update for package%d is now available for Rocky Linux 8.</summary>
    <description>A flaw was found in package%d. For more information visit https://errata.rockylinux.org/RLSA-2023:%05d</description>
    <references>
      <reference href="https://access.redhat.com/hydra/rest/securitydata/cve/CVE-2023-%05d.json" id="CVE-2023-%05d" type="cve" title="CVE-2023-%05d"></reference>
    </references>
    <pkglist>
      <collection short="RL8">
        <name>Rocky Linux 8</name>
`, u, u, u%28+1, u%28+1, u, u, u, u, u, u)
		for _, arch := range []string{"x86_64", "aarch64", "i686", "noarch"} {
			for k := range 2 {
				fmt.Fprintf(&buf, `        <package name="package%d-sub%d" version="1.%d.3" release="3.el8_8" epoch="0" arch="%s" src="package%d-1.%d.3-3.el8_8.src.rpm">
          <filename>package%d-sub%d-1.%d.3-3.el8_8.%s.rpm</filename>
          <sum type="sha256">a35c21fbb221611e6c309d319210f00b5f4978a7eb64fd3a8f563ad79b23abfb</sum>
        </package>
`, u, k, u%10, arch, u, u%10, u, k, u%10, arch)
			}
		}
		buf.WriteString("      </collection>\n    </pkglist>\n  </update>\n")
	}
	buf.WriteString("</updates>\n")
	return buf.Bytes()
}

func largeAlma() []byte {
	var buf bytes.Buffer
	buf.WriteString("[")
	for u := range 15000 {
		if u > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, `
  {"_id": {"$oid": "6124ba4438ca2e5c441f5fff"}, "updateinfo_id": "ALSA-2023:%05d", "description": "A flaw was found in package%d that allows remote attackers to do harm.", "fromstr": "packager@almalinux.org",
   "issued_date": {"$date": 1629790196000}, "updated_date": {"$date": 1629804795086}, "pushcount": "1", "release": "0", "severity": "Important", "status": "final", "type": "security", "title": "Important: package%d security update",
   "references": [{"href": "https://vulners.com/cve/CVE-2023-%05d", "type": "cve", "id": "CVE-2023-%05d", "title": "CVE-2023-%05d"}],
   "pkglist": {"name": "almalinux-8-for-x86_64-appstream-rpms__8_0_default", "shortname": "x", "packages": [`, u, u, u, u, u, u)
		for k := range 6 {
			if k > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, `
     {"name": "package%d-sub%d", "version": "1.0.28", "release": "10.el8_4.1", "epoch": "0", "arch": "x86_64", "src": "package%d-1.0.28-10.el8_4.1.src.rpm", "filename": "package%d-sub%d-1.0.28-10.el8_4.1.x86_64.rpm", "sum": "a3f34fa6b1fbcdedc6a71458aad13e977b6daea9e40aea94d723e5cfaefff1a0", "sum_type": "sha256", "reboot_suggested": 0}`, u, k, u, u, k)
		}
		buf.WriteString("]}}")
	}
	buf.WriteString("\n]\n")
	return buf.Bytes()
}

func BenchmarkRockySample(b *testing.B) {
	benchFormat(b, Reader{}, readBench(b, samples.Path(b, "rocky/updateinfo.xml")))
}
func BenchmarkAmazonSampleGzip(b *testing.B) {
	benchFormat(b, Reader{}, readBench(b, samples.Path(b, "amazon/updateinfo_AL2023.xml.gz")))
}
func BenchmarkUpdateinfoLarge(b *testing.B) { benchFormat(b, Reader{}, largeUpdateinfo()) }
func BenchmarkAlmaSample(b *testing.B) {
	benchFormat(b, AlmaErrata{}, readBench(b, samples.Path(b, "alma/errata.json")))
}
func BenchmarkAlmaLarge(b *testing.B) { benchFormat(b, AlmaErrata{}, largeAlma()) }
