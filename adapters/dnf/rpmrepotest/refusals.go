package rpmrepotest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/patchcore"
)

// CheckRefusals checks that the rpm adapter a, named name, refuses the
// systems it does not serve rather than answering "no packages, no
// updates": a Debian root and (on a Debian machine) the running system,
// whose rpm database is empty, and a root with rpms but no repository,
// where what is missing cannot be known. noRepos is the words of that
// last refusal.
func CheckRefusals(t *testing.T, name string, a adapters.Adapter, noRepos string) {
	t.Helper()
	Require(t, name)
	targets := map[string]adapters.Target{"debian root": {Root: DebianRoot(t)}}
	if _, err := os.Stat("/etc/debian_version"); err == nil {
		targets["debian host"] = adapters.Target{}
	}
	for what, tgt := range targets {
		t.Run(what, func(t *testing.T) {
			_, ierr := a.Inventory(t.Context(), adapters.InventoryRequest{Target: tgt})
			_, uerr := a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: tgt})
			_, xerr := a.Install(t.Context(), adapters.InstallRequest{Target: tgt, IDs: []string{"bash"}})
			for call, err := range map[string]error{"Inventory": ierr, "ListUpdates": uerr, "Install": xerr} {
				if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "is not a system "+name+" serves") {
					t.Errorf("%s: %v, want a refusal wrapping ErrUnsupported", call, err)
				}
			}
		})
	}
	t.Run("root without repositories", func(t *testing.T) {
		root := Root(t, Repo(t))
		_, err := a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: adapters.Target{Root: root}})
		if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), noRepos) {
			t.Errorf("ListUpdates: %v, want a refusal naming the missing repositories", err)
		}
	})
}
