package dnf

import (
	"testing"

	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// dnf refuses a system it does not serve rather than answering "no
// packages, no updates".
func TestRefusesSystemsItDoesNotServe(t *testing.T) {
	rpmrepotest.CheckRefusals(t, "dnf", New(Options{}), "no enabled repositories")
}
