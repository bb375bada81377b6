package adapters

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// envTestHost makes the test binary act as a host that starts a plugin,
// prints the plugin's pid and waits to be killed (TestNoOrphanWhenHostDies).
const envTestHost = "ADAPTERS_TEST_HOST"

// TestMain lets the test binary impersonate the plugins and hosts the tests
// need (the os/exec trick): re-executed with BuiltinSubcommand, or with
// envTestPlugin set, it serves a test plugin instead of running tests.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == BuiltinSubcommand {
		servePluginForTest(os.Args[2])
	}
	if name := os.Getenv(envTestPlugin); name != "" {
		servePluginForTest(name)
	}
	if os.Getenv(envTestHost) != "" {
		runHostForTest()
	}
	os.Exit(m.Run())
}

func servePluginForTest(name string) {
	switch name {
	case "fake":
		Serve(fakeFactory)
	case "stdout-early":
		fmt.Println("hello from a plugin that prints before serving")
		Serve(fakeFactory)
	case "stdout-in-factory":
		Serve(func(ctx context.Context, env Env) (Adapter, error) {
			fmt.Println("printed by the factory")
			return fakeFactory(ctx, env)
		})
	case "factory-fails":
		Serve(func(context.Context, Env) (Adapter, error) {
			return nil, errors.New("opening /var/lib/fake/status: permission denied")
		})
	case "v2":
		// A plugin built against a future protocol 2 only.
		srv := newServer(newFake(0, ""), 2, hclog.NewNullLogger())
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  handshake(),
			VersionedPlugins: map[int]plugin.PluginSet{2: {pluginName: &grpcPluginV1{srv: srv}}},
			GRPCServer:       plugin.DefaultGRPCServer,
			Logger:           hclog.NewNullLogger(),
		})
	case "stock":
		// A plugin on stock go-plugin: its AutoMTLS answers with a P-521
		// certificate of its own.
		srv := newServer(newFake(0, ""), ProtocolVersion, hclog.NewNullLogger())
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  handshake(),
			VersionedPlugins: servePluginSets(srv),
			GRPCServer:       plugin.DefaultGRPCServer,
			Logger:           hclog.NewNullLogger(),
		})
	case "no-cert":
		// Ignores the host's request for TLS and serves in the clear,
		// sending no certificate back.
		_ = os.Unsetenv(clientCertEnv)
		Serve(fakeFactory)
	case "silent":
		time.Sleep(time.Minute) // never performs the handshake
	case "not-a-plugin":
		// A program that is no plugin: it talks on stdout, without ending
		// the line, starts a helper that inherits its stdout, and keeps
		// running. It writes both pids to the marker file.
		helper := exec.Command("sleep", "60")
		helper.Stdout, helper.Stderr = os.Stdout, os.Stderr
		if err := helper.Start(); err != nil {
			os.Exit(3)
		}
		if m := os.Getenv(envTestMarker); m != "" {
			_ = os.WriteFile(m, []byte(strconv.Itoa(os.Getpid())+" "+strconv.Itoa(helper.Process.Pid)), 0o600)
		}
		fmt.Print("usage: frobnicate [options] FILE")
		time.Sleep(time.Minute)
	default:
		fmt.Fprintf(os.Stderr, "unknown test plugin %q\n", name)
		os.Exit(2)
	}
	os.Exit(0)
}

func runHostForTest() {
	h := NewHost(Builtin("fake"))
	if err := h.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(h.Pid())
	time.Sleep(time.Minute)
	os.Exit(0)
}
