package oval

import (
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/internal/samples"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/patchcore"
)

func parseReader(f feed.Format, r io.Reader) ([]patchcore.Patch, error) {
	var out []patchcore.Patch
	err := f.Parse(context.Background(), r, func(p patchcore.Patch) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func readBz2(t testing.TB, path string) []byte {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b, err := io.ReadAll(bzip2.NewReader(fh))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func byID(t *testing.T, ps []patchcore.Patch, id string) patchcore.Patch {
	t.Helper()
	for _, p := range ps {
		if p.ID == id {
			return p
		}
	}
	t.Fatalf("no patch %s", id)
	return patchcore.Patch{}
}

func fixOf(p patchcore.Patch, release, pkg string) *patchcore.Fix {
	for i, f := range p.Fixes {
		if f.Release == release && f.Package == pkg {
			return &p.Fixes[i]
		}
	}
	return nil
}

func TestRedHat(t *testing.T) {
	doc := readBz2(t, samples.Path(t, "redhat/rhel8-ansible-2-including-unpatched.oval.xml.bz2"))
	ps, err := parseReader(Reader{}, bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	p := byID(t, ps, "RHSA-2019:3927")
	if p.Vendor != "Red Hat" || p.Severity.Level != patchcore.SeverityMedium || !p.Released.Equal(time.Date(2019, 11, 20, 0, 0, 0, 0, time.UTC)) ||
		!slices.Contains(p.Aliases, "oval:com.redhat.rhsa:def:20193927") || len(p.CVEs) != 1 || p.CVEs[0].ID != "CVE-2019-14864" ||
		p.CVEs[0].CVSSScore != 5.7 || p.CVEs[0].CVSSVector != "CVSS:3.0/AV:N/AC:L/PR:L/UI:R/S:U/C:H/I:N/A:N" {
		t.Errorf("RHSA-2019:3927 = %+v", p)
	}
	f := fixOf(p, "8", "ansible")
	if f == nil || f.Distro != "rhel" || f.Status != patchcore.FixFixed || f.FixedVersion != "0:2.9.1-1.el8" || f.Scheme != "rpm" ||
		f.PackageKind != patchcore.PackageBinary || f.Product != "Red Hat Enterprise Linux 8" {
		t.Errorf("ansible fix = %+v", f)
	}
	if len(p.Fixes) != 2 {
		t.Errorf("fixes = %+v (want ansible and ansible-test; signature tests are not packages)", p.Fixes)
	}
	u := byID(t, ps, "CVE-2020-10744")
	if f := fixOf(u, "8", "ansible"); f == nil || f.Status != patchcore.FixUnfixed || f.FixedVersion != "" {
		t.Errorf("unpatched CVE-2020-10744 ansible = %+v", f)
	}
	if u.Severity.Level != patchcore.SeverityMedium {
		t.Errorf("CVE-2020-10744 severity = %+v", u.Severity)
	}
}

func TestSUSE(t *testing.T) {
	fh, err := os.Open(samples.Path(t, "suse/sles-oval-truncated.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	ps, err := parseReader(Reader{}, fh)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 {
		t.Fatalf("got %d definitions, want 4", len(ps))
	}
	p := byID(t, ps, "CVE-2021-29154")
	if p.Vendor != "SUSE" || p.Severity.Level != patchcore.SeverityHigh || !p.Released.Equal(time.Date(2021, 4, 30, 0, 0, 0, 0, time.UTC)) ||
		!p.Revised.Equal(time.Date(2021, 7, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("CVE-2021-29154 = %+v", p)
	}
	var f *patchcore.Fix
	for i := range p.Fixes {
		if p.Fixes[i].Product == "SUSE Linux Enterprise Server 15 SP1-LTSS" && p.Fixes[i].Package == "kernel-default" {
			f = &p.Fixes[i]
		}
	}
	if f == nil || f.Distro != "sles" || f.Release != "15.1" || f.FixedVersion != "0:4.12.14-197.89.2" || f.Status != patchcore.FixFixed {
		t.Errorf("kernel-default on 15 SP1-LTSS = %+v", f)
	}
	old := byID(t, ps, "CVE-1999-0524")
	if f := fixOf(old, "15", "kernel-default"); f == nil || f.Status != patchcore.FixNotAffected {
		t.Errorf("CVE-1999-0524 kernel-default = %+v in %+v", f, old.Fixes)
	}
}

func TestUbuntu(t *testing.T) {
	fh, err := os.Open("testdata/com.ubuntu.jammy.usn.oval.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	ps, err := parseReader(Reader{}, fh)
	if err != nil {
		t.Fatal(err)
	}
	p := byID(t, ps, "USN-5614-1")
	if p.Vendor != "Canonical" || p.Severity.Level != patchcore.SeverityMedium || !p.Released.Equal(time.Date(2022, 9, 15, 0, 0, 0, 0, time.UTC)) ||
		len(p.CVEs) != 1 || p.CVEs[0].CVSSScore != 6.6 {
		t.Errorf("USN-5614-1 = %+v", p)
	}
	var names []string
	for _, f := range p.Fixes {
		if f.Distro != "ubuntu" || f.Release != "jammy" || f.Scheme != "deb" || f.FixedVersion != "0:1.20.0-1ubuntu0.1" || f.PackageKind != patchcore.PackageBinary {
			t.Errorf("fix = %+v", f)
		}
		names = append(names, f.Package)
	}
	if !slices.Equal(names, []string{"libwayland-bin", "libwayland-client0", "libwayland-server0"}) {
		t.Errorf("packages = %v", names)
	}
	k := byID(t, ps, "USN-5618-1")
	if len(k.Fixes) != 1 {
		t.Fatalf("kernel fixes = %+v", k.Fixes)
	}
	f := k.Fixes[0]
	if f.Package != "linux-gke" || f.Release != "jammy" || f.FixedVersion != "0:5.15.0-1016" || f.Status != patchcore.FixFixed ||
		f.Attributes["kernel"] != "running" || f.Attributes["kernel_pattern"] != `5.15.0-\d+(-gke)` {
		t.Errorf("kernel fix = %+v", f)
	}
}

func TestDetect(t *testing.T) {
	if !(Reader{}).Detect([]byte(`<?xml version="1.0"?><oval_definitions xmlns="...">`)) || !(Reader{}).Detect([]byte(`<oval-def:oval_definitions>`)) {
		t.Error("not detected")
	}
	if (Reader{}).Detect([]byte(`<updates>`)) || (Reader{}).Detect([]byte(`{}`)) {
		t.Error("false positive")
	}
}

func TestErrors(t *testing.T) {
	good, err := os.ReadFile("testdata/com.ubuntu.jammy.usn.oval.xml")
	if err != nil {
		t.Fatal(err)
	}
	deepCriteria := `<oval_definitions><definitions><definition id="d">` + strings.Repeat(`<criteria>`, 80) + strings.Repeat(`</criteria>`, 80) + `</definition></definitions></oval_definitions>`
	tests := []struct {
		name, doc, field string
		large            bool
	}{
		{"truncated", string(good[:len(good)/2]), "", false},
		{"empty", "", "oval_definitions", false},
		{"wrong root", "<updates/>", "updates", false},
		{"no definition id", `<oval_definitions><definitions><definition/></definitions></oval_definitions>`, `definition[@id=""]`, false},
		{"bad date", `<oval_definitions><definitions><definition id="d"><metadata><advisory><issued date="soon"/></advisory></metadata></definition></definitions></oval_definitions>`, `definition[@id="d"]`, false},
		{"deep criteria", deepCriteria, `definition[@id="d"]`, true},
		{"deep elements", `<oval_definitions>` + strings.Repeat("<x>", 100) + strings.Repeat("</x>", 100) + `</oval_definitions>`, "x", false},
		{"entities", `<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><oval_definitions><definitions><definition id="&b;"/></definitions></oval_definitions>`, "", false},
		{"external entity", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><oval_definitions><definitions><definition id="&e;"/></definitions></oval_definitions>`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseReader(Reader{File: "oval.xml"}, strings.NewReader(tt.doc))
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrMalformedFeed) {
				t.Fatalf("error %v (%T) is not a malformed-feed *feed.ParseError", err, err)
			}
			if pe.File != "oval.xml" || !strings.HasPrefix(pe.Field, tt.field) || errors.Is(err, patchcore.ErrTooLarge) != tt.large {
				t.Errorf("error %v: field %q, want %q; large %v", err, pe.Field, tt.field, tt.large)
			}
		})
	}
}

func TestEmitError(t *testing.T) {
	fh, err := os.Open("testdata/com.ubuntu.jammy.usn.oval.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	stop := errors.New("stop")
	if err := (Reader{}).Parse(context.Background(), fh, func(patchcore.Patch) error { return stop }); err != stop {
		t.Errorf("err = %v, want the emit error as is", err)
	}
}

func parseFile(t *testing.T, rel string) ([]patchcore.Patch, []feed.Notice, error) {
	t.Helper()
	path := samples.Path(t, rel)
	var r io.Reader
	if strings.HasSuffix(rel, ".bz2") {
		r = bytes.NewReader(readBz2(t, path))
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	var notices []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { notices = append(notices, n) })
	var out []patchcore.Patch
	err := (Reader{}).Parse(ctx, r, func(p patchcore.Patch) error { out = append(out, p); return nil })
	return out, notices, err
}

// Red Hat's unaffected definitions list components Red Hat says are NOT
// affected; they must never read as affected and unfixed.
func TestRedHatUnaffected(t *testing.T) {
	ps, notices, err := parseFile(t, "redhat/rhel7-dotnet-3.1-including-unpatched.oval.xml.bz2")
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices %v", notices)
	}
	tests := []struct {
		id, pkg string
		status  patchcore.FixStatus
		fixed   string
	}{
		{"CVE-2020-0605", "rh-dotnet31", patchcore.FixNotAffected, ""},
		{"CVE-2020-0605", "rh-dotnet31-runtime", patchcore.FixNotAffected, ""},
		{"CVE-2020-0606", "rh-dotnet31-runtime", patchcore.FixNotAffected, ""},
		{"RHSA-2020:0134", "rh-dotnet31-dotnet", patchcore.FixFixed, "0:3.1.101-4.el7"},
	}
	for _, tt := range tests {
		p := byID(t, ps, tt.id)
		f := fixOf(p, "7", tt.pkg)
		if f == nil || f.Distro != "rhel" || f.Status != tt.status || f.FixedVersion != tt.fixed {
			t.Errorf("%s %s = %+v, want %s %q", tt.id, tt.pkg, f, tt.status, tt.fixed)
		}
	}
	for _, p := range ps {
		if !slices.ContainsFunc(p.Aliases, func(a string) bool { return strings.HasPrefix(a, "oval:com.redhat.unaffected:") }) {
			continue
		}
		for _, f := range p.Fixes {
			if f.Status != patchcore.FixNotAffected {
				t.Errorf("%s: unaffected definition gives %+v", p.ID, f)
			}
		}
	}
}

func TestOracle(t *testing.T) {
	ps, notices, err := parseFile(t, "oracle/ELSA-2007-0057.oval.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices %v", notices)
	}
	p := byID(t, ps, "ELSA-2007-0057")
	if p.Vendor != "Oracle" || len(p.CVEs) != 2 || p.Severity.Level != patchcore.SeverityMedium {
		t.Errorf("ELSA-2007-0057 = %+v", p)
	}
	f := fixOf(p, "5", "bind")
	if f == nil || f.Distro != "ol" || f.FixedVersion != "30:9.3.3-8.el5" || f.Status != patchcore.FixFixed || f.Scheme != "rpm" {
		t.Errorf("bind fix = %+v", f)
	}
	for _, f := range p.Fixes {
		if f.Distro != "ol" || f.Release != "5" {
			t.Errorf("fix without the Oracle Linux platform: %+v", f)
		}
	}
}

func TestDebian(t *testing.T) {
	ps, notices, err := parseFile(t, "debian/debian_oval_data.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 0 {
		t.Errorf("notices %v", notices)
	}
	if len(ps) != 2 {
		t.Fatalf("%d patches", len(ps))
	}
	tests := []struct{ id, pkg, fixed string }{
		{"CVE-2001-1593", "a2ps", "1:4.14-1.1+deb7u1"},
		{"CVE-2002-2443", "krb5", "0:1.10.1+dfsg-5+deb7u1"},
	}
	for _, tt := range tests {
		p := byID(t, ps, tt.id)
		if p.Vendor != "Debian" || len(p.CVEs) != 1 || p.CVEs[0].ID != tt.id {
			t.Errorf("%s = %+v", tt.id, p)
		}
		if len(p.Fixes) != 1 {
			t.Fatalf("%s fixes %+v", tt.id, p.Fixes)
		}
		f := p.Fixes[0]
		if f.Distro != "debian" || f.Release != "7" || f.Package != tt.pkg || f.PackageKind != patchcore.PackageSource ||
			f.Scheme != "deb" || f.Status != patchcore.FixFixed || f.FixedVersion != tt.fixed {
			t.Errorf("%s fix = %+v", tt.id, f)
		}
	}
}

func TestRefused(t *testing.T) {
	// The smallest Photon document, in the form Photon's OVAL takes (no
	// public Photon OVAL file was found in the peers' test data).
	photon := `<oval_definitions><definitions><definition id="oval:com.vmware.phsa:def:2024500001" class="patch" version="1"><metadata><title>PHSA-2024:00001 ansible Security Update. (Important)</title><affected family="unix"><platform>Photon 5</platform></affected><reference source="PHSA" ref_id="PHSA:00001:5.0:184"/><reference source="CVE" ref_id="CVE:00001:CVE-2023-5115"/></metadata></definition></definitions></oval_definitions>`
	for _, tt := range []struct {
		name string
		doc  func(t *testing.T) []byte
	}{
		{"azurelinux", func(t *testing.T) []byte {
			b, err := os.ReadFile(samples.Path(t, "azurelinux/azurelinux-3.0-oval.xml"))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"photon", func(*testing.T) []byte { return []byte(photon) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			err := Reader{File: "f.xml"}.Parse(context.Background(), bytes.NewReader(tt.doc(t)), func(patchcore.Patch) error { n++; return nil })
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "not supported") || n != 0 {
				t.Errorf("err %v (%T), %d patches; want a not-supported ParseError and no patch", err, err, n)
			}
		})
	}
}

func TestNoPlatformIsNotCovered(t *testing.T) {
	doc := `<oval_definitions><definitions><definition id="oval:org.example:def:1" class="vulnerability"><metadata><reference source="CVE" ref_id="CVE-2024-1"/></metadata><criteria><criterion test_ref="t" comment="Acme Linux 3 is installed"/><criterion test_ref="p"/></criteria></definition></definitions><tests><rpminfo_test id="p"><object object_ref="o"/><state state_ref="s"/></rpminfo_test></tests><objects><rpminfo_object id="o"><name>a</name></rpminfo_object></objects><states><rpminfo_state id="s"><evr operation="less than">0:1-1</evr></rpminfo_state></states></oval_definitions>`
	var notices []feed.Notice
	ctx := feed.WithNotices(context.Background(), func(n feed.Notice) { notices = append(notices, n) })
	var ps []patchcore.Patch
	if err := (Reader{File: "acme.xml"}).Parse(ctx, strings.NewReader(doc), func(p patchcore.Patch) error { ps = append(ps, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || len(notices) != 1 || notices[0].Kind != feed.NoticeNotCovered || notices[0].ID != "CVE-2024-1" || notices[0].File != "acme.xml" {
		t.Errorf("patches %+v, notices %+v", ps, notices)
	}
	notices = nil
	if err := (Reader{Distro: "acme", Release: "3"}).Parse(ctx, strings.NewReader(doc), func(patchcore.Patch) error { return nil }); err != nil || len(notices) != 0 {
		t.Errorf("with Distro: %v, notices %v", err, notices)
	}
}
