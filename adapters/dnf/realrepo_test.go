package dnf

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/patchcore"
)

func dnfRoot(t *testing.T) (string, adapters.Adapter) {
	rpmrepotest.Require(t, "dnf")
	repo := rpmrepotest.Repo(t)
	root := rpmrepotest.Root(t, repo)
	rpmrepotest.DNFRepoFile(t, root, repo)
	return root, New(Options{})
}

// TestRealDNF drives the real dnf and rpm against a local repository with a
// security advisory and an install root holding the old version.
func TestRealDNF(t *testing.T) {
	root, a := dnfRoot(t)
	ctx := t.Context()
	tgt := adapters.Target{Root: root}

	inv, err := a.Inventory(ctx, adapters.InventoryRequest{Target: tgt})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Inventory.Packages) != 1 || inv.Inventory.Packages[0].Version != rpmrepotest.OldVersion || inv.Inventory.Packages[0].SourceName != rpmrepotest.Package {
		t.Fatalf("inventory = %+v", inv.Inventory.Packages)
	}

	resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Updates) != 1 {
		t.Fatalf("updates = %+v, want one", resp.Updates)
	}
	u := resp.Updates[0]
	issued, _ := time.Parse("2006-01-02 15:04:05", rpmrepotest.Issued)
	if u.Package != rpmrepotest.Package || u.InstalledVersion != rpmrepotest.OldVersion || u.AvailableVersion != rpmrepotest.NewVersion ||
		u.Classification != patchcore.ClassSecurity || u.Severity.Level != patchcore.SeverityHigh || u.Severity.Raw != rpmrepotest.Severity ||
		strings.Join(u.Advisories, ",") != rpmrepotest.AdvisoryID || strings.Join(u.CVEs, ",") != rpmrepotest.CVE ||
		!u.Issued.Equal(issued) || u.Origin != "patchcore-local" || u.Held {
		t.Errorf("update = %+v", u)
	}

	t.Run("versionlocked package is held and not upgraded", func(t *testing.T) {
		lockDir := filepath.Join(root, "etc/dnf/plugins")
		os.MkdirAll(lockDir, 0o755)
		lock := filepath.Join(lockDir, "versionlock.list")
		os.WriteFile(lock, []byte("# pinned by the test\n"+rpmrepotest.Package+"-0:"+rpmrepotest.OldVersion+".*\n"), 0o644)
		defer os.Remove(lock)
		resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil || len(resp.Updates) != 1 || !resp.Updates[0].Held {
			t.Fatalf("ListUpdates with a versionlock = %+v, %v; want the update held", resp.Updates, err)
		}
		inst, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.AdvisoryID}})
		if err != nil || inst.Items[0].Status != adapters.ItemHeld {
			t.Fatalf("Install of a locked package = %+v, %v; want held", inst.Items, err)
		}
		if v := installed(t, a, tgt); v != rpmrepotest.OldVersion {
			t.Errorf("locked package changed to %s", v)
		}
	})

	t.Run("lock held by another dnf", func(t *testing.T) {
		pidDir := filepath.Join(root, "var/lib/dnf")
		os.MkdirAll(pidDir, 0o755)
		// dnf's rpmdb lock: a pid file naming a live process (this test).
		pidFile := filepath.Join(pidDir, "rpmdb_lock.pid")
		os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644)
		defer os.Remove(pidFile)
		_, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.Package}})
		if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
			t.Errorf("Install under dnf's lock: %v, want ErrPackageManagerLocked", err)
		}
	})

	t.Run("Install by advisory ID", func(t *testing.T) {
		inst, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.AdvisoryID, "no-such-package", "RHSA-2099:99999"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(inst.Items) != 3 || inst.Items[0].Status != adapters.ItemInstalled {
			t.Fatalf("items = %+v", inst.Items)
		}
		// An ID that maps to nothing is "not installed", with the reason: never a success.
		for _, it := range inst.Items[1:] {
			if it.Status != adapters.ItemNotApplicable || !strings.HasPrefix(it.Reason, "not installed: ") || !strings.Contains(it.Reason, it.ID) {
				t.Errorf("item %s = %+v, want not installed with a reason naming it", it.ID, it)
			}
		}
		if !strings.Contains(inst.Items[2].Reason, "advisory") {
			t.Errorf("unknown advisory: reason %q does not say it is an advisory", inst.Items[2].Reason)
		}
		if v := installed(t, a, tgt); v != rpmrepotest.NewVersion {
			t.Errorf("rpm shows %s after Install, want %s", v, rpmrepotest.NewVersion)
		}
		again, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.Package}})
		if err != nil || again.Items[0].Status != adapters.ItemInstalled {
			t.Errorf("second Install = %+v, %v; want installed", again.Items, err)
		}
	})
}

func installed(t *testing.T, a adapters.Adapter, tgt adapters.Target) string {
	inv, err := a.Inventory(t.Context(), adapters.InventoryRequest{Target: tgt})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inv.Inventory.Packages {
		if p.Name == rpmrepotest.Package {
			return p.Version
		}
	}
	return ""
}
