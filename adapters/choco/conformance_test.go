package choco

import (
	"context"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/wua/winreboot"
)

// The conformance kit over gRPC, choco replaced by recorded output and the
// registry by a fake one with no restart pending.
func TestConformance(t *testing.T) {
	factory := func(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
		return New(Options{Runner: env.Runner, Logger: env.Logger, Registry: winreboot.Fake{}}), nil
	}
	adaptertest.Run(t, factory,
		adaptertest.WithRunner(recorded(t, "choco2.txt", "upgrades.txt")),
		adaptertest.WithInstallID("googlechrome"),
		adaptertest.WithCancelInstallID("git"))
}
