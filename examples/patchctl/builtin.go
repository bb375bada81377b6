package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/apt"
	"github.com/patchcore/sdk/adapters/brew"
	"github.com/patchcore/sdk/adapters/choco"
	"github.com/patchcore/sdk/adapters/dnf"
	"github.com/patchcore/sdk/adapters/softwareupdate"
	"github.com/patchcore/sdk/adapters/winget"
	"github.com/patchcore/sdk/adapters/wua"
	"github.com/patchcore/sdk/adapters/zypper"
)

// builtinAdapters is the registry of the adapters compiled into patchctl:
// an explicit value built here, never filled by init(). The host runs each
// one as a plugin subprocess by re-executing patchctl (see
// serveBuiltinAdapter), so a crash in a package manager never takes
// patchctl down. Every adapter builds on every OS; one that cannot serve
// the OS it runs on fails its calls with patchcore.ErrUnsupported.
func builtinAdapters() adapters.Registry {
	return adapters.Registry{
		"apt":            apt.Factory,
		"dnf":            dnf.Factory,
		"yum":            dnf.YumFactory,
		"zypper":         zypper.Factory,
		"wua":            wua.Factory,
		"choco":          choco.Factory,
		"winget":         winget.Factory,
		"softwareupdate": softwareupdate.Factory,
		"brew":           brew.Factory,
	}
}

// serveBuiltinAdapter runs a built-in adapter when the host re-executed this
// binary to serve one as a plugin subprocess:
//
//	patchctl __serve-adapter <name>
//
// It reports whether it handled args; the subcommand is hidden from usage.
func serveBuiltinAdapter(args []string) (code int, handled bool) {
	if len(args) == 0 || args[0] != adapters.BuiltinSubcommand {
		return 0, false
	}
	reg := builtinAdapters()
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "patchctl %s: want exactly one adapter name (built in: %s)\n",
			adapters.BuiltinSubcommand, strings.Join(reg.Names(), ", "))
		return 2, true
	}
	f, ok := reg[args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "patchctl %s: no built-in adapter %q (built in: %s)\n",
			adapters.BuiltinSubcommand, args[1], strings.Join(reg.Names(), ", "))
		return 2, true
	}
	adapters.Serve(f) // exits the process itself on failure
	return 0, true
}
