package zypper_test

import (
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
	"github.com/patchcore/sdk/adapters/zypper"
)

// TestConformance runs the conformance kit over gRPC against the real
// zypper on a root with a pending security patch.
func TestConformance(t *testing.T) {
	rpmrepotest.Require(t, "zypper")
	repo := rpmrepotest.Repo(t)
	root := rpmrepotest.Root(t, repo)
	rpmrepotest.ZypperRepo(t, root, repo)
	adaptertest.Run(t, zypper.Factory, adaptertest.WithTarget(adapters.Target{Root: root}))
}
