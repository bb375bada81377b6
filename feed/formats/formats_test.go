package formats_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/feed/internal/feedtest"
	"github.com/patchcore/sdk/patchcore"
)

// sharedFiles maps every sample in the repository's testdata/feeds to the format
// that must recognise it and a patch ID it must produce. Files that are not
// feeds (debsecan's expected outputs, a dpkg status file, repomd.xml) are
// listed with an empty format.
var sharedFiles = map[string]struct{ format, id string }{
	"alma/ALSA-2022-8194.osv.json":                             {"osv", "ALSA-2022:8194"},
	"alma/errata.json":                                         {"alma-errata", ""},
	"amazon/updateinfo_2_items.xml.gz":                         {"updateinfo", ""},
	"amazon/updateinfo_AL2023.xml.gz":                          {"updateinfo", ""},
	"chocolatey/7zip.nuspec":                                   {"chocolatey", "chocolatey:7zip@26.2"},
	"chocolatey/firefox.nuspec":                                {"chocolatey", "chocolatey:firefox@67.0.1"},
	"debian/security-tracker-subset.json":                      {"debian-tracker", ""},
	"debsecan/001.sid":                                         {"debsecan", ""},
	"microsoft/cvrfDocument-2024-Feb.xml":                      {"msrc-cvrf", "KB5034765"},
	"microsoft/cvrfDocument-2024-Jan.xml":                      {"msrc-cvrf", "KB5034123"},
	"osv/GO-2024-2687.json":                                    {"osv", "GO-2024-2687"},
	"osv/PYSEC-2023-120.json":                                  {"osv", "PYSEC-2023-120"},
	"redhat/cve-2024-24786.vex.json":                           {"csaf", "CVE-2024-24786"},
	"redhat/rhel8-ansible-2-including-unpatched.oval.xml.bz2":  {"oval", ""},
	"redhat/rhsa-2022-0011.csaf.json":                          {"redhat-csaf", ""},
	"redhat/rhsa-2024_6163.csaf.json":                          {"redhat-csaf", ""},
	"rocky/RLSA-2023_3220.osv.json":                            {"osv", "RLSA-2023:3220"},
	"rocky/updateinfo.xml":                                     {"updateinfo", ""},
	"suse/cvrf-suse-su-2019-1608-1.xml":                        {"suse-cvrf", "SUSE-SU-2019:1608-1"},
	"suse/cvrf-opensuse-su-2016-0874-1.xml":                    {"suse-cvrf", "openSUSE-SU-2016:0874-1"},
	"suse/sles-oval-truncated.xml":                             {"oval", ""},
	"ubuntu/USN-5614-1.osv.json":                               {"osv", "USN-5614-1"},
	"winget/7zip.7zip.installer.yaml":                          {"winget", "winget:7zip.7zip@24.09"},
	"winget/7zip.7zip.locale.en-US.yaml":                       {"winget", "winget:7zip.7zip@24.09"},
	"winget/7zip.7zip.yaml":                                    {"winget", "winget:7zip.7zip@24.09"},
	"redhat/rhel7-dotnet-3.1-including-unpatched.oval.xml.bz2": {"oval", "CVE-2020-0605"},
	"oracle/ELSA-2007-0057.oval.xml":                           {"oval", "ELSA-2007-0057"},
	"debian/debian_oval_data.xml":                              {"oval", "CVE-2001-1593"},
	"debian/DLA-list-malformed-header":                         {"debian-advisory-list", "DLA-2711-1"},
	"debian/status-whitespace-continuation":                    {},
	"debsecan/001.exp.detail":                                  {},
	"debsecan/001.exp.packages":                                {},
	"debsecan/001.exp.report":                                  {},
	"debsecan/001.exp.summary":                                 {},
	"debsecan/001.history":                                     {},
	"debsecan/001.status":                                      {},
	"rocky/repomd.xml":                                         {},
	"SOURCES.md":                                               {},
	"debian/tracker-vuln-list-update.json":                     {"debian-tracker", ""},
	"rocky/RLSA-2021_3891.osv.json":                            {"osv", "RLSA-2021:3891"},
	"suse/cvrf-opensuse-su-2015-0225-1.xml":                    {"suse-cvrf", "openSUSE-SU-2015:0225-1"},
	"suse/cvrf-opensuse-su-2015-0798-1.xml":                    {"suse-cvrf", "openSUSE-SU-2015:0798-1"},
	"ubuntu/UBUNTU-CVE-2021-3782.osv.json":                     {"osv", "UBUNTU-CVE-2021-3782"},
	"redhat/rhsa-2024_0811.csaf.json":                          {"csaf", "RHSA-2024:0811"},
	"debsecan/012.exp.summary":                                 {},
	"debsecan/012.status":                                      {},
	"microsoft/cvrfDocument-2024-Mar.xml.gz":                   {"msrc-cvrf", "KB5035959"},
}

