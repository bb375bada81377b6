//go:build windows

package wua

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// SystemOSInfo returns the reader of HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion.
func SystemOSInfo() OSInfo { return registryOSInfo{} }

type registryOSInfo struct{}

const currentVersionKey = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`

func (registryOSInfo) CurrentVersion(ctx context.Context) (CurrentVersion, error) {
	if err := ctx.Err(); err != nil {
		return CurrentVersion{}, err
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, currentVersionKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return CurrentVersion{}, fmt.Errorf("opening HKLM\\%s: %w", currentVersionKey, err)
	}
	defer k.Close()
	str := func(name string) string {
		v, _, err := k.GetStringValue(name)
		if err != nil && !errors.Is(err, registry.ErrNotExist) {
			return ""
		}
		return v
	}
	num := func(name string) int {
		v, _, err := k.GetIntegerValue(name)
		if err != nil {
			return 0
		}
		return int(v)
	}
	cv := CurrentVersion{
		ProductName: str("ProductName"), DisplayVersion: str("DisplayVersion"), ReleaseID: str("ReleaseId"),
		EditionID: str("EditionID"), CurrentBuild: str("CurrentBuild"), UBR: num("UBR"),
		MajorVersion: num("CurrentMajorVersionNumber"), MinorVersion: num("CurrentMinorVersionNumber"),
	}
	if cv.CurrentBuild == "" {
		cv.CurrentBuild = str("CurrentBuildNumber")
	}
	if cv.CurrentBuild == "" {
		return cv, fmt.Errorf("HKLM\\%s has no CurrentBuild", currentVersionKey)
	}
	return cv, nil
}
