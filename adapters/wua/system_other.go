//go:build !windows

package wua

import (
	"context"
	"fmt"

	"github.com/patchcore/sdk/patchcore"
)

// SystemOpener returns the Opener of the machine's Windows Update Agent.
// Outside Windows there is none: it fails with patchcore.ErrUnsupported.
func SystemOpener() Opener {
	return func(context.Context) (Session, error) {
		return nil, fmt.Errorf("the Windows Update Agent: %w on this OS", patchcore.ErrUnsupported)
	}
}

// SystemOSInfo returns the registry's Windows version reader. Outside
// Windows it fails with patchcore.ErrUnsupported.
func SystemOSInfo() OSInfo { return noOSInfo{} }

type noOSInfo struct{}

func (noOSInfo) CurrentVersion(context.Context) (CurrentVersion, error) {
	return CurrentVersion{}, fmt.Errorf("the Windows registry: %w on this OS", patchcore.ErrUnsupported)
}

// SystemSoftware returns the registry's installed-software reader. Outside
// Windows it fails with patchcore.ErrUnsupported.
func SystemSoftware() SoftwareReader { return noOSInfo{} }

func (noOSInfo) Software(context.Context) (Software, error) {
	return Software{}, fmt.Errorf("the Windows registry: %w on this OS", patchcore.ErrUnsupported)
}
