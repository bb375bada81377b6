package debian

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

// benchFormat measures f on doc: MB/s from SetBytes, allocations per document.
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

func benchSample(b *testing.B, path string) []byte {
	doc, err := os.ReadFile(samples.Path(b, path))
	if err != nil {
		b.Fatal(err)
	}
	return doc
}

// largeTracker generates a tracker document of the real shape, about 20 MB.
func largeTracker() []byte {
	var buf bytes.Buffer
	buf.WriteString("{")
	for p := range 4000 {
		if p > 0 {
			buf.WriteString(",")
		}
		fmt.Fprintf(&buf, "\n  %q: {", fmt.Sprintf("package%d", p))
		for c := range 6 {
			if c > 0 {
				buf.WriteString(",")
			}
			fmt.Fprintf(&buf, `
    "CVE-2024-%05d": {
      "scope": "remote",
      "debianbug": %d,
      "description": "Buffer overflow in the frobnicator of package%d allows remote attackers to execute arbitrary code via a crafted request.",
      "releases": {`, p*6+c, 100000+p, p)
			for r, rel := range []string{"bookworm", "bullseye", "sid", "trixie"} {
				if r > 0 {
					buf.WriteString(",")
				}
				fmt.Fprintf(&buf, `
        %q: {"status": "resolved", "repositories": {%q: "1.2.%d-1", "%s-security": "1.2.%d-1+deb12u1"}, "fixed_version": "1.2.%d-1+deb12u1", "urgency": "low**"}`,
					rel, rel, c, rel, c, c)
			}
			buf.WriteString("\n      }\n    }")
		}
		buf.WriteString("\n  }")
	}
	buf.WriteString("\n}\n")
	return buf.Bytes()
}

// largeDebsecan generates a plain debsecan file of the real shape, about 20 MB.
func largeDebsecan() []byte {
	var buf bytes.Buffer
	buf.WriteString("VERSION 1\n")
	const vulns = 60000
	for v := range vulns {
		fmt.Fprintf(&buf, "CVE-2024-%05d,,Buffer overflow in the frobnicator allows remote attackers to ...\n", v)
	}
	buf.WriteString("\n")
	for v := range vulns * 4 {
		fmt.Fprintf(&buf, "package%d,%d,SMRF,1.2.%d-1,1.2.%d-1+deb12u1 1.2.%d-1+deb11u1\n", v%5000, v%vulns, v%7, v%7, v%7)
	}
	buf.WriteString("\n")
	for p := range 5000 {
		fmt.Fprintf(&buf, "package%d,package%d libpackage%d package%d-dev\n", p, p, p, p)
	}
	return buf.Bytes()
}

// largeAdvisoryList generates a DSA list of the real shape, about 10 MB.
func largeAdvisoryList() []byte {
	var buf bytes.Buffer
	for a := range 60000 {
		fmt.Fprintf(&buf, "[%02d May 2024] DSA-%d-1 package%d - security update\n\t{CVE-2024-%05d CVE-2024-%05d}\n\t[bookworm] - package%d 1.2.%d-1~deb12u1\n\t[bullseye] - package%d 1.2.%d-1~deb11u1\n\tNOTE: a note\n",
			a%28+1, 10000+a, a, a, a+1, a, a%9, a, a%9)
	}
	return buf.Bytes()
}

func BenchmarkTrackerSample(b *testing.B) {
	benchFormat(b, Tracker{}, benchSample(b, "debian/security-tracker-subset.json"))
}
func BenchmarkTrackerLarge(b *testing.B) { benchFormat(b, Tracker{}, largeTracker()) }
func BenchmarkDebsecanSample(b *testing.B) {
	benchFormat(b, Debsecan{}, benchSample(b, "debsecan/001.sid"))
}
func BenchmarkDebsecanLarge(b *testing.B) { benchFormat(b, Debsecan{}, largeDebsecan()) }
func BenchmarkDebsecanLargeZlib(b *testing.B) {
	benchFormat(b, Debsecan{}, zlibBytes(string(largeDebsecan())))
}
func BenchmarkAdvisoryListSample(b *testing.B) {
	doc, err := os.ReadFile("testdata/DSA.list")
	if err != nil {
		b.Fatal(err)
	}
	benchFormat(b, AdvisoryList{}, doc)
}
func BenchmarkAdvisoryListLarge(b *testing.B) {
	benchFormat(b, AdvisoryList{}, largeAdvisoryList())
}
