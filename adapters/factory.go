package adapters

import (
	"context"
	"slices"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/adapters/command"
)

// Env is what a Factory gets to build an adapter: the command runner every
// package-manager command must go through and a logger that writes to
// stderr (never stdout). Tests pass a command test double as Runner.
type Env struct {
	Runner command.Runner
	Logger hclog.Logger
}

// Factory builds an adapter. Serve calls it once, in the plugin process,
// before the handshake; it must not write to stdout and should do no
// expensive probing (Info must stay cheap).
type Factory func(ctx context.Context, env Env) (Adapter, error)

// Registry maps built-in adapter names ("apt") to their factories. It is an
// explicit value built by the program's main, never filled by init().
type Registry map[string]Factory

// Names returns the registered names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
