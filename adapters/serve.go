package adapters

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/patchcore/sdk/adapters/command"
)

// ServeOption configures Serve.
type ServeOption func(*serveConfig)

type serveConfig struct {
	logger hclog.Logger
	runner command.Runner
	test   *plugin.ServeTestConfig
	guard  *stopGuard
}

// WithServeLogger sets the logger the adapter gets in its Env. It must write
// to stderr (or anywhere but stdout); the default writes JSON to stderr,
// which the host re-emits under the adapter's name.
func WithServeLogger(l hclog.Logger) ServeOption {
	return func(c *serveConfig) { c.logger = l }
}

// WithRunner sets the command runner the adapter gets in its Env; the
// default is command.OS{}.
func WithRunner(r command.Runner) ServeOption {
	return func(c *serveConfig) { c.runner = r }
}

// Serve is the whole main of an adapter plugin binary:
//
//	func main() { adapters.Serve(toy.New) }
//
// It builds the adapter with f, performs the go-plugin handshake on stdout
// and serves the adapter over gRPC until the host stops it. While f runs,
// os.Stdout points at stderr so a stray print cannot corrupt the handshake;
// after the handshake anything written to os.Stdout reaches the host, which
// logs it as a warning. Adapters must log through Env.Logger.
//
// On SIGTERM, or when the host process disappears, Serve stops accepting
// installs, lets running ones finish, and exits. Serve exits the process with
// status 1 when the adapter cannot be built or served; run directly (not by a
// host) it explains that it is a plugin and exits with status 1.
func Serve(f Factory, opts ...ServeOption) {
	if err := serve(context.Background(), f, opts...); err != nil {
		fmt.Fprintf(os.Stderr, "adapter: %v\n", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, f Factory, opts ...ServeOption) error {
	cfg := serveConfig{runner: command.OS{}}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		level := hclog.LevelFromString(os.Getenv(logLevelEnv))
		if level == hclog.NoLevel {
			level = hclog.Info
		}
		cfg.logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, JSONFormat: true, Level: level})
	}
	if cfg.guard == nil {
		cfg.guard = &stopGuard{}
	}
	if cfg.test == nil && os.Getenv(handshake().MagicCookieKey) != handshake().MagicCookieValue {
		return errors.New("this program is a patchcore adapter plugin; it is started by a patchcore host (patchctl, the agent), not by hand")
	}

	// Mutual TLS when the host asks for it (go-plugin's AutoMTLS protocol
	// with a P-256 key generated here: see mtls.go). Test mode has no TLS.
	var tlsConfig *tls.Config
	var cert string
	if hostCert := os.Getenv(clientCertEnv); cfg.test == nil && hostCert != "" {
		var err error
		if tlsConfig, cert, err = newPluginTLS(hostCert); err != nil {
			return err
		}
		// Read; package-manager commands need not inherit it.
		_ = os.Unsetenv(clientCertEnv)
	}

	impl, err := buildAdapter(ctx, f, Env{Runner: cfg.runner, Logger: cfg.logger}, cfg.test == nil)
	if err != nil {
		return err
	}
	srv := newServer(impl, ProtocolVersion, cfg.logger)

	if cfg.test == nil {
		go drainOnExitSignal(srv, cfg.logger)
		// go-plugin points os.Stderr at a gRPC stream before serving; what
		// is written there just before a crash is lost. Calls run only after
		// that redirection, so the first one restores the real stderr: the
		// host reads it directly and shows its last lines when the plugin dies.
		stderr := os.Stderr
		var once sync.Once
		srv.onCall = func() { once.Do(func() { os.Stderr = stderr }) }
	}
	pluginLogger := cfg.logger.Named("go-plugin")
	if cfg.test != nil {
		pluginLogger = hclog.NewNullLogger() // its shutdown noise is not the test's business
	}
	forwarded := func() error { return nil }
	if cert != "" {
		if forwarded, err = handshakeWithCert(cert); err != nil {
			return err
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: servePluginSets(srv),
		GRPCServer:       cfg.guard.newGRPCServer,
		Logger:           pluginLogger,
		Test:             cfg.test,
		// nil when the host did not ask for TLS.
		TLSProvider: func() (*tls.Config, error) { return tlsConfig, nil },
	})
	if err := forwarded(); err != nil {
		cfg.logger.Error("handshake line", "error", err)
	}
	// The host closed the connection (after a Drain, normally): never return,
	// and so exit, while a package-manager transaction runs.
	_, err = srv.drain(context.Background())
	return err
}

