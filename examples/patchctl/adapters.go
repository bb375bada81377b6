package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
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

// checkAdapter is patchctl adapters check [flags] PLUGIN|NAME: it runs the
// conformance kit against a plugin binary (a path) or a built-in adapter (a
// name) through the adapter host, prints one line per check and fails when
// any check fails.
func checkAdapter(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "adapters check")
	sum := fs.String("sha256", "", "refuse to start the plugin unless its SHA-256 is this (hex)")
	root := fs.String("root", "", "run the checks against this root directory instead of the running system")
	installID := fs.String("install-id", "", "an update that is already installed; enables the install checks (they may change the system)")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on each call")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: patchctl adapters check [--sha256 HEX] [--root DIR] [--install-id ID] [--timeout D] PLUGIN|NAME")
		fmt.Fprintln(e.stderr, "PLUGIN is a path to an adapter binary (./my-adapter); NAME is a built-in adapter.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one plugin path or built-in adapter name, got %d arguments", errUsage, fs.NArg())
	}
	what := fs.Arg(0)
	var src adapters.Source
	if strings.ContainsRune(what, '/') || strings.ContainsRune(what, filepath.Separator) {
		var want []byte
		if *sum != "" {
			b, err := hex.DecodeString(strings.TrimSpace(*sum))
			if err != nil || len(b) != sha256.Size {
				return fmt.Errorf("%w: --sha256 %q is not a hex SHA-256 digest", errUsage, *sum)
			}
			want = b
		}
		src = adapters.Binary(what, want)
	} else {
		if _, ok := builtinAdapters()[what]; !ok {
			return fmt.Errorf("%w: %q is neither a path (write ./%s for a file here) nor a built-in adapter (%s)",
				errUsage, what, what, strings.Join(builtinAdapters().Names(), ", "))
		}
		src = adapters.Builtin(what)
	}
	h := adapters.NewHost(src, adapters.WithLogger(hostLogger(e)))
	defer h.Close(context.WithoutCancel(ctx))
	if err := h.Start(ctx); err != nil {
		return err
	}
	opts := []adaptertest.Option{adaptertest.WithCallTimeout(*timeout), adaptertest.WithTarget(adapters.Target{Root: *root})}
	if *installID != "" {
		opts = append(opts, adaptertest.WithInstallID(*installID))
	}
	results := adaptertest.Check(ctx, h, opts...)
	counts := map[adaptertest.Outcome]int{}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, r := range results {
		counts[r.Outcome]++
		detail := r.Detail
		if detail == "" {
			detail = r.Duration.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(r.Outcome)), r.Name, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d passed, %d failed, %d skipped\n", what,
		counts[adaptertest.Passed], counts[adaptertest.Failed], counts[adaptertest.Skipped])
	if n := counts[adaptertest.Failed]; n > 0 {
		return fmt.Errorf("%s does not conform: %d of %d checks failed", what, n, len(results))
	}
	return nil
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
