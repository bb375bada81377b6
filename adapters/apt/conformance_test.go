package apt

import (
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/command"
)

// TestConformance runs the conformance kit over gRPC against the adapter
// replaying the output captured on a Debian 12 machine.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, Factory,
		adaptertest.WithRunner(debian12(t, func(command.Command) (command.Result, error) { return command.Result{}, nil })),
		adaptertest.WithTarget(adapters.Target{Root: testRoot(t)}),
		adaptertest.WithInstallID("adduser"),         // installed, no newer candidate
		adaptertest.WithCancelInstallID("appstream"), // upgradable
	)
}
