package deploytest_test

import (
	"testing"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
)

func TestMemStoreConformance(t *testing.T) {
	deploytest.TestStore(t, func(*testing.T) deploy.Store { return deploy.NewMemStore() })
}
