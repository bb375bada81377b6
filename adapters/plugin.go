package adapters

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
)

// BuiltinSubcommand is the hidden first argument with which a program that
// embeds built-in adapters is re-executed to serve one of them as a plugin
// subprocess: os.Executable() BuiltinSubcommand <name>. The program's main
// must hand such an invocation to Serve (see examples/patchctl/builtin.go).
const BuiltinSubcommand = "__serve-adapter"

// pluginName is the one plugin every adapter binary dispenses.
const pluginName = "adapter"

// logLevelEnv carries the host's log level to the plugin.
const logLevelEnv = "PATCHCORE_ADAPTER_LOG_LEVEL"

// handshake is shared by host and plugins. The cookie is not a security
// measure: it stops a user from running a plugin binary by hand by mistake.
func handshake() plugin.HandshakeConfig {
	return plugin.HandshakeConfig{
		ProtocolVersion:  ProtocolVersion,
		MagicCookieKey:   "PATCHCORE_ADAPTER_PLUGIN",
		MagicCookieValue: "c2b1a0d4-patchcore-adapter-plugin",
	}
}

// hostPluginSets lists the protocol versions this host speaks. Protocol 2
// gets its own entry (and internal/adapterproto/v2) when it exists.
func hostPluginSets() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginName: &grpcPluginV1{}},
	}
}

// servePluginSets lists the protocol versions a plugin serves srv over.
func servePluginSets(srv *server) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		1: {pluginName: &grpcPluginV1{srv: srv}},
	}
}

// hostProtocols returns the protocol versions this host speaks, ascending.
func hostProtocols() []int { return []int{1} }

// grpcPluginV1 binds protocol 1 to go-plugin.
type grpcPluginV1 struct {
	plugin.NetRPCUnsupportedPlugin
	srv *server // plugin side only
}

func (p *grpcPluginV1) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	adapterv1.RegisterAdapterServer(s, p.srv)
	return nil
}

func (p *grpcPluginV1) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &rpcClient{c: adapterv1.NewAdapterClient(c)}, nil
}
