package zypper

import (
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// TestConformance runs the conformance kit over gRPC against the real
// zypper on a root with two packages: the first with a pending security
// patch (the check installs it, cancelling midway), the second already at
// the newest version (the install checks' already-installed update).
func TestConformance(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	repo := rpmrepotest.LargeRepo(t, 2)
	root := rpmrepotest.LargeRoot(t, repo, 2)
	newest := filepath.Join(repo, "noarch", rpmrepotest.LargeName(2)+"-"+rpmrepotest.NewVersion+".noarch.rpm")
	if res, err := (command.OS{}).Run(t.Context(), command.Command{Name: "rpm",
		Args: []string{"--root", root, "-U", "--nodeps", newest}}); err != nil {
		t.Fatalf("rpm -U: %v: %s", err, res.Stderr)
	}
	rpmrepotest.ZypperRepo(t, root, repo)
	adaptertest.Run(t, Factory, adaptertest.WithTarget(adapters.Target{Root: root}),
		adaptertest.WithInstallID(rpmrepotest.LargeName(2)),
		adaptertest.WithCancelInstallID(rpmrepotest.LargeName(1)))
}