// buildAdapter runs the factory; guardStdout points os.Stdout at stderr
// meanwhile, because the handshake line has not been written yet.
func buildAdapter(ctx context.Context, f Factory, env Env, guardStdout bool) (Adapter, error) {
	if guardStdout {
		stdout := os.Stdout
		os.Stdout = os.Stderr
		defer func() { os.Stdout = stdout }()
	}
	impl, err := f(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("building the adapter: %w", err)
	}
	if impl == nil {
		return nil, fmt.Errorf("building the adapter: factory returned a nil Adapter: %w", errors.New("invalid factory"))
	}
	return impl, nil
}

// drainOnExitSignal waits for SIGTERM or for the host to go away, lets the
// running operations finish, and exits.
func drainOnExitSignal(srv *server, logger hclog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	select {
	case s := <-sig:
		logger.Info("received signal; finishing running operations before exiting", "signal", s.String())
	case <-parentGone(time.Second):
		logger.Warn("host process went away; finishing running operations before exiting")
	}
	if _, err := srv.drain(context.Background()); err != nil {
		logger.Error("drain", "error", err)
	}
	os.Exit(0)
}

// ServeTest serves f's adapter from this process over real gRPC (go-plugin's
// test mode), for tests, the conformance kit and debugging. Pass the
// returned config to Reattach. stop shuts the server down, waits for
// running operations and returns once it is gone; ctx bounds the start.
func ServeTest(ctx context.Context, f Factory, opts ...ServeOption) (rc *plugin.ReattachConfig, stop func(), err error) {
	serveCtx, cancelServe := context.WithCancel(context.WithoutCancel(ctx))
	// Cancelling serveCtx makes plugin.Serve call GRPCServer.Stop; guard
	// keeps that from overlapping a Shutdown RPC's Stop (see stopGuard).
	guard := &stopGuard{}
	cancel := func() { guard.claim(); cancelServe() }
	rcCh := make(chan *plugin.ReattachConfig, 1)
	errCh := make(chan error, 1)
	opts = append(opts, func(c *serveConfig) {
		if c.logger == nil {
			c.logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn})
		}
		c.test = &plugin.ServeTestConfig{Context: serveCtx, ReattachConfigCh: rcCh}
		c.guard = guard
	})
	go func() { errCh <- serve(serveCtx, f, opts...) }()
	select {
	case rc := <-rcCh:
		return rc, func() { cancel(); <-errCh }, nil
	case err := <-errCh:
		cancel()
		return nil, nil, err
	case <-ctx.Done():
		cancel()
		go func() { <-errCh }()
		return nil, nil, fmt.Errorf("starting in-process adapter server: %w", ctx.Err())
	}
}

// shutdownMethod is go-plugin's controller RPC that a host's Client.Kill
// sends; its handler calls GRPCServer.Stop.
const shutdownMethod = "/plugin.GRPCController/Shutdown"

// stopGuard makes sure go-plugin's GRPCServer.Stop never runs twice at
// once. Stop is not safe for concurrent use (it reads and clears its broker
// field without a lock), and go-plugin v1.8.0 calls it from two places: the
// handler of the Shutdown RPC, and plugin.Serve itself when the test-mode
// context ends. Client.Kill returns as soon as the connection drops, which
// happens inside the handler's Stop, before the handler has finished; a
// ServeTest stop right after Host.Close therefore raced with it. Two hosts
// (or two Kills) sending Shutdown at once would race the same way in a
// plugin process.
//
// The guard runs the first Shutdown handler under its lock and refuses
// later ones (the server is already stopping; go-plugin's client ignores
// the answer). ServeTest claims the guard before cancelling the context, so
// plugin.Serve's own Stop runs only after any Shutdown handler has returned,
// and no Shutdown handler starts after it.
type stopGuard struct {
	mu       sync.Mutex
	stopping bool
}

// claim marks the server as stopping, after a running Shutdown handler (if
// any) has returned.
func (g *stopGuard) claim() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopping = true
}

// newGRPCServer is the ServeConfig.GRPCServer factory: go-plugin's default
// server with the guard's interceptor.
func (g *stopGuard) newGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	return grpc.NewServer(append(opts, grpc.ChainUnaryInterceptor(g.intercept))...)
}

func (g *stopGuard) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if info.FullMethod != shutdownMethod {
		return handler(ctx, req)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return nil, status.Error(codes.Unavailable, "adapter server is already stopping")
	}
	g.stopping = true
	return handler(ctx, req)
}
