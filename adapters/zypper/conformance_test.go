package zypper

import (
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// TestConformance runs the conformance kit over gRPC against the real
// zypper on a root with two packages: the first with a pending security
// patch (the kit installs it, cancelling Install midway), the second
// already at the newest version (the install checks' already-installed
// update).
func TestConformance(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	root, repo := rpmrepotest.MixedRoot(t)
	rpmrepotest.ZypperRepo(t, root, repo)
	adaptertest.Run(t, Factory, adaptertest.WithTarget(adapters.Target{Root: root}),
		adaptertest.WithInstallID(rpmrepotest.LargeName(2)),
		adaptertest.WithCancelInstallID(rpmrepotest.LargeName(1)))
}
