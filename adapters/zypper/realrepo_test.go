package zypper

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/patchcore"
)

// TestRealZypper drives the real zypper and rpm against a local repository
// with a security advisory and a root holding the old version.
func TestRealZypper(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	repo := rpmrepotest.Repo(t)
	root := rpmrepotest.Root(t, repo)
	rpmrepotest.ZypperRepo(t, root, repo)
	a := New(Options{})
	ctx := t.Context()
	tgt := adapters.Target{Root: root}

	resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Updates) != 1 {
		t.Fatalf("updates = %+v, want one", resp.Updates)
	}
	u := resp.Updates[0]
	if u.Package != rpmrepotest.Package || u.InstalledVersion != rpmrepotest.OldVersion || u.AvailableVersion != rpmrepotest.NewVersion ||
		u.Classification != patchcore.ClassSecurity || u.Severity.Level != patchcore.SeverityHigh ||
		strings.Join(u.Advisories, ",") != rpmrepotest.AdvisoryID || strings.Join(u.CVEs, ",") != rpmrepotest.CVE ||
		u.Issued.Format("2006-01-02 15:04:05") != rpmrepotest.Issued || u.Held {
		t.Errorf("update = %+v", u)
	}

	t.Run("one zypper run lists packages and patches", func(t *testing.T) {
		r := &countingRunner{}
		resp, err := New(Options{Runner: r}).ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Updates) != 1 || strings.Join(resp.Updates[0].Advisories, ",") != rpmrepotest.AdvisoryID {
			t.Errorf("updates = %+v, want the package with its patch", resp.Updates)
		}
		if got := strings.Join(r.commands(), "\n"); r.count("zypper") != 1 || strings.Contains(got, "list-patches") {
			t.Errorf("ListUpdates ran:\n%s\nwant one zypper list-updates for both kinds", got)
		}
	})

	t.Run("locked package is held and not upgraded", func(t *testing.T) {
		zyp(t, root, "addlock", rpmrepotest.Package)
		defer zyp(t, root, "removelock", rpmrepotest.Package)
		resp, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if err != nil {
			t.Fatal(err)
		}
		var held *adapters.Update
		for i := range resp.Updates {
			if resp.Updates[i].Package == rpmrepotest.Package {
				held = &resp.Updates[i]
			}
		}
		if held == nil || !held.Held || held.AvailableVersion != rpmrepotest.NewVersion {
			t.Fatalf("updates with a lock = %+v; want %s held", resp.Updates, rpmrepotest.Package)
		}
		inst, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.Package}})
		if err != nil || inst.Items[0].Status != adapters.ItemHeld {
			t.Fatalf("Install of a locked package = %+v, %v; want held", inst.Items, err)
		}
		if v := installed(t, a, tgt); v != rpmrepotest.OldVersion {
			t.Errorf("locked package changed to %s", v)
		}
	})

	t.Run("lock held by another process", func(t *testing.T) {
		pid := filepath.Join(root, "run/zypp.pid")
		os.WriteFile(pid, []byte(strconv.Itoa(os.Getpid())), 0o644)
		defer os.Remove(pid)
		_, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
		if !errors.Is(err, patchcore.ErrPackageManagerLocked) {
			t.Errorf("ListUpdates under zypper's lock: %v, want ErrPackageManagerLocked", err)
		}
	})

	t.Run("Install by patch ID", func(t *testing.T) {
		inst, err := a.Install(ctx, adapters.InstallRequest{Target: tgt, IDs: []string{rpmrepotest.AdvisoryID, "no-such-package", "SUSE-SU-2099:9999-1"}})
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
	})
}

func zyp(t *testing.T, root string, args ...string) {
	res, err := command.OS{}.Run(t.Context(), command.Command{Name: "zypper", Args: append([]string{"--root", root, "-n"}, args...)})
	if err != nil {
		t.Fatalf("zypper %v: %v\n%s", args, err, res.Stderr)
	}
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

// countingRunner runs commands with command.OS and remembers them.
type countingRunner struct {
	mu   sync.Mutex
	cmds []command.Command
}

func (r *countingRunner) Run(ctx context.Context, c command.Command) (command.Result, error) {
	r.mu.Lock()
	r.cmds = append(r.cmds, c)
	r.mu.Unlock()
	return command.OS{}.Run(ctx, c)
}

func (r *countingRunner) commands() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, c := range r.cmds {
		s = append(s, c.String())
	}
	return s
}

func (r *countingRunner) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.cmds {
		if c.Name == name {
			n++
		}
	}
	return n
}
