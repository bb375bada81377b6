package dnf

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/adapters/internal/pmbench"
	"github.com/patchcore/sdk/adapters/internal/rpmmeta"
)

// BenchmarkRepoRoot compares Inventory and ListUpdates, in process and
// through the plugin, with rpm -qa --queryformat and dnf check-update run
// directly with the adapter's options, on the rpmrepotest install root (the
// old package installed, the local repository with its advisory). See
// BENCHMARKS.md at the repository root.
func BenchmarkRepoRoot(b *testing.B) {
	pmbench.Require(b, true, "dnf", "rpm", "rpmbuild", "createrepo_c", "modifyrepo_c")
	repo := rpmrepotest.Repo(b)
	root := rpmrepotest.Root(b, repo)
	rpmrepotest.DNFRepoFile(b, root, repo)
	benchTarget(b, adapters.Target{Root: root}, 1, 1)
}

// benchTarget runs the comparison on tgt, where rpm lists installed
// packages and dnf check-update offers updates.
func benchTarget(b *testing.B, tgt adapters.Target, installed, updates int) {
	t, err := resolveTarget(tgt)
	if err != nil {
		b.Fatal(err)
	}
	inproc := New(Options{})
	plugin := pmbench.Plugin(b, "dnf")

	b.Run("Inventory", func(b *testing.B) {
		args := []string{"--root=" + t.Dir, "-qa", "--queryformat", rpmmeta.QueryFormat}
		native := pmbench.Native{Command: command.Command{Name: "rpm", Args: args}}
		inventory := func(a adapters.Adapter, pid int) pmbench.Op {
			return pmbench.Op{Pid: pid, Call: func(ctx context.Context) error {
				r, err := a.Inventory(ctx, adapters.InventoryRequest{Target: tgt})
				if err == nil && len(r.Inventory.Packages) != installed {
					err = fmt.Errorf("inventory has %d packages, want %d", len(r.Inventory.Packages), installed)
				}
				return err
			}}
		}
		pmbench.Compare(b, native, map[string]pmbench.Op{"inprocess": inventory(inproc, 0), "plugin": inventory(plugin, plugin.Pid())})
	})

	b.Run("ListUpdates", func(b *testing.B) {
		args := append(inproc.(*adapter).pmArgs(t), "--disableplugin=versionlock", "check-update")
		native := pmbench.Native{Command: command.Command{Name: "dnf", Args: args}, OK: []int{100}}
		listUpdates := func(a adapters.Adapter, pid int) pmbench.Op {
			return pmbench.Op{Pid: pid, Call: func(ctx context.Context) error {
				r, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
				if err == nil && len(r.Updates) != updates {
					err = fmt.Errorf("ListUpdates found %d updates, want %d", len(r.Updates), updates)
				}
				return err
			}}
		}
		pmbench.Compare(b, native, map[string]pmbench.Op{"inprocess": listUpdates(inproc, 0), "plugin": listUpdates(plugin, plugin.Pid())})
	})
}

// BenchmarkLargeRoot is BenchmarkRepoRoot with rpmrepotest.LargeRepo's
// packages: 500 installed, each with an update and a security advisory.
func BenchmarkLargeRoot(b *testing.B) {
	const n = 500
	pmbench.Require(b, true, "dnf", "rpm", "rpmbuild", "createrepo_c", "modifyrepo_c")
	start := time.Now()
	repo := rpmrepotest.LargeRepo(b, n)
	root := rpmrepotest.LargeRoot(b, repo, n)
	rpmrepotest.DNFRepoFile(b, root, repo)
	b.Logf("built a repository and root of %d packages in %s", n, time.Since(start).Round(time.Millisecond))
	benchTarget(b, adapters.Target{Root: root}, n, n)
}
