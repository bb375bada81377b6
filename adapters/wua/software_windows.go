//go:build windows

package wua

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// SystemSoftware returns the reader of the registry's Uninstall keys (64-
// and 32-bit views) and Office Click-to-Run configuration.
func SystemSoftware() SoftwareReader { return registrySoftware{} }

type registrySoftware struct{}

const (
	uninstallKey  = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	clickToRunKey = `SOFTWARE\Microsoft\Office\ClickToRun\Configuration`
)

func (registrySoftware) Software(ctx context.Context) (Software, error) {
	var sw Software
	for _, view := range []struct {
		access uint32
		wow64  bool
	}{{registry.WOW64_64KEY, false}, {registry.WOW64_32KEY, true}} {
		if err := ctx.Err(); err != nil {
			return sw, err
		}
		entries, unreadable, err := readUninstall(view.access, view.wow64)
		if err != nil {
			return sw, err
		}
		sw.Uninstall = append(sw.Uninstall, entries...)
		sw.Unreadable = append(sw.Unreadable, unreadable...)
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, clickToRunKey, registry.QUERY_VALUE|registry.WOW64_64KEY)
	switch {
	case errors.Is(err, registry.ErrNotExist):
		return sw, nil
	case err != nil:
		return sw, fmt.Errorf("opening HKLM\\%s: %w", clickToRunKey, err)
	}
	defer k.Close()
	sw.ClickToRun = &ClickToRun{
		VersionToReport: str(k, "VersionToReport"), ProductReleaseIds: str(k, "ProductReleaseIds"),
		Platform: str(k, "Platform"), CDNBaseUrl: str(k, "CDNBaseUrl"), UpdateChannel: str(k, "UpdateChannel"),
	}
	return sw, nil
}

func readUninstall(access uint32, wow64 bool) (entries []UninstallEntry, unreadable []string, err error) {
	root, err := registry.OpenKey(registry.LOCAL_MACHINE, uninstallKey, registry.ENUMERATE_SUB_KEYS|access)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("opening HKLM\\%s: %w", uninstallKey, err)
	}
	defer root.Close()
	names, err := root.ReadSubKeyNames(-1)
	if err != nil {
		return nil, nil, fmt.Errorf("listing HKLM\\%s: %w", uninstallKey, err)
	}
	for _, name := range names {
		k, err := registry.OpenKey(root, name, registry.QUERY_VALUE|access)
		if err != nil {
			// An entry removed while listing, or one this account may not read.
			unreadable = append(unreadable, name+": "+err.Error())
			continue
		}
		sc, _, _ := k.GetIntegerValue("SystemComponent")
		entries = append(entries, UninstallEntry{
			Key: name, DisplayName: str(k, "DisplayName"), DisplayVersion: str(k, "DisplayVersion"),
			Publisher: str(k, "Publisher"), UninstallString: str(k, "UninstallString"),
			SystemComponent: sc == 1, ParentKeyName: str(k, "ParentKeyName"), ReleaseType: str(k, "ReleaseType"), WOW64: wow64,
		})
		k.Close()
	}
	return entries, unreadable, nil
}

// str reads a string value, "" when it is absent or not a string.
func str(k registry.Key, name string) string {
	v, _, err := k.GetStringValue(name)
	if err != nil {
		return ""
	}
	return v
}
