package brew

import (
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/adapters/commandtest"
)

// The conformance kit over gRPC with brew replaced by recorded output.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, Factory,
		adaptertest.WithRunner(commandtest.Load(t, filepath.Join("testdata", "conformance.txt"))),
		adaptertest.WithInstallID("git"),
		adaptertest.WithCancelInstallID("jq"))
}
