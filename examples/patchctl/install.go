package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/patchcore/sdk/adapters"
)

// runInstall implements patchctl install --adapter NAME [--root DIR]
// [--force] [--json] ID...: each ID is a package name, or an advisory ID
// where the package manager knows advisories (a dnf updateinfo ID, a zypper
// patch ID). It prints one result per ID and exits 1 when any item was not
// installed (failed, held, not applicable: a package that is not
// installed, an ID the adapter cannot map to packages).
func runInstall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "install")
	name := fs.String("adapter", "", "adapter to use (apt, dnf, yum, zypper, or a plugin binary ./PATH); default: the one that serves this machine or --root")
	sum := fs.String("sha256", "", "with --adapter ./PATH: refuse to start the plugin unless its SHA-256 is this (hex)")
	root := fs.String("root", "", "install into this root directory instead of the running system")
	force := fs.Bool("force", false, "also upgrade held or version-locked packages named in the IDs")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: patchctl install [--adapter NAME|./PLUGIN [--sha256 HEX]] [--root DIR] [--force] [--json] ID...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: name at least one package or advisory ID", errUsage)
	}
	a, adapterName, closeAdapter, err := openAdapterFlag(ctx, e, *name, *sum, *root)
	if err != nil {
		return err
	}
	defer closeAdapter()
	*name = adapterName
	resp, err := a.Install(ctx, adapters.InstallRequest{Target: adapters.Target{Root: *root}, IDs: fs.Args(), Force: *force})
	if err != nil {
		return oneLine(fmt.Errorf("installing: %w", err))
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tFROM\tTO\tREASON")
		for _, it := range resp.Items {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.ID, it.Status, dashIfEmpty(it.FromVersion), dashIfEmpty(it.ToVersion), it.Reason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if resp.RebootRequired {
			fmt.Fprintln(e.stdout, "a reboot is required to finish")
		}
	}
	return notInstalled(resp.Items)
}

// notInstalled fails, on one line, when any item was not installed:
// failed, held, not applicable (not an installed package, an ID the
// adapter does not know), or a status this version does not know. An
// up-to-date package the adapter reports installed counts as installed.
func notInstalled(items []adapters.ItemResult) error {
	var bad []string
	for _, it := range items {
		switch it.Status {
		case adapters.ItemInstalled, adapters.ItemInstalledPendingReboot:
			continue
		}
		what := it.ID + " " + string(it.Status)
		if it.Status == "" {
			what = it.ID + " (no status)"
		}
		if it.Reason != "" {
			what += ": " + it.Reason
		}
		bad = append(bad, what)
	}
	if len(bad) == 0 {
		return nil
	}
	return oneLine(fmt.Errorf("%d of %d items not installed: %s", len(bad), len(items), strings.Join(bad, "; ")))
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
