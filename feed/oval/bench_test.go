package oval

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
	n := 0
	start := cpuTime()
	for b.Loop() {
		n = 0
		if err := (Reader{}).Parse(context.Background(), bytes.NewReader(doc), func(patchcore.Patch) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(len(doc))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
	}
	b.ReportMetric(float64(n), "patches/doc")
}

// largeRedHat generates a Red Hat OVAL v2 file of the real shape, about 40 MB.
func largeRedHat() []byte {
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" xmlns:red-def="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux">
 <definitions>
`)
	const defs = 8000
	for d := range defs {
		fmt.Fprintf(&buf, `  <definition class="patch" id="oval:com.redhat.rhsa:def:2024%05d" version="635">
   <metadata>
    <title>RHSA-2024:%05d: package%d security update (Moderate)</title>
    <affected family="unix"><platform>Red Hat Enterprise Linux 9</platform></affected>
    <reference ref_id="RHSA-2024:%05d" ref_url="https://access.redhat.com/errata/RHSA-2024:%05d" source="RHSA"/>
    <reference ref_id="CVE-2024-%05d" ref_url="https://access.redhat.com/security/cve/CVE-2024-%05d" source="CVE"/>
    <description>The package%d packages provide things. Security Fix(es): a flaw was found in package%d that allows remote attackers to cause a denial of service via crafted input. For more details about the security issue(s), including the impact, a CVSS score, acknowledgments, and other related information, refer to the CVE page(s) listed in the References section.</description>
    <advisory from="secalert@redhat.com">
     <severity>Moderate</severity>
     <rights>Copyright 2024 Red Hat, Inc.</rights>
     <issued date="2024-01-15"/>
     <updated date="2024-01-15"/>
     <cve cvss3="5.7/CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:N/A:N" cwe="CWE-117" href="https://access.redhat.com/security/cve/CVE-2024-%05d" public="20240101">CVE-2024-%05d</cve>
     <affected_cpe_list><cpe>cpe:/a:redhat:enterprise_linux:9</cpe><cpe>cpe:/a:redhat:enterprise_linux:9::appstream</cpe></affected_cpe_list>
    </advisory>
   </metadata>
   <criteria operator="OR">
    <criterion comment="Red Hat Enterprise Linux must be installed" test_ref="oval:com.redhat.cve:tst:1"/>
    <criteria operator="AND">
     <criterion comment="Red Hat Enterprise Linux 9 is installed" test_ref="oval:com.redhat.cve:tst:2"/>
     <criteria operator="OR">
`, d, d, d, d, d, d, d, d, d, d, d)
		for k := range 4 {
			fmt.Fprintf(&buf, `      <criteria operator="AND">
       <criterion comment="package%d-sub%d is earlier than 0:1.2.3-4.el9" test_ref="oval:com.redhat.rhsa:tst:2024%05d%03d"/>
       <criterion comment="package%d-sub%d is signed with Red Hat redhatrelease2 key" test_ref="oval:com.redhat.rhsa:tst:2024%05d%03d"/>
      </criteria>
`, d, k, d, 2*k+1, d, k, d, 2*k+2)
		}
		buf.WriteString("     </criteria>\n    </criteria>\n   </criteria>\n  </definition>\n")
	}
	buf.WriteString(" </definitions>\n <tests>\n")
	for d := range defs {
		for k := range 4 {
			fmt.Fprintf(&buf, `  <red-def:rpminfo_test check="at least one" comment="package%d-sub%d is earlier than 0:1.2.3-4.el9" id="oval:com.redhat.rhsa:tst:2024%05d%03d" version="635">
   <red-def:object object_ref="oval:com.redhat.rhsa:obj:2024%05d%03d"/>
   <red-def:state state_ref="oval:com.redhat.rhsa:ste:2024%05d%03d"/>
  </red-def:rpminfo_test>
  <red-def:rpminfo_test check="at least one" comment="package%d-sub%d is signed with Red Hat redhatrelease2 key" id="oval:com.redhat.rhsa:tst:2024%05d%03d" version="635">
   <red-def:object object_ref="oval:com.redhat.rhsa:obj:2024%05d%03d"/>
   <red-def:state state_ref="oval:com.redhat.rhsa:ste:1"/>
  </red-def:rpminfo_test>
`, d, k, d, 2*k+1, d, k, d, k, d, k, d, 2*k+2, d, k)
		}
	}
	buf.WriteString(" </tests>\n <objects>\n")
	for d := range defs {
		for k := range 4 {
			fmt.Fprintf(&buf, "  <red-def:rpminfo_object id=\"oval:com.redhat.rhsa:obj:2024%05d%03d\" version=\"635\">\n   <red-def:name>package%d-sub%d</red-def:name>\n  </red-def:rpminfo_object>\n", d, k, d, k)
		}
	}
	buf.WriteString(" </objects>\n <states>\n  <red-def:rpminfo_state id=\"oval:com.redhat.rhsa:ste:1\" version=\"635\">\n   <red-def:signature_keyid operation=\"equals\">199e2f91fd431d51</red-def:signature_keyid>\n  </red-def:rpminfo_state>\n")
	for d := range defs {
		for k := range 4 {
			fmt.Fprintf(&buf, "  <red-def:rpminfo_state id=\"oval:com.redhat.rhsa:ste:2024%05d%03d\" version=\"635\">\n   <red-def:arch datatype=\"string\" operation=\"pattern match\">aarch64|ppc64le|s390x|x86_64</red-def:arch>\n   <red-def:evr datatype=\"evr_string\" operation=\"less than\">0:1.2.3-4.el9</red-def:evr>\n  </red-def:rpminfo_state>\n", d, k)
		}
	}
	buf.WriteString(" </states>\n</oval_definitions>\n")
	return buf.Bytes()
}

func BenchmarkRedHatSample(b *testing.B) {
	benchDoc(b, readBz2(b, samples.Path(b, "redhat/rhel8-ansible-2-including-unpatched.oval.xml.bz2")))
}
func BenchmarkSUSESample(b *testing.B) {
	doc, err := os.ReadFile(samples.Path(b, "suse/sles-oval-truncated.xml"))
	if err != nil {
		b.Fatal(err)
	}
	benchDoc(b, doc)
}
func BenchmarkRedHatLarge(b *testing.B) { benchDoc(b, largeRedHat()) }
