// Package parse turns what the Windows Update Agent, WMI and the registry
// return (searched updates, operation results, the update history,
// Win32_QuickFixEngineering rows, CurrentVersion, Uninstall entries and
// the Click-to-Run configuration) into patchcore and adapter values. The
// wua adapter uses it; its names are exported for the adapter and its
// tests only.
package parse
