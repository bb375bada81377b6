package dnf

import (
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// TestConformance runs the conformance kit over gRPC against the real dnf
// on a root with two packages: one with a pending update (the kit installs
// it, cancelling Install midway), one already at the newest version (the
// install checks' already-installed update).
func TestConformance(t *testing.T) {
	rpmrepotest.Require(t, "dnf")
	root, repo := rpmrepotest.MixedRoot(t)
	rpmrepotest.DNFRepoFile(t, root, repo)
	adaptertest.Run(t, Factory, adaptertest.WithTarget(adapters.Target{Root: root}),
		adaptertest.WithInstallID(rpmrepotest.LargeName(2)),
		adaptertest.WithCancelInstallID(rpmrepotest.LargeName(1)))
}
