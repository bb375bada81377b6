package dpkg

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/patchcore"
)

func TestParseFixture(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "status"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	deb := patchcore.EcosystemDeb
	want := []patchcore.Package{
		{Name: "libreoffice-core", Version: "4:7.4.7-1+deb12u1", Arch: "amd64", SourceName: "libreoffice", SourceVersion: "1:7.4.7-1+deb12u1", Ecosystem: deb},
		{Name: "unzip", Version: "6.0-28", Arch: "amd64", SourceName: "unzip", SourceVersion: "6.0-28", Ecosystem: deb, Held: true},
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Arch: "amd64", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Ecosystem: deb},
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Arch: "i386", SourceName: "openssl", SourceVersion: "3.0.11-1~deb12u2", Ecosystem: deb},
		{Name: "libgcc-s1", Version: "12.2.0-14", Arch: "amd64", SourceName: "gcc-12", SourceVersion: "12.2.0-14", Ecosystem: deb},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

// TestParseDebsecanSample reads the dpkg status file of debsecan's own test
// suite: two of its three packages name their source without a version.
func TestParseDebsecanSample(t *testing.T) {
	f, err := os.Open(samples.Path(t, "debsecan/001.status"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range got {
		if p.SourceName != "ethereal" || p.SourceVersion != "0.10.12-6" || p.Arch != "i386" {
			t.Errorf("%s: source %s %s arch %s, want ethereal 0.10.12-6 i386", p.Name, p.SourceName, p.SourceVersion, p.Arch)
		}
		names = append(names, p.Name)
	}
	if want := "ethereal ethereal-common tethereal"; strings.Join(names, " ") != want {
		t.Errorf("packages %q, want %q", strings.Join(names, " "), want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		field    string
		is       error
	}{
		{"no colon", "Package: a\nStatus: install ok installed\nVersion 1.0\n", 3, "", patchcore.ErrInvalidInput},
		{"leading continuation", " continued\n", 1, "", patchcore.ErrInvalidInput},
		{"no version", "Package: a\nStatus: install ok installed\n", 1, "Version", patchcore.ErrInvalidInput},
		{"no name", "Status: install ok installed\nVersion: 1\n", 1, "Package", patchcore.ErrInvalidInput},
		{"no status", "\n\nPackage: a\nVersion: 1\n", 3, "Status", patchcore.ErrInvalidInput},
		{"short status", "Package: a\nVersion: 1\nStatus: install ok\n", 3, "Status", patchcore.ErrInvalidInput},
		{"bad want", "Package: a\nVersion: 1\nStatus: keep ok installed\n", 3, "Status", patchcore.ErrInvalidInput},
		{"bad state", "Package: a\nVersion: 1\nStatus: install ok running\n", 3, "Status", patchcore.ErrInvalidInput},
		{"bad source", "Package: a\nVersion: 1\nStatus: install ok installed\nSource: b (1.0\n", 4, "Source", patchcore.ErrInvalidInput},
		{"empty source version", "Package: a\nVersion: 1\nStatus: install ok installed\nSource: b ()\n", 4, "Source", patchcore.ErrInvalidInput},
		{"second stanza", "Package: a\nVersion: 1\nStatus: install ok installed\n\nPackage: b\nStatus: install ok installed\n", 5, "Version", patchcore.ErrInvalidInput},
		{"paragraphs run together", "Package: a\nVersion: 1\nStatus: install ok installed\nDescription: x\n \nPackage: b\nVersion: 2\nStatus: install ok installed\n", 6, "Package", patchcore.ErrInvalidInput},
		{"line too long", "Package: a\nDescription: " + strings.Repeat("x", MaxLineLength) + "\n", 2, "", patchcore.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want *ParseError", err)
			}
			if pe.Line != tt.line || pe.Field != tt.field {
				t.Errorf("error at line %d field %q, want line %d field %q (%v)", pe.Line, pe.Field, tt.line, tt.field, err)
			}
			if !errors.Is(err, tt.is) || !errors.Is(err, patchcore.ErrInvalidInput) {
				t.Errorf("error %v does not wrap %v and ErrInvalidInput", err, tt.is)
			}
		})
	}
}

// A continuation line of white space only is read as dpkg reads it (part
// of the field, with a warning): the file is not rejected, the repair is
// reported with its line.
func TestParseWhitespaceContinuation(t *testing.T) {
	f, err := os.Open(samples.Path(t, "debian/status-whitespace-continuation"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ParseStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range st.Packages {
		got = append(got, p.Name+" "+p.Version+" "+p.SourceName+" "+p.SourceVersion)
	}
	want := []string{
		"bash 5.1-2+deb11u1 bash 5.1-2+deb11u1",
		"bsdutils 1:2.36.1-8+deb11u1 util-linux 2.36.1-8+deb11u1",
		"libc6 2.31-13+deb11u5 glibc 2.31-13+deb11u5",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("packages\n got %q\nwant %q", got, want)
	}
	if len(st.Recoveries) != 1 || st.Recoveries[0].Line != 26 || st.Recoveries[0].Field != "Description" {
		t.Errorf("recoveries %+v, want one at line 26 in Description", st.Recoveries)
	}
	// Between paragraphs a line of white space is as good as empty.
	st, err = ParseStatus(strings.NewReader("Package: a\nVersion: 1\nStatus: install ok installed\n\n \t\nPackage: b\nVersion: 2\nStatus: install ok installed\n"))
	if err != nil || len(st.Packages) != 2 || len(st.Recoveries) != 0 {
		t.Errorf("%+v, %v", st, err)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct{ in, name, version string }{
		{"openssl", "openssl", ""},
		{"libreoffice (1:7.4.7-1+deb12u1)", "libreoffice", "1:7.4.7-1+deb12u1"},
		{"  gcc-12   ( 12.2.0-14 ) ", "gcc-12", "12.2.0-14"},
	}
	for _, tt := range tests {
		n, v, err := ParseSource(tt.in)
		if err != nil || n != tt.name || v != tt.version {
			t.Errorf("ParseSource(%q) = %q, %q, %v; want %q, %q", tt.in, n, v, err, tt.name, tt.version)
		}
	}
	for _, bad := range []string{"", "(x)", "a b", "a (1 2)", "a (1))"} {
		if _, _, err := ParseSource(bad); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("ParseSource(%q) error %v, want ErrInvalidInput", bad, err)
		}
	}
}

// TestParseWhiteSpaceLine: a line of white space inside a field continues
// it (dpkg and apt read it so; debsecan's test case 012 has one in a
// Description); between stanzas it separates them.
func TestParseWhiteSpaceLine(t *testing.T) {
	in := "Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n \n more\n\t\n last\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n"
	got, err := Parse(strings.NewReader(in))
	if err != nil || len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("Parse = %+v, %v; want a and b", got, err)
	}
	in = "Package: a\nStatus: install ok installed\nVersion: 1\n\n \nPackage: b\nStatus: install ok installed\nVersion: 2\n"
	if got, err := Parse(strings.NewReader(in)); err != nil || len(got) != 2 {
		t.Errorf("Parse = %+v, %v; want a and b", got, err)
	}
}

func TestParseEmpty(t *testing.T) {
	got, err := Parse(strings.NewReader("\n\n"))
	if err != nil || len(got) != 0 {
		t.Errorf("Parse(blank) = %v, %v; want nothing", got, err)
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "status")); err == nil {
		f.Add(string(b))
	}
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (2)\n")
	f.Add("Package: a\n continued\n\n")
	f.Add("Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n \n y\n")
	f.Fuzz(func(t *testing.T, in string) {
		pkgs, err := Parse(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, patchcore.ErrInvalidInput) {
				t.Fatalf("error %v does not wrap ErrInvalidInput", err)
			}
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.SourceName == "" || p.SourceVersion == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}
