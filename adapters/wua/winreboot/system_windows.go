//go:build windows

package winreboot

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"

	"github.com/patchcore/sdk/patchcore"
)

// System returns the machine's registry (HKEY_LOCAL_MACHINE, 64-bit view).
func System() Registry { return systemRegistry{} }

type systemRegistry struct{}

func (systemRegistry) KeyExists(ctx context.Context, path string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	switch {
	case err == nil:
		k.Close()
		return true, nil
	case errors.Is(err, registry.ErrNotExist):
		return false, nil
	case errors.Is(err, errAccessDenied):
		return false, fmt.Errorf("%w: %w", patchcore.ErrPermission, err)
	default:
		return false, err
	}
}

func (systemRegistry) Strings(ctx context.Context, path, name string) ([]string, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer k.Close()
	vals, _, err := k.GetStringsValue(name)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, false, nil
	}
	if errors.Is(err, registry.ErrUnexpectedType) {
		s, _, serr := k.GetStringValue(name)
		if serr != nil {
			return nil, false, serr
		}
		return []string{s}, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	return vals, true, nil
}