// refusedFiles are samples of a format's vendors that the format
// recognises and refuses as not supported (docs/feed-formats.md says why).
var refusedFiles = map[string]string{
	"azurelinux/azurelinux-3.0-oval.xml": "oval",
}

func TestEverySharedFeedParses(t *testing.T) {
	root := feedtest.Shared(t, ".")
	known := map[string]bool{}
	for _, n := range formats.Names() {
		known[n] = true
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "LICENSES" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "SOURCES.md" {
			return nil
		}
		if format, ok := refusedFiles[filepath.ToSlash(rel)]; ok {
			t.Run(rel, func(t *testing.T) {
				f, err := formats.ParseFileWith(context.Background(), path, formats.Options{}, func(patchcore.Patch) error { return nil })
				if f == nil || f.Name() != format || !errors.Is(err, patchcore.ErrUnsupported) {
					t.Errorf("format %v, err %v; want %s refusing it as unsupported", f, err, format)
				}
			})
			return nil
		}
		want, listed := sharedFiles[filepath.ToSlash(rel)]
		if !listed {
			t.Errorf("%s: new sample, add it to sharedFiles", rel)
			return nil
		}
		if want.format == "" {
			return nil
		}
		t.Run(rel, func(t *testing.T) {
			if !known[want.format] {
				t.Logf("format %s not in formats.All yet", want.format)
				return
			}
			n := 0
			found := want.id == ""
			f, err := formats.ParseFileWith(context.Background(), path, formats.Options{}, func(p patchcore.Patch) error {
				n++
				if p.ID == want.id {
					found = true
				}
				if p.ID == "" || p.Source == "" {
					t.Errorf("patch without ID or Source: %+v", p)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if f.Name() != want.format {
				t.Errorf("detected %s, want %s", f.Name(), want.format)
			}
			if n == 0 || !found {
				t.Errorf("%d patches, %s found: %v", n, want.id, found)
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDetectionIsUnambiguous(t *testing.T) {
	root := feedtest.Shared(t, ".")
	for rel, want := range sharedFiles {
		if want.format == "" || strings.HasSuffix(rel, ".gz") || strings.HasSuffix(rel, ".bz2") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		head := data[:min(len(data), formats.HeadSize)]
		var claim []string
		for _, f := range formats.All() {
			if f.Detect(head) {
				claim = append(claim, f.Name())
			}
		}
		if len(claim) > 1 {
			t.Errorf("%s claimed by %v", rel, claim)
		}
	}
}

func TestByName(t *testing.T) {
	for _, n := range formats.Names() {
		f, err := formats.ByName(n)
		if err != nil || f.Name() != n {
			t.Errorf("ByName(%s) = %v, %v", n, f, err)
		}
	}
	if _, err := formats.ByName("nope"); !errors.Is(err, patchcore.ErrUnknownFormat) || !strings.Contains(err.Error(), "msrc-cvrf") {
		t.Errorf("unknown: %v", err)
	}
}

func TestParseFileErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"id": "GO-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "Go", "name": "x"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}]}`))
	zw.Close()
	good := write("good.json.gz", gz.Bytes())
	n := 0
	if err := formats.ParseFile(context.Background(), good, func(patchcore.Patch) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("gzip OSV: %v, %d patches", err, n)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr error
		want    string
	}{
		{"truncated.json.gz", gz.Bytes()[:len(gz.Bytes())-30], patchcore.ErrMalformedFeed, "truncated.json.gz"},
		{"unknown.txt", []byte("hello world"), patchcore.ErrUnknownFormat, "unknown.txt"},
		{"wrongly-compressed.gz", append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{0}, 40)...), patchcore.ErrMalformedFeed, "wrongly-compressed.gz"},
		{"broken.xml", []byte("<cvrf:cvrfdoc xmlns:cvrf=\"x\">\n<cvrf:DocumentTitle>Microsoft</cvrf:DocumentTitle>\n<vuln:Vulnerability><oops></cvrf:cvrfdoc>"), patchcore.ErrMalformedFeed, "broken.xml:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(tt.name, tt.data)
			err := formats.ParseFile(context.Background(), p, func(patchcore.Patch) error { return nil })
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %q does not contain %q", err, tt.want)
			}
			var pe *feed.ParseError
			if errors.As(err, &pe) && pe.File != p {
				t.Errorf("ParseError.File = %q, want %q", pe.File, p)
			}
		})
	}
}

// An explicit format that is not the document's is an error naming what
// the document is, never zero patches.
func TestExplicitFormatMismatch(t *testing.T) {
	root := feedtest.Shared(t, ".")
	tests := []struct{ format, file, want string }{
		{"msrc-csaf", "redhat/rhsa-2024_6163.csaf.json", "content is not format msrc-csaf but format csaf"},
		{"oval", "suse/cvrf-suse-su-2019-1608-1.xml", "content is not format oval but format suse-cvrf"},
		{"osv", "debsecan/001.exp.summary", "content is not format osv but no format patchcore knows"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			f, err := formats.ByName(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(root, tt.file)
			n := 0
			_, err = formats.ParseFileWith(context.Background(), path, formats.Options{Format: f}, func(patchcore.Patch) error { n++; return nil })
			var pe *feed.ParseError
			if !errors.As(err, &pe) || !errors.Is(err, patchcore.ErrUnknownFormat) || pe.File != path || !strings.Contains(err.Error(), tt.want) || n != 0 {
				t.Errorf("err %v, %d patches; want a ParseError naming %s saying %q", err, n, path, tt.want)
			}
		})
	}
	// The right explicit format still parses.
	f, _ := formats.ByName("csaf")
	n := 0
	if _, err := formats.ParseFileWith(context.Background(), filepath.Join(root, "redhat/rhsa-2024_6163.csaf.json"), formats.Options{Format: f}, func(patchcore.Patch) error { n++; return nil }); err != nil || n == 0 {
		t.Errorf("csaf: %v, %d patches", err, n)
	}
}

func TestWingetDirectory(t *testing.T) {
	dir := feedtest.Shared(t, "winget")
	var ids []string
	f, err := formats.ParseFileWith(context.Background(), dir, formats.Options{}, func(p patchcore.Patch) error { ids = append(ids, p.ID); return nil })
	if err != nil || f.Name() != "winget" || len(ids) != 1 || ids[0] != "winget:7zip.7zip@24.09" {
		t.Fatalf("%v %v %v", f, ids, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":"X","modified":"2024-01-01T00:00:00Z"}`))
	f.Add([]byte("<package><metadata><id>a</id><version>1</version></metadata></package>"))
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		formats.Parse(context.Background(), "fuzz", bytes.NewReader(data), formats.Options{MaxBytes: 1 << 20}, func(patchcore.Patch) error { return nil })
	})
}
