package zypper

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/patchcore"
)

// zypper refuses a system it does not serve, rather than answering "no
// packages, no updates": a Debian root, and (on a Debian machine) the
// running system, whose rpm database is empty.
func TestRefusesSystemsItDoesNotServe(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	targets := map[string]adapters.Target{"debian root": {Root: rpmrepotest.DebianRoot(t)}}
	if _, err := os.Stat("/etc/debian_version"); err == nil {
		targets["debian host"] = adapters.Target{}
	}
	a := New(Options{})
	for name, tgt := range targets {
		t.Run(name, func(t *testing.T) {
			_, ierr := a.Inventory(t.Context(), adapters.InventoryRequest{Target: tgt})
			_, uerr := a.ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: tgt})
			_, xerr := a.Install(t.Context(), adapters.InstallRequest{Target: tgt, IDs: []string{"bash"}})
			for call, err := range map[string]error{"Inventory": ierr, "ListUpdates": uerr, "Install": xerr} {
				if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "is not a system zypper serves") {
					t.Errorf("%s: %v, want a refusal wrapping ErrUnsupported", call, err)
				}
			}
		})
	}
}

// A root with rpms but no repository: what is missing cannot be known.
func TestRefusesRootWithoutRepositories(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	root := rpmrepotest.Root(t, rpmrepotest.Repo(t))
	_, err := New(Options{}).ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: adapters.Target{Root: root}})
	if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "no repositories") {
		t.Errorf("ListUpdates: %v, want a refusal naming the missing repositories", err)
	}
}
