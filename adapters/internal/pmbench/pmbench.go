// Package pmbench compares an adapter's calls with the package manager's own
// listing command in go test benchmarks: the same machine, the same moment,
// the same process. Each adapter benchmark runs the native command and the
// adapter call in turn inside one loop (the order swapped every iteration),
// so a busy machine slows both alike, and reports
//
//	ns/op         the adapter call alone (the native run is not timed)
//	native-ns/op  the native command alone, from the same iterations
//	x-native      adapter time / native time, the ratio the 1.2x aim is about
//
// Benchmarks built with it only run under -bench; they skip, saying why,
// when a program is missing or privileges are lacking.
package pmbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
)

// Require skips the benchmark, printing the reason, when one of programs is
// not on PATH or, with root set, the process is not root.
func Require(b *testing.B, root bool, programs ...string) {
	b.Helper()
	var missing []string
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		b.Skipf("skipping: %s not installed on this machine", strings.Join(missing, ", "))
	}
	if root && os.Geteuid() != 0 {
		b.Skip("skipping: needs root (the package manager works on a root directory)")
	}
}

// Native is the package manager's own command and the exit codes that
// are not failures besides 0 (dnf check-update exits 100 when updates
// exist).
type Native struct {
	Command command.Command
	OK      []int
}

// Run runs the command with command.OS, the runner the adapters use, and
// returns its standard output.
func (n Native) Run(ctx context.Context) ([]byte, error) {
	res, err := command.OS{}.Run(ctx, n.Command)
	var ee *command.ExitError
	if err != nil && !(errors.As(err, &ee) && slices.Contains(n.OK, ee.ExitCode)) {
		return nil, fmt.Errorf("%s: %w: %s", n.Command, err, res.Stderr)
	}
	return res.Stdout, nil
}

// Op is one adapter call; it returns an error when the call failed or its
// result is not what the benchmark expects.
type Op func(ctx context.Context) error

// Compare runs the sub-benchmarks "native" (the command alone), and, for
// every entry of ops ("inprocess", "plugin"), the adapter call interleaved
// with the native command, reporting native-ns/op and x-native beside the
// adapter's ns/op.
func Compare(b *testing.B, native Native, ops map[string]Op) {
	b.Helper()
	ctx := context.Background()
	b.Run("native", func(b *testing.B) {
		for b.Loop() {
			if _, err := native.Run(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			var nat, ad time.Duration
			n := 0
			runNative := func() {
				b.StopTimer()
				start := time.Now()
				if _, err := native.Run(ctx); err != nil {
					b.Fatal(err)
				}
				nat += time.Since(start)
				b.StartTimer()
			}
			for b.Loop() {
				if n%2 == 0 {
					runNative()
				}
				start := time.Now()
				if err := op(ctx); err != nil {
					b.Fatal(err)
				}
				ad += time.Since(start)
				if n%2 == 1 {
					runNative()
				}
				n++
			}
			if n > 0 && nat > 0 {
				b.ReportMetric(float64(nat.Nanoseconds())/float64(n), "native-ns/op")
				b.ReportMetric(float64(ad)/float64(nat), "x-native")
			}
		})
	}
}

// Plugin starts the adapter name as a go-plugin subprocess (the test binary
// re-executed with adapters.BuiltinSubcommand; the test's TestMain must
// serve it, see ServeIfAsked) before the timer runs, and stops it when the
// benchmark ends. Start-up is not part of what is measured.
func Plugin(b *testing.B, name string) *adapters.Host {
	b.Helper()
	h := adapters.NewHost(adapters.Builtin(name))
	if err := h.Start(context.Background()); err != nil {
		b.Fatalf("starting adapter %s as a plugin: %v", name, err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// ServeIfAsked serves the adapter f as a plugin, and exits, when the test
// binary was re-executed by Plugin (os.Args: BuiltinSubcommand name); call
// it first thing in TestMain. Otherwise it returns at once.
func ServeIfAsked(name string, f adapters.Factory) {
	if len(os.Args) == 3 && os.Args[1] == adapters.BuiltinSubcommand && os.Args[2] == name {
		adapters.Serve(f)
		os.Exit(0)
	}
}
