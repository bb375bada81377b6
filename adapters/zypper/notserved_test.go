package zypper

import (
	"testing"

	"github.com/patchcore/sdk/adapters/dnf/rpmrepotest"
)

// zypper refuses a system it does not serve rather than answering "no
// packages, no updates".
func TestRefusesSystemsItDoesNotServe(t *testing.T) {
	rpmrepotest.CheckRefusals(t, "zypper", New(Options{}), "no repositories")
}
