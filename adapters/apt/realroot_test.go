//go:build linux

package apt

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/apt/apttest"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/patchcore"
)

// TestRealBookwormRoot drives the real apt and dpkg on a bookworm root made
// with mmdebstrap that holds unzip 6.0-28 and libpcre2-8-0 10.42-1 while
// bookworm-security has newer versions of both.
func TestRealBookwormRoot(t *testing.T) {
	root := apttest.BookwormRoot(t)
	ctx := t.Context()
	a := New(Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})})
	tgt := adapters.Target{Root: root}

	inv, err := a.Inventory(ctx, adapters.InventoryRequest{Target: tgt})
	if err != nil {
		t.Fatal(err)
	}
	if got := version(inv.Inventory.Packages, "unzip"); got != apttest.OldUnzip {
		t.Fatalf("inventory: unzip %q, want %s", got, apttest.OldUnzip)
	}
	if p := inv.Inventory.Platform; p.Distro != "debian" || p.Codename != "bookworm" || p.Arch == "" {
		t.Errorf("platform = %+v", p)
	}

	t.Run("ListUpdates matches apt list --upgradable", func(t *testing.T) {
		resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		want := aptListUpgradable(t, root)
		var got []string
		for _, u := range resp.Updates {
			got = append(got, u.Package+" "+u.InstalledVersion+" "+u.AvailableVersion+" "+u.Arch)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListUpdates:\n%s\napt list --upgradable:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		rel := securityRelease(t, root)
		for _, name := range []string{"unzip", "libpcre2-8-0"} {
			u := find(resp.Updates, name)
			if u == nil {
				t.Errorf("%s is not listed as an update", name)
				continue
			}
			if u.Classification != patchcore.ClassSecurity || u.Origin != rel.String() || rel.Codename != "bookworm-security" {
				t.Errorf("%s: %s from %q, want security from %s (codename %s)", name, u.Classification, u.Origin, rel, rel.Codename)
			}
		}
	})

	// Hold libpcre2-8-0 the way apt-mark hold does: a dpkg selection.
	setSelection(t, root, "libpcre2-8-0 hold")

	t.Run("held package is reported held", func(t *testing.T) {
		resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		if u := find(resp.Updates, "libpcre2-8-0"); u == nil || !u.Held {
			t.Errorf("libpcre2-8-0 = %+v, want held", u)
		}
		if u := find(resp.Updates, "unzip"); u == nil || u.Held {
			t.Errorf("unzip = %+v, want not held", u)
		}
	})

	t.Run("lock held by another process", func(t *testing.T) {
		f, err := os.OpenFile(filepath.Join(root, "var/lib/dpkg/lock-frontend"), os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0}
		if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
			t.Fatal(err)
		}
		// fcntl locks belong to this process, so apt-get (a child) finds
		// the lock taken, as it would with another apt running.
		_, err = a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{"unzip"}})
		if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
			t.Errorf("Install under a held lock: %v, want ErrPackageManagerLocked", err)
		}
		lk.Type = syscall.F_UNLCK
		syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
	})

	t.Run("Install upgrades unzip, not the held package", func(t *testing.T) {
		resp, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{"unzip", "libpcre2-8-0"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Items) != 2 || resp.Items[0].Status != adapters.ItemInstalled || resp.Items[1].Status != adapters.ItemHeld {
			t.Fatalf("items = %+v, want unzip installed and libpcre2-8-0 held", resp.Items)
		}
		got := dpkgVersions(t, root)
		if got["unzip"] == apttest.OldUnzip || got["unzip"] != resp.Items[0].ToVersion {
			t.Errorf("dpkg shows unzip %s, want %s", got["unzip"], resp.Items[0].ToVersion)
		}
		if got["libpcre2-8-0"] != apttest.OldLibPCRE2 {
			t.Errorf("held libpcre2-8-0 changed to %s", got["libpcre2-8-0"])
		}
		again, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{"unzip"}})
		if err != nil || again.Items[0].Status != adapters.ItemInstalled {
			t.Errorf("installing unzip again: %+v, %v; want installed", again.Items, err)
		}
		ups, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		if find(ups.Updates, "unzip") != nil {
			t.Errorf("unzip still listed as an update after Install")
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func version(pkgs []patchcore.Package, name string) string {
	for _, p := range pkgs {
		if p.Name == name {
			return p.Version
		}
	}
	return ""
}

func find(ups []adapters.Update, name string) *adapters.Update {
	for i := range ups {
		if ups[i].Package == name {
			return &ups[i]
		}
	}
	return nil
}

// aptListUpgradable runs apt list --upgradable in root directly and returns
// "name installed candidate arch" lines, sorted.
func aptListUpgradable(t *testing.T, root string) []string {
	res, err := command.OS{}.Run(t.Context(), command.Command{Name: "apt", Args: []string{
		"-o", "Dir=" + root, "-o", "Dir::State::status=" + root + "/var/lib/dpkg/status", "list", "--upgradable"}})
	if err != nil {
		t.Fatalf("apt list: %v", err)
	}
	ups, err := parseAptList(res.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range ups {
		out = append(out, u.Name+" "+u.Installed+" "+u.Candidate+" "+u.Arch)
	}
	if len(out) < 2 {
		t.Fatalf("apt list --upgradable in the root lists %d packages; the root is not what the test needs:\n%s", len(out), res.Stdout)
	}
	slices.Sort(out)
	return out
}

// securityRelease reads the bookworm-security aptRelease header in root.
func securityRelease(t *testing.T, root string) aptRelease {
	m, _ := filepath.Glob(filepath.Join(root, "var/lib/apt/lists/*debian-security*_InRelease"))
	if len(m) != 1 {
		t.Fatalf("want one debian-security InRelease in the root, found %v", m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return parseRelease(b)
}

func setSelection(t *testing.T, root, sel string) {
	res, err := command.OS{}.Run(context.Background(), command.Command{Name: "dpkg",
		Args: []string{"--admindir=" + root + "/var/lib/dpkg", "--set-selections"}, Stdin: []byte(sel + "\n")})
	if err != nil {
		t.Fatalf("dpkg --set-selections: %v: %s", err, res.Stderr)
	}
}

func dpkgVersions(t *testing.T, root string) map[string]string {
	res, err := command.OS{}.Run(t.Context(), command.Command{Name: "dpkg-query",
		Args: []string{"--admindir=" + root + "/var/lib/dpkg", "-W", "-f=${Package} ${Version}\n"}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(res.Stdout)))
	for sc.Scan() {
		if n, v, ok := strings.Cut(sc.Text(), " "); ok {
			m[n] = v
		}
	}
	return m
}
