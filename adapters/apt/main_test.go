package apt

import (
	"os"
	"testing"

	"github.com/patchcore/sdk/adapters/internal/pmbench"
)

// TestMain lets the benchmarks start this adapter as a go-plugin
// subprocess: re-executed by pmbench.Plugin, the test binary serves it.
func TestMain(m *testing.M) {
	pmbench.ServeIfAsked(name, Factory)
	os.Exit(m.Run())
}
