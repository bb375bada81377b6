// Command patchctl is a command-line tool composed from the patchcore SDK:
// it scans a device for missing patches through an adapter, parses vendor
// feeds, runs detection, and checks adapters against the conformance kit.
//
// Each subcommand lives in its own file (scan.go, feed.go, detect.go,
// adapters.go, install.go) and has the signature of command.run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one patchctl subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
	hidden  bool
}

// env is what a subcommand may touch: its output streams. Tests pass buffers.
type env struct {
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{name: "scan", summary: "list missing updates on this machine (or a root) through an adapter", run: runScan},
		{name: "feed", summary: "parse vendor feeds into normalised patches", run: runFeed},
		{name: "detect", summary: "evaluate feeds against an inventory and explain each finding", run: runDetect},
		{name: "install", summary: "install updates through an adapter", run: runInstall},
		{name: "adapters", summary: "list built-in adapters; check a plugin binary against the conformance kit", run: runAdapters},
	}
}

// errUsage marks errors that come from a wrong invocation; main prints usage hints for them.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes patchctl with args and returns the process exit code: 0
// when the command did what was asked, 1 on an error, 2 on a wrong
// invocation, 3 when detect has no answer because the feeds do not cover
// the device. Errors are printed as one line on stderr.
func run(ctx context.Context, e *env, args []string) int {
	if code, handled := serveBuiltinAdapter(args); handled {
		return code
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(e.stderr, "patchctl %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, errNotCovered):
			fmt.Fprintf(e.stderr, "patchctl %s: %v\n", c.name, err)
			return 3
		default:
			fmt.Fprintf(e.stderr, "patchctl %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "patchctl: unknown command %q (run patchctl help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: patchctl <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		if !c.hidden {
			fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
		}
	}
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints its usage to e.stderr.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("patchctl "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
