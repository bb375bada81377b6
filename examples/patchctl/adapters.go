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
		fmt.Fprintln(fs.Output(), "usage: patchctl adapters                 list the built-in adapters")
		fmt.Fprintln(fs.Output(), "       patchctl adapters check [flags] PLUGIN|NAME  run the conformance kit against a plugin binary or a built-in adapter")
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
		fmt.Fprintln(fs.Output(), "usage: patchctl adapters check [--sha256 HEX] [--root DIR] [--install-id ID] [--timeout D] PLUGIN|NAME")
		fmt.Fprintln(fs.Output(), "PLUGIN is a path to an adapter binary (./my-adapter); NAME is a built-in adapter.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one plugin path or built-in adapter name, got %d arguments", errUsage, fs.NArg())
	}
	what := fs.Arg(0)
	src, err := adapterSource(what, *sum)
	if err != nil {
		return err
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

// isPluginPath reports whether an --adapter value or adapters check
// argument names a plugin binary (it contains a path separator, as in
// ./my-adapter) rather than a built-in adapter.
func isPluginPath(what string) bool {
	return strings.ContainsRune(what, '/') || strings.ContainsRune(what, filepath.Separator)
}

// adapterSource resolves what to a plugin binary (a path, checked against
// the hex SHA-256 sum when one is given) or a built-in adapter (a name).
func adapterSource(what, sum string) (adapters.Source, error) {
	if isPluginPath(what) {
		var want []byte
		if sum != "" {
			b, err := hex.DecodeString(strings.TrimSpace(sum))
			if err != nil || len(b) != sha256.Size {
				return adapters.Source{}, fmt.Errorf("%w: --sha256 %q is not a hex SHA-256 digest", errUsage, sum)
			}
			want = b
		}
		return adapters.Binary(what, want), nil
	}
	if sum != "" && what == "" {
		return adapters.Source{}, fmt.Errorf("%w: --sha256 checks a plugin binary: name it with --adapter ./PATH", errUsage)
	}
	if sum != "" {
		return adapters.Source{}, fmt.Errorf("%w: --sha256 checks a plugin binary; %q is a built-in adapter name (write ./%s for a file here)", errUsage, what, what)
	}
	if _, ok := builtinAdapters()[what]; !ok {
		return adapters.Source{}, fmt.Errorf("%w: unknown adapter %q: neither a path (write ./%s for a file here) nor a built-in adapter (%s)",
			errUsage, what, what, strings.Join(builtinAdapters().Names(), ", "))
	}
	return adapters.Builtin(what), nil
}

// openAdapterFlag is openAdapter for the --adapter and --sha256 flags of
// scan and install: a value with a path separator (./my-adapter) starts
// that plugin binary, refusing it unless its SHA-256 is sum when sum is
// set; anything else is a built-in adapter name, or empty for the one that
// serves root or this machine.
func openAdapterFlag(ctx context.Context, e *env, name, sum, root string) (adapters.Adapter, string, func(), error) {
	if !isPluginPath(name) {
		if name != "" || sum != "" {
			if _, err := adapterSource(name, sum); err != nil {
				return nil, "", nil, err
			}
		}
		return openAdapter(ctx, e, name, root)
	}
	if root != "" {
		if err := checkRoot(root); err != nil {
			return nil, "", nil, err
		}
	}
	src, err := adapterSource(name, sum)
	if err != nil {
		return nil, "", nil, err
	}
	h := adapters.NewHost(src, adapters.WithLogger(pluginLogger(e)))
	if err := h.Start(ctx); err != nil {
		_ = h.Close(context.WithoutCancel(ctx))
		return nil, "", nil, oneLine(fmt.Errorf("starting adapter %s: %w", name, err))
	}
	return h, name, func() { _ = h.Close(context.WithoutCancel(ctx)) }, nil
}

// pluginLogger is the logger of scan's and install's adapter hosts: off
// unless PATCHCTL_LOG_LEVEL (debug, info, warn, error) names a level, so
// that an error is one line.
func pluginLogger(e *env) hclog.Logger {
	level := hclog.LevelFromString(os.Getenv("PATCHCTL_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Off
	}
	return hclog.New(&hclog.LoggerOptions{Name: "patchctl", Output: e.stderr, Level: level})
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
