package dnf

import (
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// TestConformance runs the conformance kit over gRPC against the real dnf
// on a root whose package is already at the newest version, so the install
// checks can run without changing anything.
func TestConformance(t *testing.T) {
	rpmrepotest.Require(t, "dnf")
	repo := rpmrepotest.Repo(t)
	root := rpmrepotest.Root(t, repo)
	rpmrepotest.DNFRepoFile(t, root, repo)
	if res, err := (command.OS{}).Run(t.Context(), command.Command{Name: "rpm",
		Args: []string{"--root", root, "-U", "--nodeps", rpmrepotest.RPM(repo, rpmrepotest.NewVersion)}}); err != nil {
		t.Fatalf("rpm -U: %v: %s", err, res.Stderr)
	}
	adaptertest.Run(t, Factory, adaptertest.WithTarget(adapters.Target{Root: root}),
		adaptertest.WithInstallID(rpmrepotest.Package))
}
