// Package rpmrepotest builds a local rpm repository and install roots for
// tests that drive the real dnf, yum, zypper and rpm: two versions of a
// small noarch package, and an updateinfo.xml security advisory (severity
// Important, one CVE, an issued date) that ships the newer one.
package rpmrepotest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters/command"
)

// The package, its versions and the advisory the repository carries.
const (
	Package    = "patchcore-hello"
	OldVersion = "1.0-1"
	NewVersion = "1.1-1"
	AdvisoryID = "PCSA-2024:0001"
	CVE        = "CVE-2024-12345"
	Severity   = "Important"
	Issued     = "2024-05-01 12:00:00"
)

const spec = `Name: patchcore-hello
Version: %{ver}
Release: 1
Summary: patchcore test package
License: MIT
BuildArch: noarch
%description
A package for patchcore's adapter tests.
%install
mkdir -p %{buildroot}/usr/share/patchcore-hello
echo %{ver} > %{buildroot}/usr/share/patchcore-hello/version
%files
/usr/share/patchcore-hello/version
`

const updateinfo = `<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="security@patchcore.example" status="stable" type="security" version="2.0">
    <id>` + AdvisoryID + `</id>
    <title>Important: patchcore-hello security update</title>
    <issued date="` + Issued + `"/>
    <severity>` + Severity + `</severity>
    <summary>An update for patchcore-hello is now available.</summary>
    <description>Fixes ` + CVE + `.</description>
    <references>
      <reference href="https://www.cve.org/CVERecord?id=` + CVE + `" id="` + CVE + `" type="cve" title="` + CVE + `"/>
    </references>
    <pkglist>
      <collection short="patchcore">
        <name>patchcore</name>
        <package name="patchcore-hello" version="1.1" release="1" epoch="0" arch="noarch" src="patchcore-hello-1.1-1.src.rpm">
          <filename>noarch/patchcore-hello-1.1-1.noarch.rpm</filename>
        </package>
      </collection>
    </pkglist>
  </update>
</updates>
`

// Require fails the test in CI (CI set), or skips it with the reason
// elsewhere, when a program is missing or the test does not run as root.
func Require(tb testing.TB, programs ...string) {
	tb.Helper()
	var missing []string
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	reason := ""
	switch {
	case len(missing) > 0:
		reason = "needs " + strings.Join(missing, ", ")
	case os.Geteuid() != 0:
		reason = "needs root (rpm installs into a root directory)"
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("CI is set, so this test may not skip: %s", reason)
	}
	tb.Skip("skipping: " + reason)
}

func run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := command.OS{}.Run(ctx, command.Command{Name: name, Args: args})
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, res.Stdout, res.Stderr)
	}
}

// Repo builds the repository in a temporary directory and returns it:
// noarch/patchcore-hello-{1.0,1.1}-1.noarch.rpm and repodata with the
// updateinfo advisory.
func Repo(tb testing.TB) string {
	tb.Helper()
	Require(tb, "rpmbuild", "createrepo_c", "modifyrepo_c", "rpm")
	dir := tb.TempDir()
	repo := filepath.Join(dir, "repo")
	specFile := filepath.Join(dir, "hello.spec")
	if err := os.WriteFile(specFile, []byte(spec), 0o644); err != nil {
		tb.Fatal(err)
	}
	for _, v := range []string{"1.0", "1.1"} {
		run(tb, "rpmbuild", "--quiet", "-bb", "--nodeps",
			"--define", "_topdir "+filepath.Join(dir, "top"),
			"--define", "_rpmdir "+repo,
			"--define", "ver "+v, specFile)
	}
	run(tb, "createrepo_c", "--quiet", repo)
	ui := filepath.Join(dir, "updateinfo.xml")
	if err := os.WriteFile(ui, []byte(updateinfo), 0o644); err != nil {
		tb.Fatal(err)
	}
	run(tb, "modifyrepo_c", "--mdtype=updateinfo", ui, filepath.Join(repo, "repodata"))
	return repo
}

// RPM returns the path of the package at version ("1.0-1") in repo.
func RPM(repo, version string) string {
	return filepath.Join(repo, "noarch", Package+"-"+version+".noarch.rpm")
}

