package main

// serveBuiltinAdapter runs a built-in adapter when the host re-executed this
// binary to serve one as a plugin subprocess. It reports whether it handled
// args. Being built with the adapter host.
func serveBuiltinAdapter(args []string) (code int, handled bool) {
	return 0, false
}
