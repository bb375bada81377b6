package winget_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/winget"
	"github.com/patchcore/sdk/patchcore"
)

func TestRealManifests(t *testing.T) {
	dir := feedtest.Shared(t, "winget")
	var ps []patchcore.Patch
	if err := winget.ParseDir(context.Background(), dir, func(p patchcore.Patch) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("%d patches", len(ps))
	}
	p := ps[0]
	if p.ID != "winget:7zip.7zip@24.09" || p.Vendor != "Igor Pavlov" || p.Products[0] != "7-Zip" || p.Title != "7-Zip 24.09" {
		t.Errorf("patch %+v", p)
	}
	if !p.Released.Equal(time.Date(2024, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("released %v", p.Released)
	}
	if len(p.Fixes) != 6 {
		t.Fatalf("%d fixes", len(p.Fixes))
	}
	f := p.Fixes[1]
	if f.Package != "7zip.7zip" || f.FixedVersion != "24.09" || f.Scheme != "dotted" || f.Ecosystem != patchcore.EcosystemWinget || f.Arch != "x64" {
		t.Errorf("fix %+v", f)
	}
	in := f.Installer
	if in.URL != "https://7-zip.org/a/7z2409-x64.exe" || in.SHA256 != "bdd1a33de78618d16ee4ce148b849932c05d0015491c34887846d431d29f308e" ||
		in.Type != "exe" || in.Switches != "/S" || in.ProductCode != "7-Zip" || in.Scope != "machine" {
		t.Errorf("installer %+v", in)
	}
	msi := p.Fixes[5].Installer
	if msi.Type != "wix" || msi.ProductCode != "{23170F69-40C1-2702-2409-000001000000}" || msi.Switches != "" {
		t.Errorf("msi installer %+v", msi)
	}
}

func TestEachRealFileAlone(t *testing.T) {
	for _, f := range []string{"7zip.7zip.installer.yaml", "7zip.7zip.locale.en-US.yaml", "7zip.7zip.yaml"} {
		ps := feedtest.ParseFile(t, winget.Format{}, feedtest.Shared(t, "winget/"+f))
		if len(ps) != 1 || ps[0].ID != "winget:7zip.7zip@24.09" {
			t.Errorf("%s: %+v", f, ps)
		}
	}
}

func TestSingletonFixture(t *testing.T) {
	p := feedtest.ParseFile(t, winget.Format{}, "testdata/singleton.yaml")[0]
	f := p.Fixes[0]
	if p.ID != "winget:Contoso.Widget@2.3.1-beta" || f.Scheme != "semver" || f.Installer.Type != "msi" || f.Installer.Switches != "/qn" ||
		f.Installer.Scope != "machine" || p.Released.Format(time.DateOnly) != "2024-03-05" || p.Vendor != "Contoso Ltd." {
		t.Errorf("patch %+v fix %+v installer %+v", p, f, f.Installer)
	}
}

func TestBadInput(t *testing.T) {
	laughs := "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nPackageIdentifier: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	feedtest.CheckBad(t, winget.Format{}, []feedtest.Bad{
		{Name: "syntax", Data: []byte("PackageIdentifier: a\nPackageVersion: 1\n  bad: : indent\n"), Want: "line 3"},
		{Name: "wrong type", Data: []byte("PackageIdentifier: a\nPackageVersion: 1\nInstallers: 5\n"), Want: "line 3"},
		{Name: "no id", Data: []byte("PackageVersion: 1\nManifestType: version\n"), Want: "PackageIdentifier"},
		{Name: "bad sha", Data: []byte("PackageIdentifier: a\nPackageVersion: 1\nManifestType: installer\nInstallers:\n- InstallerUrl: http://x\n  InstallerSha256: zz\n"), Want: "InstallerSha256"},
		{Name: "bad date", Data: []byte("PackageIdentifier: a\nPackageVersion: 1\nManifestType: installer\nReleaseDate: yesterday\nInstallers:\n- InstallerUrl: http://x\n"), Want: "ReleaseDate"},
		{Name: "billion laughs", Data: []byte(laughs), Want: "document[0]"},
		{Name: "deep nesting", Data: []byte("PackageIdentifier: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"), Want: "document[0]"},
		{Name: "huge", Data: bytes.Repeat([]byte("# comment\n"), winget.MaxBytes/10+10), Want: "exceeds", TooLarge: true},
	})
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/singleton.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, winget.Format{}, data)
	})
}

func BenchmarkParse(b *testing.B) {
	var parts [][]byte
	for _, f := range []string{"7zip.7zip.installer.yaml", "7zip.7zip.locale.en-US.yaml", "7zip.7zip.yaml"} {
		data, err := os.ReadFile(feedtest.Shared(b, "winget/"+f))
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, data)
	}
	one := bytes.Join(parts, []byte("\n---\n"))
	big := bytes.Repeat(append(one, "\n---\n"...), 230) // ~0.99 MB (under MaxBytes), 230 package versions
	for _, c := range []struct {
		name string
		data []byte
	}{{"7zip-version", one}, {"generated", big}} {
		b.Run(c.name, func(b *testing.B) { feedtest.Bench(b, winget.Format{}, c.data) })
	}
}
