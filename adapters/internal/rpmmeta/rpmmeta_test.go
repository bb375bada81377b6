package rpmmeta

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/patchcore"
)

func TestParseQuery(t *testing.T) {
	b, err := os.ReadFile("testdata/rpm-qa.txt")
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := ParseQuery(b)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, version, srcName, srcVersion, stream string }{
		{"bash", "5.1.8-9.el9", "bash", "5.1.8-9.el9", ""},
		{"nodejs", "1:18.20.4-1.module+el9.4.0+21866+1c5f6c1d", "nodejs", "1:18.20.4-1.module+el9.4.0+21866+1c5f6c1d", "nodejs:18"},
		{"openssl-libs", "1:3.2.2-6.el9_5.1", "openssl", "1:3.2.2-6.el9_5.1", ""},
	}
	if len(pkgs) != len(tests) {
		t.Fatalf("got %d packages, want %d (gpg-pubkey left out)", len(pkgs), len(tests))
	}
	for i, tt := range tests {
		p := pkgs[i]
		if p.Name != tt.name || p.Version != tt.version || p.SourceName != tt.srcName || p.SourceVersion != tt.srcVersion || p.ModuleStream != tt.stream || p.Ecosystem != patchcore.EcosystemRPM {
			t.Errorf("package %d = %+v, want %+v", i, p.Package, tt)
		}
	}
	if !pkgs[0].InstallTime.Equal(time.Unix(1714651200, 0)) {
		t.Errorf("install time %v", pkgs[0].InstallTime)
	}
	for _, bad := range []string{"a\tb\n", "x\tE\t1\t1\tnoarch\t(none)\t0\t(none)\n", "\t(none)\t1\t1\tnoarch\t(none)\t0\t(none)\n"} {
		if _, err := ParseQuery([]byte(bad)); err == nil {
			t.Errorf("ParseQuery(%q) accepted bad input", bad)
		}
	}
}

const advisoryXML = `<updates><update type="security"><id>RLSA-2024:1234</id><title>Important: x</title>
<issued date="2024-05-01 12:00:00"/><severity>Important</severity>
<references><reference id="CVE-2024-1" type="cve"/><reference id="BZ1" type="bugzilla"/><reference id="CVE-2024-1" type="cve"/></references>
<pkglist><collection><package name="x" epoch="1" version="2" release="3" arch="noarch"/><package name="y" epoch="0" version="2" release="3" arch="x86_64"/></collection></pkglist>
</update></updates>`

func TestParseUpdateInfo(t *testing.T) {
	advs, err := ParseUpdateInfo(strings.NewReader(advisoryXML))
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 1 {
		t.Fatalf("got %d advisories", len(advs))
	}
	a := advs[0]
	if a.ID != "RLSA-2024:1234" || a.Classification() != patchcore.ClassSecurity || a.Severity != "Important" ||
		strings.Join(a.CVEs, ",") != "CVE-2024-1" || !a.Issued.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) ||
		strings.Join(a.Packages, ",") != "x-1:2-3.noarch,y-2-3.x86_64" {
		t.Errorf("advisory = %+v", a)
	}
	idx := NewIndex(advs)
	if len(idx.Lookup("y", "2-3", "x86_64")) != 1 || len(idx.Lookup("y", "2-4", "x86_64")) != 0 {
		t.Errorf("index lookup wrong: %v", idx)
	}
	for _, bad := range []string{`<updates><update><title>no id</title></update></updates>`, `<updates><update><id>A</id><issued date="yesterday"/></update></updates>`, `<updates><update>`} {
		if _, err := ParseUpdateInfo(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseUpdateInfo(%q) accepted bad input", bad)
		}
	}
}

func TestVersionlock(t *testing.T) {
	locks := ParseVersionlock([]byte("# comment\n\npatchcore-hello-0:1.0-1.*\n!bash-0:5.2-1.el9.*\nkernel-5.14.0-1.el9.x86_64\n"))
	tests := []struct {
		name, candidate string
		want            bool
	}{
		{"patchcore-hello", "patchcore-hello-1.1-1.noarch", true},
		{"patchcore-hello", "patchcore-hello-1.0-1.noarch", false},
		{"bash", "bash-5.2-1.el9.x86_64", true},
		{"bash", "bash-5.3-1.el9.x86_64", false},
		{"kernel", "kernel-5.14.0-2.el9.x86_64", true},
		{"other", "other-1-1.noarch", false},
	}
	for _, tt := range tests {
		if got := Locked(locks, tt.name, tt.candidate); got != tt.want {
			t.Errorf("Locked(%s, %s) = %v, want %v (locks %+v)", tt.name, tt.candidate, got, tt.want, locks)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	b, _ := os.ReadFile("testdata/rpm-qa.txt")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseQuery(b) })
}

func FuzzParseUpdateInfo(f *testing.F) {
	f.Add([]byte(advisoryXML))
	f.Fuzz(func(t *testing.T, b []byte) {
		advs, err := ParseUpdateInfo(strings.NewReader(string(b)))
		if err == nil {
			for _, a := range advs {
				if a.ID == "" {
					t.Fatal("advisory without ID")
				}
			}
		}
	})
}

func FuzzParseVersionlock(f *testing.F) {
	f.Add([]byte("patchcore-hello-0:1.0-1.*\n!x-1-1.noarch\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range ParseVersionlock(b) {
			_ = Locked([]Lock{l}, l.Name, "x-1-1.noarch")
		}
	})
}
