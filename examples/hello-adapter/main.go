// Command hello-adapter is a complete third-party patchcore adapter: a toy
// package manager whose state lives in a directory. It is the worked
// example of docs/writing-an-adapter.md.
//
// The directory (Target.Root; for the running "system" $HELLO_ROOT, or
// else hello-adapter in the user's configuration directory, where a missing
// directory is a system with nothing installed) holds:
//
//	installed/<name>    one line: the installed version (semver)
//	repo/<name>/<ver>   an available version of a package (contents unused)
//	lock                present while another process holds the package manager
//	reboot-required     present when an install asks for a restart
//
// The binary's whole main is adapters.Serve(newAdapter); the host starts it
// as a plugin subprocess, so it is never run by hand.
package main

import "github.com/patchcore/sdk/adapters"

func main() {
	adapters.Serve(newAdapter)
}
