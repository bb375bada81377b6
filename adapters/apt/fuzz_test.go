package apt

import (
	"os"
	"path/filepath"
	"testing"
)

func addTestdata(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

func FuzzParseDpkgQuery(f *testing.F) {
	addTestdata(f, "debian12/dpkg-query.txt")
	f.Add([]byte("unzip\t6.0-28\tamd64\tunzip\t6.0-28\thi \n"))
	f.Add([]byte("x\t1\tall\t\t\tic\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseDpkgQuery(b)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.SourceName == "" || p.SourceVersion == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func FuzzParseAptList(f *testing.F) {
	addTestdata(f, "debian12/apt-list-upgradable.txt")
	f.Add([]byte("krb5-locales/oldstable,oldstable-security 1.20.1-2+deb12u5 all [upgradable from: 1.20.1-2+deb12u3]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ups, err := parseAptList(b)
		if err != nil {
			return
		}
		for _, u := range ups {
			if u.Name == "" || u.Candidate == "" || u.Installed == "" {
				t.Fatalf("incomplete update %+v", u)
			}
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	addTestdata(f, "debian12/root/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease")
	f.Fuzz(func(t *testing.T, b []byte) {
		r := parseRelease(b)
		_ = r.String()
		_ = classify([]string{r.Suite}, []aptRelease{r})
	})
}

func FuzzParseOSRelease(f *testing.F) {
	addTestdata(f, "debian12/root/etc/os-release")
	f.Add([]byte("NAME='x'\nID=\"a\\\"b\"\n#c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseOSRelease(b)
	})
}
