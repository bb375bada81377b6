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
// and the same three for CPU time on Linux (cpu-ns/op, native-cpu-ns/op,
// x-native-cpu).
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
	"runtime/pprof"
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

// Op is one adapter call.
type Op struct {
	// Call makes the call; it returns an error when the call failed or its
	// result is not what the benchmark expects.
	Call func(ctx context.Context) error
	// Pid, when not 0, is another process doing the work (the plugin): its
	// CPU time and its children's count toward the call's.
	Pid int
}

// Compare runs the sub-benchmarks "native" (the command alone), and, for
// every entry of ops ("inprocess", "plugin"), the adapter call interleaved
// with the native command, reporting native-ns/op and x-native beside the
// adapter's ns/op. On Linux it also reports CPU time (user+system, of this
// process, the plugin and the commands they ran): cpu-ns/op,
// native-cpu-ns/op and x-native-cpu, which a busy machine disturbs far
// less than wall time.
func Compare(b *testing.B, native Native, ops map[string]Op) {
	b.Helper()
	ctx := context.Background()
	b.Run("native", func(b *testing.B) { Measure(b, native) })
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		op := ops[name]
		b.Run(name, func(b *testing.B) {
			var nat, ad, natCPU, adCPU time.Duration
			n := 0
			runNative := func() {
				b.StopTimer()
				start, cpu0 := time.Now(), ownCPU()
				if _, err := native.Run(ctx); err != nil {
					b.Fatal(err)
				}
				nat += time.Since(start)
				natCPU += ownCPU() - cpu0
				b.StartTimer()
			}
			for b.Loop() {
				if n%2 == 0 {
					runNative()
				}
				start, cpu0 := time.Now(), ownCPU()+pidCPU(b, op.Pid)
				if err := op.Call(ctx); err != nil {
					b.Fatal(err)
				}
				ad += time.Since(start)
				adCPU += ownCPU() + pidCPU(b, op.Pid) - cpu0
				if n%2 == 1 {
					runNative()
				}
				n++
			}
			if n == 0 || nat <= 0 {
				return
			}
			b.ReportMetric(float64(nat.Nanoseconds())/float64(n), "native-ns/op")
			b.ReportMetric(float64(ad)/float64(nat), "x-native")
			if natCPU > 0 && adCPU > 0 {
				b.ReportMetric(float64(adCPU.Nanoseconds())/float64(n), "cpu-ns/op")
				b.ReportMetric(float64(natCPU.Nanoseconds())/float64(n), "native-cpu-ns/op")
				b.ReportMetric(float64(adCPU)/float64(natCPU), "x-native-cpu")
			}
		})
	}
}

// Measure is a benchmark of the native command alone: ns/op and, on
// Linux, cpu-ns/op (its CPU time).
func Measure(b *testing.B, native Native) {
	b.Helper()
	ctx := context.Background()
	cpu0 := ownCPU()
	for b.Loop() {
		if _, err := native.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := ownCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// pidCPU is the CPU time of process pid and its children, 0 for pid 0.
func pidCPU(b *testing.B, pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	d, err := processCPU(pid)
	if err != nil {
		b.Fatalf("reading the CPU time of process %d: %v", pid, err)
	}
	return d
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

// PluginProfileEnv names a file the plugin writes its CPU profile to, for
// go tool pprof: set it to see where the plugin side of a benchmark spends
// its time (the test's own -cpuprofile only covers the host side).
const PluginProfileEnv = "PMBENCH_PLUGIN_CPUPROFILE"

// ServeIfAsked serves the adapter f as a plugin, and exits, when the test
// binary was re-executed by Plugin (os.Args: BuiltinSubcommand name); call
// it first thing in TestMain. Otherwise it returns at once.
func ServeIfAsked(name string, f adapters.Factory) {
	if len(os.Args) != 3 || os.Args[1] != adapters.BuiltinSubcommand || os.Args[2] != name {
		return
	}
	var profile *os.File
	if path := os.Getenv(PluginProfileEnv); path != "" {
		var err error
		if profile, err = os.Create(path); err == nil {
			err = pprof.StartCPUProfile(profile)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "pmbench: %s=%s: %v\n", PluginProfileEnv, path, err)
			os.Exit(1)
		}
	}
	adapters.Serve(f)
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	os.Exit(0)
}
