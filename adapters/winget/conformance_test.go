package winget

import (
	"context"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
)

// The conformance kit over gRPC, winget replaced by recorded output and the
// registry by a fake one.
func TestConformance(t *testing.T) {
	factory := func(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
		return New(Options{Runner: env.Runner, Logger: env.Logger, Registry: winreboot.Fake{}}), nil
	}
	adaptertest.Run(t, factory,
		adaptertest.WithRunner(recorded(t, "win11.txt")),
		adaptertest.WithInstallID("Microsoft.Edge"),
		adaptertest.WithCancelInstallID("Git.Git"))
}