// Root makes an install root with the old version installed by rpm and
// an os-release naming distro and version.
func Root(tb testing.TB, repo string) string {
	tb.Helper()
	root := tb.TempDir()
	for _, d := range []string{"etc", "var/log", "var/cache", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=\"rocky\"\nVERSION_ID=\"9\"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	run(tb, "rpm", "--root", root, "-i", "--nodeps", RPM(repo, OldVersion))
	return root
}

// DNFRepoFile writes a yum.repos.d file for repo into root.
func DNFRepoFile(tb testing.TB, root, repo string) {
	tb.Helper()
	d := filepath.Join(root, "etc/yum.repos.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		tb.Fatal(err)
	}
	body := fmt.Sprintf("[patchcore-local]\nname=patchcore local\nbaseurl=file://%s\nenabled=1\ngpgcheck=0\nmetadata_expire=0\n", repo)
	if err := os.WriteFile(filepath.Join(d, "patchcore-local.repo"), []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ZypperRepo adds repo to root with zypper and refreshes it.
func ZypperRepo(tb testing.TB, root, repo string) {
	tb.Helper()
	run(tb, "zypper", "--root", root, "--non-interactive", "addrepo", "--no-gpgcheck", "file://"+repo, "patchcore-local")
	run(tb, "zypper", "--root", root, "--non-interactive", "refresh")
}

// LargePackage is the name prefix of the packages of LargeRepo
// ("patchcore-bench-0001").
const LargePackage = "patchcore-bench"

// LargeRepo builds, in a temporary directory, a repository of n empty
// noarch packages patchcore-bench-0001 ... in versions OldVersion and
// NewVersion (one rpmbuild run: they are subpackages of one spec), with an
// updateinfo.xml holding one security advisory per package
// (PCSA-2024:1NNNN, severity Important, CVE-2024-1NNNN). It is for
// benchmarks that need package counts like a real server's.
func LargeRepo(tb testing.TB, n int) string {
	tb.Helper()
	Require(tb, "rpmbuild", "createrepo_c", "modifyrepo_c", "rpm")
	dir := tb.TempDir()
	repo := filepath.Join(dir, "repo")
	var spec, ui strings.Builder
	spec.WriteString("Name: " + LargePackage + "\nVersion: %{ver}\nRelease: 1\nSummary: patchcore benchmark packages\nLicense: MIT\nBuildArch: noarch\n%description\nBenchmark packages.\n")
	ui.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<updates>\n")
	for i := 1; i <= n; i++ {
		name := LargeName(i)
		fmt.Fprintf(&spec, "%%package -n %s\nSummary: benchmark package %d\n%%description -n %s\nBenchmark package %d.\n%%files -n %s\n", name, i, name, i, name)
		fmt.Fprintf(&ui, `  <update from="security@patchcore.example" status="stable" type="security" version="2.0">
    <id>PCSA-2024:%d</id>
    <title>Important: %s security update</title>
    <issued date="%s"/>
    <severity>%s</severity>
    <references><reference href="https://www.cve.org/CVERecord?id=CVE-2024-%d" id="CVE-2024-%d" type="cve"/></references>
    <pkglist><collection short="patchcore"><name>patchcore</name>
      <package name="%s" version="1.1" release="1" epoch="0" arch="noarch"><filename>noarch/%s-1.1-1.noarch.rpm</filename></package>
    </collection></pkglist>
  </update>
`, 10000+i, name, Issued, Severity, 10000+i, 10000+i, name, name)
	}
	ui.WriteString("</updates>\n")
	specFile := filepath.Join(dir, "bench.spec")
	if err := os.WriteFile(specFile, []byte(spec.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	for _, v := range []string{"1.0", "1.1"} {
		run(tb, "rpmbuild", "--quiet", "-bb", "--nodeps",
			"--define", "_topdir "+filepath.Join(dir, "top"),
			"--define", "_rpmdir "+repo,
			"--define", "ver "+v, specFile)
	}
	run(tb, "createrepo_c", "--quiet", repo)
	uiFile := filepath.Join(dir, "updateinfo.xml")
	if err := os.WriteFile(uiFile, []byte(ui.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	run(tb, "modifyrepo_c", "--mdtype=updateinfo", uiFile, filepath.Join(repo, "repodata"))
	return repo
}

// LargeName is the name of package i (from 1) of LargeRepo.
func LargeName(i int) string { return fmt.Sprintf("%s-%04d", LargePackage, i) }

// LargeRoot makes an install root like Root's with the OldVersion of
// the n packages of a LargeRepo installed (in one rpm transaction).
func LargeRoot(tb testing.TB, repo string, n int) string {
	tb.Helper()
	root := tb.TempDir()
	for _, d := range []string{"etc", "var/log", "var/cache", "run"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=\"rocky\"\nVERSION_ID=\"9\"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	args := []string{"--root", root, "-i", "--nodeps"}
	for i := 1; i <= n; i++ {
		args = append(args, filepath.Join(repo, "noarch", LargeName(i)+"-"+OldVersion+".noarch.rpm"))
	}
	run(tb, "rpm", args...)
	return root
}

// DebianRoot makes a root of a Debian system: an os-release and a dpkg
// database, no rpm database.
func DebianRoot(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	for path, content := range map[string]string{
		"etc/os-release":      "ID=debian\nVERSION_ID=\"12\"\n",
		"var/lib/dpkg/status": "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// MixedRoot makes, from a LargeRepo of two packages, a root with
// LargeName(1) at OldVersion (an update pending, with its advisory) and
// LargeName(2) already at NewVersion: what the conformance kit needs to
// run its install checks. It returns the root and the repository.
func MixedRoot(tb testing.TB) (root, repo string) {
	tb.Helper()
	repo = LargeRepo(tb, 2)
	root = LargeRoot(tb, repo, 2)
	run(tb, "rpm", "--root", root, "-U", "--nodeps", filepath.Join(repo, "noarch", LargeName(2)+"-"+NewVersion+".noarch.rpm"))
	return root, repo
}
