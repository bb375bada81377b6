// Package winreboot reads the registry signals Windows leaves when a restart
// is pending: the Windows Update "RebootRequired" key, the Component Based
// Servicing "RebootPending" key and the Session Manager's
// PendingFileRenameOperations value. The Windows Update, Chocolatey and
// winget adapters share it for their RebootRequired calls.
//
// The registry is reached through the small Registry interface so the
// decision is tested on any OS; System returns the real registry on Windows
// and one whose reads fail with patchcore.ErrUnsupported elsewhere.
package winreboot

import (
	"context"
	"fmt"
)

// Key paths under HKEY_LOCAL_MACHINE that signal a pending restart.
const (
	// WindowsUpdateKey exists while Windows Update waits for a restart.
	WindowsUpdateKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`
	// ServicingKey exists while Component Based Servicing (CBS, DISM,
	// cumulative updates) waits for a restart.
	ServicingKey = `SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`
	// SessionManagerKey holds PendingFileRenameOperations, files an
	// installer could not replace while in use (MSI, many .exe installers).
	SessionManagerKey = `SYSTEM\CurrentControlSet\Control\Session Manager`
	// PendingRenamesValue is the REG_MULTI_SZ value under SessionManagerKey.
	PendingRenamesValue = "PendingFileRenameOperations"
)

// Registry reads HKEY_LOCAL_MACHINE. Paths are relative to it.
type Registry interface {
	// KeyExists reports whether the key exists.
	KeyExists(ctx context.Context, path string) (bool, error)
	// Strings returns a REG_MULTI_SZ (or REG_SZ) value; ok is false when
	// the key or value does not exist.
	Strings(ctx context.Context, path, name string) (values []string, ok bool, err error)
}

// Reasons for a pending restart, as Check reports them.
const (
	ReasonWindowsUpdate  = `registry: HKLM\` + WindowsUpdateKey
	ReasonServicing      = `registry: HKLM\` + ServicingKey
	ReasonPendingRenames = `registry: HKLM\` + SessionManagerKey + `\` + PendingRenamesValue
)

// Check reports whether the registry says a restart is pending, with one
// reason per signal found. PendingFileRenameOperations counts only when it
// lists at least one non-empty entry.
func Check(ctx context.Context, reg Registry) (required bool, reasons []string, err error) {
	for _, k := range []struct{ path, reason string }{
		{WindowsUpdateKey, ReasonWindowsUpdate},
		{ServicingKey, ReasonServicing},
	} {
		ok, err := reg.KeyExists(ctx, k.path)
		if err != nil {
			return false, nil, fmt.Errorf("winreboot: reading HKLM\\%s: %w", k.path, err)
		}
		if ok {
			reasons = append(reasons, k.reason)
		}
	}
	vals, ok, err := reg.Strings(ctx, SessionManagerKey, PendingRenamesValue)
	if err != nil {
		return false, nil, fmt.Errorf("winreboot: reading HKLM\\%s\\%s: %w", SessionManagerKey, PendingRenamesValue, err)
	}
	if ok {
		for _, v := range vals {
			if v != "" {
				reasons = append(reasons, ReasonPendingRenames)
				break
			}
		}
	}
	return len(reasons) > 0, reasons, nil
}

// Fake is an in-memory Registry for tests: Keys lists the keys that exist,
// Values maps "path\name" to a value's strings, Err makes every read fail.
type Fake struct {
	Keys   []string
	Values map[string][]string
	Err    error
}

// KeyExists implements Registry.
func (f Fake) KeyExists(ctx context.Context, path string) (bool, error) {
	if f.Err != nil {
		return false, f.Err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	for _, k := range f.Keys {
		if k == path {
			return true, nil
		}
	}
	return false, nil
}

// Strings implements Registry.
func (f Fake) Strings(ctx context.Context, path, name string) ([]string, bool, error) {
	if f.Err != nil {
		return nil, false, f.Err
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	v, ok := f.Values[path+`\`+name]
	return v, ok, nil
}
