// Command patchctl is a command-line tool composed from the patchcore SDK:
// it scans a device for missing patches through an adapter (built in, or a
// third-party plugin binary), installs updates, fetches and parses vendor
// feeds, runs detection, and checks adapters against the conformance kit.
//
// Each subcommand lives in its own file (scan.go, install.go, feed.go and
// feedfetch.go, detect.go, adapters.go) and has the signature of
// command.run; input.go opens FILE arguments, where "-" is standard input.
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

// env is what a subcommand may touch: its standard streams. Tests pass
// buffers. stdin is read where an argument is "-" (see input.go); it may be
// nil, and then "-" is an error.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdinUsed records that an argument already consumed stdin.
	stdinUsed bool
}

func commands() []command {
	return []command{
		{name: "scan", summary: "list missing updates on this machine (or a root) through an adapter", run: runScan},
		{name: "feed", summary: "parse vendor feeds into normalised patches; fetch feeds over HTTP(S)", run: runFeed},
		{name: "detect", summary: "evaluate feeds against an inventory and explain each finding", run: runDetect},
		{name: "install", summary: "install updates through an adapter", run: runInstall},
		{name: "adapters", summary: "list built-in adapters; check a plugin binary against the conformance kit", run: runAdapters},
	}
}

// errUsage marks errors that come from a wrong invocation; main prints usage hints for them.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes patchctl with args and returns the process exit code. Help
// that was asked for (help, -h, --help, help CMD, CMD -h) goes to stdout
// with exit 0; errors are one line on stderr, with exit 1 for a failure, 2
// for a wrong invocation and 3 when detect has no answer because the feeds
// do not cover the device.
func run(ctx context.Context, e *env, args []string) int {
	if code, handled := serveBuiltinAdapter(args); handled {
		return code
	}
	if len(args) == 0 {
		usage(e.stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) == 1 {
			usage(e.stdout)
			return 0
		}
		// help CMD [SUBCMD] is CMD [SUBCMD] -h.
		args = append(append([]string(nil), args[1:]...), "-h")
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
			fmt.Fprintf(e.stderr, "patchctl %s: %v (run patchctl help %s)\n", c.name, err, c.name)
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
	fmt.Fprintln(w, "\nRun patchctl help <command> (or patchctl <command> -h) for its flags.")
	fmt.Fprintln(w, "A FILE argument of - reads standard input.")
}

// newFlags returns a flag set that reports errors instead of exiting. Its
// Usage function must write to fs.Output(): parseFlags shows it on stdout
// when help is asked for (-h, --help) and keeps it out of the one-line
// error otherwise.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("patchctl "+name, flag.ContinueOnError)
	fs.SetOutput(&usageOutput{help: e.stdout})
	return fs
}

// usageOutput is a flag set's output: discarded while the flag package
// parses (it prints errors and usage itself), the help stream afterwards.
type usageOutput struct {
	help    io.Writer
	parsing bool
}

func (u *usageOutput) Write(p []byte) (int, error) {
	if u.parsing {
		return len(p), nil
	}
	return u.help.Write(p)
}

// parseFlags parses args, turning flag errors into usage errors and
// printing the flag set's usage to stdout when help was asked for.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, _ := fs.Output().(*usageOutput)
	if out != nil {
		out.parsing = true
	}
	err := fs.Parse(args)
	if out != nil {
		out.parsing = false
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
