package msrc_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/msrc"
	"github.com/patchcore/sdk/patchcore"
)

func fixFor(t *testing.T, p patchcore.Patch, productID string) patchcore.Fix {
	t.Helper()
	for _, f := range p.Fixes {
		if f.ProductID == productID {
			return f
		}
	}
	t.Fatalf("%s has no fix for product %s", p.ID, productID)
	return patchcore.Fix{}
}

func cve(t *testing.T, p patchcore.Patch, id string) patchcore.CVE {
	t.Helper()
	for _, c := range p.CVEs {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("%s has no %s", p.ID, id)
	return patchcore.CVE{}
}

func TestCVRFRealSamples(t *testing.T) {
	tests := []struct {
		file, kb, productID, product, build, supersedes string
		severity                                        patchcore.SeverityLevel
		cve                                             string
		score                                           float64
		released                                        string
		patches, products                               int
	}{
		{"cvrfDocument-2024-Jan.xml", "KB5034123", "12243", "Windows 11 Version 23H2 for x64-based Systems",
			"10.0.22631.3007", "KB5033375", patchcore.SeverityCritical, "CVE-2024-20674", 8.8, "2024-01-09", 37, 143},
		{"cvrfDocument-2024-Jan.xml", "KB5034127", "11571", "Windows Server 2019",
			"10.0.17763.5329", "KB5033371", patchcore.SeverityCritical, "CVE-2024-20674", 8.8, "2024-01-09", 37, 143},
		{"cvrfDocument-2024-Feb.xml", "KB5034765", "12243", "Windows 11 Version 23H2 for x64-based Systems",
			"10.0.22631.3155", "KB5034123", patchcore.SeverityCritical, "CVE-2024-21338", 7.8, "2024-02-13", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.kb, func(t *testing.T) {
			data, err := os.ReadFile(feedtest.Shared(t, "microsoft/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var ps []patchcore.Patch
			doc, err := msrc.ParseCVRF(context.Background(), bytes.NewReader(data), func(p patchcore.Patch) error {
				ps = append(ps, p)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			kbs := 0
			for _, p := range ps {
				if strings.HasPrefix(p.ID, "KB") {
					kbs++
				}
			}
			if tt.patches > 0 && (kbs != tt.patches || len(doc.Products) != tt.products) {
				t.Errorf("%d KB patches, %d products; want %d, %d", kbs, len(doc.Products), tt.patches, tt.products)
			}
			if got := doc.Products[tt.productID].Name; got != tt.product {
				t.Errorf("product %s = %q, want %q", tt.productID, got, tt.product)
			}
			p := feedtest.Find(t, ps, tt.kb)
			if p.Source != "msrc-cvrf" || p.Vendor != "Microsoft" || p.Classification != patchcore.ClassSecurity {
				t.Errorf("source/vendor/class = %s/%s/%s", p.Source, p.Vendor, p.Classification)
			}
			if p.Severity.Level != tt.severity {
				t.Errorf("severity = %v, want %v", p.Severity, tt.severity)
			}
			if p.Released.Format(time.DateOnly) != tt.released {
				t.Errorf("released = %v, want %s", p.Released, tt.released)
			}
			if c := cve(t, p, tt.cve); c.CVSSScore != tt.score || !strings.HasPrefix(c.CVSSVector, "CVSS:3.1/") {
				t.Errorf("%s = %+v, want score %v", tt.cve, c, tt.score)
			}
			f := fixFor(t, p, tt.productID)
			want := patchcore.Fix{Distro: "windows", Product: tt.product, ProductID: tt.productID, Ecosystem: patchcore.EcosystemWindows,
				Scheme: "dotted", KB: tt.kb, FixedBuild: tt.build, Supersedes: []string{tt.supersedes}, Reboot: patchcore.RebootRequired}
			if f.Distro != want.Distro || f.Product != want.Product || f.KB != want.KB || f.FixedBuild != want.FixedBuild ||
				f.Scheme != want.Scheme || f.Ecosystem != want.Ecosystem || !slices.Equal(f.Supersedes, want.Supersedes) || f.Reboot != want.Reboot {
				t.Errorf("fix = %+v\nwant  %+v", f, want)
			}
			if !slices.Contains(p.Supersedes, tt.supersedes) || !slices.Contains(p.Products, tt.product) {
				t.Errorf("patch supersedes %v products %v", p.Supersedes, p.Products)
			}
		})
	}
}

func TestCVRFProseFixedBuild(t *testing.T) {
	ps := feedtest.ParseFile(t, msrc.CVRF{}, feedtest.Shared(t, "microsoft/cvrfDocument-2024-Feb.xml"))
	p := feedtest.Find(t, ps, "KB5035205")
	for _, f := range p.Fixes {
		if f.FixedBuild != "" {
			t.Errorf("prose build kept as FixedBuild %q", f.FixedBuild)
		}
		if !strings.Contains(f.Attributes["fixed_build_text"], "Application Build") {
			t.Errorf("fixed_build_text = %q", f.Attributes["fixed_build_text"])
		}
	}
	// Patches that are not KBs are product versions or Linux packages,
	// each fix with a version to compare.
	for _, p := range ps {
		if strings.HasPrefix(p.ID, "KB") {
			continue
		}
		for _, f := range p.Fixes {
			switch {
			case strings.HasPrefix(p.ID, "msrc:") && f.Ecosystem == patchcore.EcosystemMicrosoft && f.Package == f.Product && f.Product != "" && f.FixedVersion != "" && f.KB == "":
			case (strings.HasPrefix(p.ID, "mariner:") || strings.HasPrefix(p.ID, "azurelinux:")) && f.Ecosystem == patchcore.EcosystemRPM && f.Distro != "" && f.Release != "" && f.Package != "" && f.FixedVersion != "":
			default:
				t.Errorf("%s: fix %+v", p.ID, f)
			}
		}
	}
}

func TestCSAFFixture(t *testing.T) {
	data, err := os.ReadFile("testdata/msrc_cve-2024-21338.json")
	if err != nil {
		t.Fatal(err)
	}
	if !(msrc.CSAF{}).Detect(data) || (msrc.CVRF{}).Detect(data) {
		t.Fatal("detection")
	}
	var ps []patchcore.Patch
	doc, err := msrc.ParseCSAF(context.Background(), bytes.NewReader(data), func(p patchcore.Patch) error {
		ps = append(ps, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.ID != "msrc_CVE-2024-21338" || doc.Products["12243"].Name != "Windows 11 Version 23H2 for x64-based Systems" {
		t.Errorf("doc %+v", doc)
	}
	if got := []string{ps[0].ID, ps[1].ID, ps[2].ID}; len(ps) != 3 || !slices.Equal(got, []string{"KB5034765", "KB5034763", "KB5034770"}) {
		t.Fatalf("patches %v", got)
	}
	p := ps[0]
	if p.Source != "msrc-csaf" || p.Severity.Level != patchcore.SeverityHigh || p.Severity.Raw != "Important" || p.Reboot != patchcore.RebootRequired {
		t.Errorf("patch %+v", p)
	}
	if c := cve(t, p, "CVE-2024-21338"); c.CVSSScore != 7.8 {
		t.Errorf("cve %+v", c)
	}
	f := fixFor(t, p, "12243")
	if f.FixedBuild != "10.0.22631.3155" || f.KB != "KB5034765" || f.Product != "Windows 11 Version 23H2 for x64-based Systems" {
		t.Errorf("fix %+v", f)
	}
	if f := fixFor(t, ps[2], "11923"); f.FixedBuild != "10.0.20348.2322" {
		t.Errorf("server 2022 fix %+v", f)
	}
	if !p.Released.Equal(time.Date(2024, 2, 13, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("released %v", p.Released)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	data, err := os.ReadFile(feedtest.Shared(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = msrc.CVRF{}.Parse(context.Background(), bytes.NewReader(data), func(patchcore.Patch) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d emits", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (msrc.CVRF{}).Parse(ctx, bytes.NewReader(data), func(patchcore.Patch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCVRFBadInput(t *testing.T) {
	cases := feedtest.XMLHostile("cvrf:cvrfdoc")
	cases = append(cases,
		feedtest.Bad{Name: "wrong root", Data: []byte("<html>\n</html>"), Want: "root element"},
		feedtest.Bad{Name: "broken vulnerability", Data: []byte("<cvrfdoc>\n<Vulnerability><CVE>CVE-1</CVE>\n<Remediations><Remediation></Remediations></Vulnerability></cvrfdoc>"), Want: "Vulnerability[1]"},
		feedtest.Bad{Name: "huge FixedBuild", Data: []byte("<cvrfdoc><Vulnerability><Remediations><Remediation Type=\"Vendor Fix\"><Description>5034441</Description><FixedBuild>" +
			strings.Repeat("9", 5000) + "</FixedBuild></Remediation></Remediations></Vulnerability></cvrfdoc>"), Want: "FixedBuild"},
	)
	feedtest.CheckBad(t, msrc.CVRF{}, cases)
	// A truncated real document names the line.
	data, err := os.ReadFile(feedtest.Shared(t, "microsoft/cvrfDocument-2024-Jan.xml"))
	if err != nil {
		t.Fatal(err)
	}
	feedtest.CheckBad(t, msrc.CVRF{}, []feedtest.Bad{{Name: "truncated real", Data: data[:len(data)/2], Want: "feed:16229:1: Vulnerability[55]"}})
}

func TestCSAFBadInput(t *testing.T) {
	cases := feedtest.JSONHostile()
	cases = append(cases,
		feedtest.Bad{Name: "no document", Data: []byte(`{"vulnerabilities": []}`), Want: "document"},
		feedtest.Bad{Name: "wrong type", Data: []byte(`{"document": {"csaf_version": "2.0"}, "vulnerabilities": [{"cve": 12}]}`), Want: "vulnerabilities[0]"},
	)
	feedtest.CheckBad(t, msrc.CSAF{}, cases)
}

func FuzzCVRF(f *testing.F) {
	f.Add([]byte(`<cvrfdoc><ProductTree><FullProductName ProductID="1">W</FullProductName></ProductTree><Vulnerability><CVE>CVE-1</CVE><Remediations><Remediation Type="Vendor Fix"><Description>5034441</Description><ProductID>1</ProductID><FixedBuild>10.0.1.2</FixedBuild><Supercedence>5000001</Supercedence></Remediation></Remediations></Vulnerability></cvrfdoc>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, msrc.CVRF{}, data)
	})
}

func FuzzCSAF(f *testing.F) {
	data, err := os.ReadFile("testdata/msrc_cve-2024-21338.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, msrc.CSAF{}, data)
	})
}
