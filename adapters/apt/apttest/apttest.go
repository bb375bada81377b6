// Package apttest builds disposable Debian root directories for tests that
// drive the real apt and dpkg: a bookworm root made with mmdebstrap, with
// outdated packages installed while bookworm-security is in its sources, so
// that security updates are pending in it.
//
// Building a root takes a minute or two and needs the network and root
// privileges; the result is cached as a tarball in $PATCHCORE_CACHE (or
// ~/.cache/patchcore), so later runs only unpack it (a few seconds).
package apttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters/command"
)

// Versions of the outdated packages a BookwormRoot holds, from the bookworm
// main suite; bookworm-security has newer ones.
const (
	OldUnzip       = "6.0-28"
	OldLibPCRE2    = "10.42-1"
	Mirror         = "http://deb.debian.org/debian"
	SecurityMirror = "http://deb.debian.org/debian-security"
)

// mmdebstrapArgs builds the root: variant apt plus the two outdated
// packages from bookworm main; the security suite is added afterwards and
// its lists fetched, and the candidate .debs are downloaded into the apt
// cache, so installing them later needs no network.
func mmdebstrapArgs(out string) []string {
	return []string{
		"--variant=apt", "--mode=root", "--quiet",
		"--include=unzip=" + OldUnzip + ",libpcre2-8-0=" + OldLibPCRE2,
		"--dpkgopt=path-exclude=/usr/share/man/*",
		"--dpkgopt=path-exclude=/usr/share/locale/*",
		"--dpkgopt=path-exclude=/usr/share/doc/*",
		"--skip=cleanup/apt/lists", "--skip=cleanup/apt/cache",
		`--customize-hook=echo "deb ` + SecurityMirror + ` bookworm-security main" > "$1/etc/apt/sources.list.d/security.list"`,
		`--customize-hook=APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get -q update`,
		`--customize-hook=rm -f "$1"/var/cache/apt/archives/*.deb`,
		`--customize-hook=APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get -q -y --download-only install unzip libpcre2-8-0`,
		`--customize-hook=rm -f "$1"/var/cache/apt/pkgcache.bin "$1"/var/cache/apt/srcpkgcache.bin`,
		"bookworm", out, "deb " + Mirror + " bookworm main",
	}
}

// CacheDir is where built roots are kept: $PATCHCORE_CACHE, or
// ~/.cache/patchcore.
func CacheDir() (string, error) {
	if d := os.Getenv("PATCHCORE_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("apttest: finding a cache directory (set PATCHCORE_CACHE): %w", err)
	}
	return filepath.Join(d, "patchcore"), nil
}

// RequireTools fails the test in CI (CI set), or skips it with the reason
// elsewhere, when a program it needs is missing or it does not run as root.
func RequireTools(tb testing.TB, programs ...string) {
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
		reason = "needs " + strings.Join(missing, ", ") + " (apt-get install them)"
	case os.Geteuid() != 0:
		reason = "needs root (it builds and changes a chroot)"
	}
	if reason == "" {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("CI is set, so this test may not skip: %s", reason)
	}
	tb.Skip("skipping: " + reason)
}

// BookwormRoot returns a fresh copy of a Debian 12 root in a temporary
// directory removed after the test: variant apt, unzip OldUnzip and
// libpcre2-8-0 OldLibPCRE2 installed, bookworm-security in its sources and
// package lists, and the newer .debs of both already in its apt cache.
func BookwormRoot(tb testing.TB) string {
	tb.Helper()
	RequireTools(tb, "mmdebstrap", "tar", "apt-get", "dpkg")
	tarball, err := bookwormTarball(tb.Context(), tb)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	ctx, cancel := context.WithTimeout(tb.Context(), 5*time.Minute)
	defer cancel()
	res, err := command.OS{}.Run(ctx, command.Command{Name: "tar", Args: []string{"-xf", tarball, "-C", dir}})
	if err != nil {
		tb.Fatalf("apttest: unpacking %s: %v: %s", tarball, err, res.Stderr)
	}
	return dir
}

// bookwormTarball returns the cached tarball, building it first when it is
// not there. A lock file keeps parallel test binaries from building twice.
func bookwormTarball(ctx context.Context, tb testing.TB) (string, error) {
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("apttest: creating cache directory: %w", err)
	}
	sum := sha256.Sum256([]byte(strings.Join(mmdebstrapArgs("OUT"), "\x00")))
	tarball := filepath.Join(dir, "bookworm-"+hex.EncodeToString(sum[:6])+".tar")
	lock, err := os.OpenFile(tarball+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("apttest: opening lock file: %w", err)
	}
	defer lock.Close()
	if err := lockFile(lock); err != nil {
		return "", fmt.Errorf("apttest: locking %s: %w", lock.Name(), err)
	}
	defer unlockFile(lock)
	if _, err := os.Stat(tarball); err == nil {
		return tarball, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("apttest: %w", err)
	}
	tb.Logf("apttest: building %s with mmdebstrap (takes a minute or two, once)", tarball)
	tmp := tarball + ".partial.tar"
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := command.OS{}.Run(ctx, command.Command{Name: "mmdebstrap", Args: mmdebstrapArgs(tmp)})
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("apttest: mmdebstrap failed: %w\n%s", err, tail(res.Stderr, 30))
	}
	if err := os.Rename(tmp, tarball); err != nil {
		return "", fmt.Errorf("apttest: %w", err)
	}
	tb.Logf("apttest: built %s in %s", tarball, time.Since(start).Round(time.Second))
	return tarball, nil
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
