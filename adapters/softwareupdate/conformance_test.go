package softwareupdate

import (
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/commandtest"
)

// The conformance kit over gRPC with softwareupdate replaced by recorded output.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, Factory,
		adaptertest.WithRunner(commandtest.Load(t, filepath.Join("testdata", "sonoma.txt"))),
		adaptertest.WithInstallID("macOS Sonoma 14.4-23E214"),
		adaptertest.WithCancelInstallID("Safari17.4.1SonomaAuto-17.4.1"))
}
