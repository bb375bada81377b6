package native_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/feed/fetch"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/feed/native"
	"github.com/patchcore/sdk/patchcore"
)

func TestFixture(t *testing.T) {
	ps := feedtest.ParseFile(t, native.Format{}, "testdata/contoso.json")
	if len(ps) != 2 {
		t.Fatalf("%d patches", len(ps))
	}
	p := ps[0]
	if p.ID != "CONTOSO-2024-001" || p.Source != "patchcore" || p.Vendor != "Contoso" || p.Severity.Level != patchcore.SeverityHigh ||
		p.CVEs[0].CVSSScore != 8.1 || p.Supersedes[0] != "CONTOSO-2023-014" || !p.Released.Equal(time.Date(2024, 2, 27, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("patch %+v", p)
	}
	if in := p.Fixes[0].Installer; in == nil || in.Switches != "/qn" || in.Type != "msi" {
		t.Errorf("installer %+v", in)
	}
	if ps[1].Classification != patchcore.ClassOther {
		t.Errorf("default classification %q", ps[1].Classification)
	}
}

func TestRoundTripSigned(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{3}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	orig := feedtest.ParseFile(t, native.Format{}, "testdata/contoso.json")
	var buf bytes.Buffer
	w, err := native.NewWriter(&buf, native.Header{Publisher: native.Publisher{Name: "Contoso"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range orig {
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(patchcore.Patch{}); err == nil || !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("writing an invalid patch: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "feed.json")
	os.WriteFile(path, buf.Bytes(), 0o644)
	sig, _ := fetch.Sign(priv, bytes.NewReader(buf.Bytes()))
	os.WriteFile(path+".sig", sig, 0o644)
	var got []patchcore.Patch
	h, err := native.ParseFileSigned(context.Background(), path, pub, func(p patchcore.Patch) error { got = append(got, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if h.SchemaVersion != native.SchemaVersion || len(got) != 2 || got[0].Fixes[1].FixedVersion != "5.2.1-1" {
		t.Errorf("header %+v, patches %+v", h, got)
	}
	// Tampering is caught before anything is emitted.
	tampered := bytes.Replace(buf.Bytes(), []byte("5.2.1-1"), []byte("5.2.0-1"), 1)
	os.WriteFile(path, tampered, 0o644)
	n := 0
	_, err = native.ParseFileSigned(context.Background(), path, pub, func(patchcore.Patch) error { n++; return nil })
	if !errors.Is(err, patchcore.ErrSignatureInvalid) || n != 0 || !strings.Contains(err.Error(), path) {
		t.Errorf("tampered: err %v after %d patches", err, n)
	}
}

func TestBadInput(t *testing.T) {
	cases := feedtest.JSONHostile()
	cases = append(cases,
		feedtest.Bad{Name: "no version", Data: []byte(`{"patches": []}`), Want: "patchcore_feed"},
		feedtest.Bad{Name: "bad cve", Data: []byte(`{"patchcore_feed": "1.0", "patches": [{"id": "A", "cves": [{"id": "cve 1"}]}]}`), Want: "patches[0] A"},
		feedtest.Bad{Name: "bad scheme", Data: []byte(`{"patchcore_feed": "1.0", "patches": [{"id": "A", "fixes": [{"scheme": "pep440"}]}]}`), Want: "scheme"},
		feedtest.Bad{Name: "bad severity", Data: []byte(`{"patchcore_feed": "1.0", "patches": [{"id": "A", "severity": {"level": "extreme"}}]}`), Want: "patches[0]"},
		feedtest.Bad{Name: "no id", Data: []byte(`{"patchcore_feed": "1.0", "patches": [{"title": "x"}]}`), Want: "id missing"},
	)
	feedtest.CheckBad(t, native.Format{}, cases)
	_, err := feedtest.Parse(t, native.Format{}, []byte(`{"patchcore_feed": "2.0", "patches": []}`))
	if !errors.Is(err, patchcore.ErrUnsupported) {
		t.Errorf("major 2: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/contoso.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		feedtest.Parse(t, native.Format{}, data)
	})
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/contoso.json")
	if err != nil {
		b.Fatal(err)
	}
	ps := feedtest.ParseFile(b, native.Format{}, "testdata/contoso.json")
	var buf bytes.Buffer
	w, _ := native.NewWriter(&buf, native.Header{Publisher: native.Publisher{Name: "Contoso"}})
	for i := range 40000 {
		p := ps[i%2]
		p.ID = p.ID + "-" + string(rune('a'+i%26))
		w.Write(p)
	}
	w.Close()
	for _, c := range []struct {
		name string
		data []byte
	}{{"fixture", data}, {"generated", buf.Bytes()}} {
		b.Run(c.name, func(b *testing.B) { feedtest.Bench(b, native.Format{}, c.data) })
	}
}
