package dnf

import (
	"os"
	"testing"
)

func TestParseCheckUpdate(t *testing.T) {
	b, err := os.ReadFile("testdata/check-update-rocky9.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseCheckUpdate(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []checkUpdate{
		{"NetworkManager", "x86_64", "1:1.46.0-19.el9_5", "baseos"},
		{"NetworkManager-libnm", "x86_64", "1:1.46.0-19.el9_5", "baseos"},
		{"kernel", "x86_64", "5.14.0-503.22.1.el9_5", "baseos"},
		{"openssl-libs", "x86_64", "1:3.2.2-6.el9_5.1", "baseos"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d updates %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("update %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"onlyname\n", "a.x86_64 1.0\n", "noarch 1.0-1 repo\n", "pkg.arch 1 2 3\n"} {
		if _, err := parseCheckUpdate([]byte(bad)); err == nil {
			t.Errorf("ParseCheckUpdate(%q) accepted bad input", bad)
		}
	}
}

func FuzzParseCheckUpdate(f *testing.F) {
	b, _ := os.ReadFile("testdata/check-update-rocky9.txt")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		ups, err := parseCheckUpdate(b)
		if err != nil {
			return
		}
		for _, u := range ups {
			if u.Name == "" || u.Arch == "" || u.EVR == "" {
				t.Fatalf("incomplete %+v", u)
			}
		}
	})
}
