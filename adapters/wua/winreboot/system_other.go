//go:build !windows

package winreboot

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/patchcore"
)

// System returns the machine's registry. Outside Windows there is none:
// every read fails with patchcore.ErrUnsupported.
func System() Registry { return noRegistry{} }

type noRegistry struct{}

func (noRegistry) KeyExists(context.Context, string) (bool, error) {
	return false, fmt.Errorf("the Windows registry: %w on this OS", patchcore.ErrUnsupported)
}

func (noRegistry) Strings(context.Context, string, string) ([]string, bool, error) {
	return nil, false, fmt.Errorf("the Windows registry: %w on this OS", patchcore.ErrUnsupported)
}
