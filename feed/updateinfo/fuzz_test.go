package updateinfo

import (
	"errors"
	"os"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/internal/samples"
)

func fuzzFormat(f *testing.F, format feed.Format, seeds ...string) {
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		} else {
			f.Add([]byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		format.Detect(b)
		_, err := parseBytes(format, b)
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
	})
}

func FuzzUpdateinfo(f *testing.F) {
	fuzzFormat(f, Reader{}, samples.Path(f, "rocky/updateinfo.xml"), "testdata/fedora-updateinfo.xml",
		"testdata/fedora-updateinfo.xml.bz2", samples.Path(f, "amazon/updateinfo_2_items.xml.gz"),
		`<updates><update type="security"><id>X</id><issued date="2024-01-01"/></update></updates>`)
}

func FuzzAlmaErrata(f *testing.F) {
	fuzzFormat(f, AlmaErrata{}, samples.Path(f, "alma/errata.json"),
		`[{"updateinfo_id":"ALSA-1","issued_date":{"$date":1},"pkglist":{"packages":[{"name":"a","arch":"x86_64"}],"module":{"name":"m","stream":"1"}}}]`)
}

func FuzzRepomd(f *testing.F) {
	for _, s := range []string{samples.Path(f, "rocky/repomd.xml")} {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<repomd><data type="updateinfo"><location href="x"/></data></repomd>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ReadRepomd(t.Context(), bytesReader(b), "repomd.xml")
		var pe *feed.ParseError
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *feed.ParseError", err, err)
		}
		if md != nil {
			md.Updateinfo()
		}
	})
}
