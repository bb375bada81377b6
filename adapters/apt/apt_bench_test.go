package apt

import (
	"context"
	"fmt"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/apt/apttest"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/internal/pmbench"
)

// BenchmarkHost compares Inventory and ListUpdates on this machine, in
// process and through the plugin, with dpkg-query -W (the adapter's format)
// and apt list --upgradable run directly. See BENCHMARKS.md at the repository root.
func BenchmarkHost(b *testing.B) {
	pmbench.Require(b, false, "dpkg-query", "dpkg", "apt")
	benchTarget(b, adapters.Target{})
}

// BenchmarkBookwormRoot does the same on the cached mmdebstrap bookworm root
// of apttest (unpacked once, before timing; built first when not cached,
// which needs the network).
func BenchmarkBookwormRoot(b *testing.B) {
	pmbench.Require(b, true, "dpkg-query", "dpkg", "apt", "mmdebstrap", "tar")
	benchTarget(b, adapters.Target{Root: apttest.BookwormRoot(b)})
}

func benchTarget(b *testing.B, tgt adapters.Target) {
	t, err := resolveTarget(tgt)
	if err != nil {
		b.Fatal(err)
	}
	inproc := New(Options{})
	plugin := pmbench.Plugin(b, name)

	b.Run("Inventory", func(b *testing.B) {
		native := pmbench.Native{Command: command.Command{Name: "dpkg-query", Args: append(t.dpkgOptions(), "-W", "-f="+dpkgQueryFormat)}}
		want := nativeInstalled(b, native)
		inventory := func(a adapters.Adapter, pid int) pmbench.Op {
			return pmbench.Op{Pid: pid, Call: func(ctx context.Context) error {
				r, err := a.Inventory(ctx, adapters.InventoryRequest{Target: tgt})
				if err == nil && len(r.Inventory.Packages) != want {
					err = fmt.Errorf("inventory has %d packages, dpkg-query lists %d installed", len(r.Inventory.Packages), want)
				}
				return err
			}}
		}
		pmbench.Compare(b, native, map[string]pmbench.Op{"inprocess": inventory(inproc, 0), "plugin": inventory(plugin, plugin.Pid())})
	})

	b.Run("ListUpdates", func(b *testing.B) {
		native := pmbench.Native{Command: command.Command{Name: "apt", Args: append(t.aptOptions(), "list", "--upgradable")}}
		out, err := native.Run(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		ups, err := parseAptList(out)
		if err != nil {
			b.Fatal(err)
		}
		want := len(ups)
		b.Logf("apt list --upgradable: %d upgradable packages", want)
		listUpdates := func(a adapters.Adapter, pid int) pmbench.Op {
			return pmbench.Op{Pid: pid, Call: func(ctx context.Context) error {
				r, err := a.ListUpdates(ctx, adapters.ListUpdatesRequest{Target: tgt})
				if err == nil && len(r.Updates) != want {
					err = fmt.Errorf("ListUpdates found %d updates, apt list --upgradable %d", len(r.Updates), want)
				}
				return err
			}}
		}
		pmbench.Compare(b, native, map[string]pmbench.Op{"inprocess": listUpdates(inproc, 0), "plugin": listUpdates(plugin, plugin.Pid())})
	})
}

// nativeInstalled runs dpkg-query once and counts the installed packages.
func nativeInstalled(b *testing.B, native pmbench.Native) int {
	b.Helper()
	out, err := native.Run(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	pkgs, err := parseDpkgQuery(out)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("dpkg-query -W: %d installed packages", len(pkgs))
	return len(pkgs)
}
