package zypper_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/adapters/zypper"
	"github.com/patchcore/sdk/patchcore"
)

// debianRoot is a root of a Debian system: an os-release and a dpkg
// database, no rpm database.
func debianRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for path, content := range map[string]string{
		"etc/os-release":      "ID=debian\nVERSION_ID=\"12\"\n",
		"var/lib/dpkg/status": "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// zypper refuses a system it does not serve, rather than answering "no
// packages, no updates": a Debian root, and (on a Debian machine) the
// running system, whose rpm database is empty.
func TestRefusesSystemsItDoesNotServe(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	targets := map[string]adapters.Target{"debian root": {Root: debianRoot(t)}}
	if _, err := os.Stat("/etc/debian_version"); err == nil {
		targets["debian host"] = adapters.Target{}
	}
	a := zypper.New(zypper.Options{})
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
	_, err := zypper.New(zypper.Options{}).ListUpdates(t.Context(), adapters.ListUpdatesRequest{Target: adapters.Target{Root: root}})
	if !errors.Is(err, patchcore.ErrUnsupported) || !strings.Contains(err.Error(), "no repositories") {
		t.Errorf("ListUpdates: %v, want a refusal naming the missing repositories", err)
	}
}
