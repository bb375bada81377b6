package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
)

// runAdapters implements patchctl adapters: with no arguments it lists the
// built-in adapters.
func runAdapters(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "adapters")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: patchctl adapters                 list the built-in adapters")
		fmt.Fprintln(e.stderr, "       patchctl adapters check [flags] PLUGIN|NAME  run the conformance kit against a plugin binary or a built-in adapter")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return listAdapters(ctx, e)
	case fs.Arg(0) == "check":
		return checkAdapter(ctx, e, fs.Args()[1:])
	}
	return fmt.Errorf("%w: unknown adapters subcommand %q (want check)", errUsage, fs.Arg(0))
}

// listAdapters prints one row per built-in adapter, from its Info.
func listAdapters(ctx context.Context, e *env) error {
	reg := builtinAdapters()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSCHEME\tPLATFORMS\tCAPABILITIES")
	for _, name := range reg.Names() {
		h := adapters.NewHost(adapters.InProcess(name, reg[name]))
		info, err := h.Info(ctx, adapters.InfoRequest{})
		_ = h.Close(ctx)
		if err != nil {
			fmt.Fprintf(tw, "%s\t?\t?\t?\t%v\n", name, err)
			continue
		}
		caps := make([]string, len(info.Capabilities))
		for i, c := range info.Capabilities {
			caps[i] = string(c)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, info.Version, info.VersionScheme,
			strings.Join(info.Platforms, ","), dash(strings.Join(caps, ",")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkAdapter is patchctl adapters check. Being built: see the adapter
// conformance kit.
func checkAdapter(ctx context.Context, e *env, args []string) error {
	return fmt.Errorf("adapters check: not implemented yet")
}

// hostLogger is the logger adapter hosts re-emit plugin logs through:
// stderr, at the level PATCHCTL_LOG_LEVEL names (default warn).
func hostLogger(e *env) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("PATCHCTL_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Warn
	}
	return hclog.New(&hclog.LoggerOptions{Name: "patchctl", Output: e.stderr, Level: level})
}

// startBuiltin starts the named built-in adapter as a plugin subprocess
// (patchctl re-executed with adapters.BuiltinSubcommand). The caller must
// Close the host, which lets a running install finish before stopping it.
func startBuiltin(ctx context.Context, e *env, name string) (*adapters.Host, error) {
	reg := builtinAdapters()
	if _, ok := reg[name]; !ok {
		return nil, fmt.Errorf("%w: unknown adapter %q (built in: %s)", errUsage, name, strings.Join(reg.Names(), ", "))
	}
	h := adapters.NewHost(adapters.Builtin(name), adapters.WithLogger(hostLogger(e)))
	if err := h.Start(ctx); err != nil {
		_ = h.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return h, nil
}
