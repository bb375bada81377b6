package chocolatey_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed/chocolatey"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/patchcore"
)

func TestNuspecRealSample(t *testing.T) {
	ps := feedtest.ParseFile(t, chocolatey.Format{}, feedtest.Shared(t, "chocolatey/firefox.nuspec"))
	if len(ps) != 1 {
		t.Fatalf("%d patches", len(ps))
	}
	p := ps[0]
	if p.ID != "chocolatey:firefox@67.0.1" || p.Source != "chocolatey" || p.Vendor != "Mozilla" || p.Products[0] != "Mozilla Firefox" {
		t.Errorf("patch %+v", p)
	}
	f := p.Fixes[0]
	want := patchcore.Fix{Distro: "windows", Ecosystem: patchcore.EcosystemChocolatey, Package: "firefox", FixedVersion: "67.0.1", Scheme: "dotted"}
	if f.Distro != want.Distro || f.Ecosystem != want.Ecosystem || f.Package != want.Package || f.FixedVersion != want.FixedVersion || f.Scheme != want.Scheme || f.Installer != nil {
		t.Errorf("fix %+v, want %+v", f, want)
	}
	if len(p.References) != 2 || !strings.Contains(p.References[1], "67.0.1/releasenotes") {
		t.Errorf("references %v", p.References)
	}
}

// Most chocolatey-community nuspecs declare no nuspec namespace; format
// detection must still know them.
func TestNuspecWithoutNamespace(t *testing.T) {
	b, err := os.ReadFile(feedtest.Shared(t, "chocolatey/7zip.nuspec"))
	if err != nil {
		t.Fatal(err)
	}
	if !(chocolatey.Format{}).Detect(b[:min(len(b), 8<<10)]) {
		t.Fatal("7zip.nuspec (no namespace) not detected")
	}
	ps := feedtest.ParseFile(t, chocolatey.Format{}, feedtest.Shared(t, "chocolatey/7zip.nuspec"))
	if len(ps) != 1 || ps[0].ID != "chocolatey:7zip@26.2" || ps[0].Vendor != "Igor Pavlov" {
		t.Errorf("patches %+v", ps)
	}
	for _, head := range []string{
		"<package><files/></package>",
		"<packages><metadata/></packages>",
		`<?xml version="1.0"?><updates><package><metadata/></package></updates>`,
		"text <package><metadata>",
	} {
		if (chocolatey.Format{}).Detect([]byte(head)) {
			t.Errorf("Detect(%q) = true", head)
		}
	}
}

func TestODataFixture(t *testing.T) {
	ps := feedtest.ParseFile(t, chocolatey.Format{}, "testdata/packages-odata.xml")
	if len(ps) != 2 {
		t.Fatalf("%d patches", len(ps))
	}
	ff, zip := ps[0], ps[1]
	if ff.ID != "chocolatey:firefox@123.0" || ff.Vendor != "Mozilla" || !ff.Released.Equal(time.Date(2024, 2, 20, 16, 25, 43, 447e6, time.UTC)) {
		t.Errorf("firefox %+v", ff)
	}
	in := ff.Fixes[0].Installer
	if in == nil || in.URL != "https://community.chocolatey.org/api/v2/package/firefox/123.0" || in.Size != 6788 || in.Type != "nupkg" || in.SHA256 != "" {
		t.Errorf("firefox installer %+v", in)
	}
	if len(ff.Fixes[0].Attributes["package_hash_sha512"]) != 128 {
		t.Errorf("sha512 attribute %v", ff.Fixes[0].Attributes)
	}
	if zip.ID != "chocolatey:7zip.install@24.9.0" || zip.Fixes[0].Installer.SHA256 != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("7zip %+v %+v", zip, zip.Fixes[0].Installer)
	}
}

func TestBadInput(t *testing.T) {
	cases := feedtest.XMLHostile("package")
	cases = append(cases,
		feedtest.Bad{Name: "no id", Data: []byte("<package>\n<metadata><version>1.0</version></metadata></package>"), Want: "id missing"},
		feedtest.Bad{Name: "bad version", Data: []byte("<package><metadata><id>a</id><version>1 0</version></metadata></package>"), Want: "version"},
		feedtest.Bad{Name: "bad size", Data: []byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a</title><content src="http://x/a"/><properties><Version>1</Version><PackageSize>-3</PackageSize></properties></entry></feed>`), Want: "entry[1]"},
		feedtest.Bad{Name: "wrong root", Data: []byte("<html/>"), Want: "root element"},
		feedtest.Bad{Name: "deep entry", Data: []byte("<feed><entry>" + strings.Repeat("<x>", 20000) + strings.Repeat("</x>", 20000) + "</entry></feed>"), Want: "nested", TooLarge: true},
	)
	feedtest.CheckBad(t, chocolatey.Format{}, cases)
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/packages-odata.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`<package><metadata><id>a</id><version>1.0</version></metadata></package>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, chocolatey.Format{}, data)
	})
}

func BenchmarkParse(b *testing.B) {
	nuspec, err := os.ReadFile(feedtest.Shared(b, "chocolatey/firefox.nuspec"))
	if err != nil {
		b.Fatal(err)
	}
	odata, err := os.ReadFile("testdata/packages-odata.xml")
	if err != nil {
		b.Fatal(err)
	}
	s := string(odata)
	i, j := strings.Index(s, "<entry>"), strings.LastIndex(s, "</feed>")
	big := []byte(s[:i] + strings.Repeat(s[i:j], 8000) + s[j:])
	for _, c := range []struct {
		name string
		data []byte
	}{{"nuspec", nuspec}, {"odata-fixture", odata}, {"odata-generated", big}} {
		b.Run(c.name, func(b *testing.B) { feedtest.Bench(b, chocolatey.Format{}, c.data) })
	}
}
