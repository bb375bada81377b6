package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve the built-in adapters when the
// adapter host re-executes it (os.Executable() __serve-adapter NAME), as
// the patchctl binary does; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if code, handled := serveBuiltinAdapter(os.Args[1:]); handled {
		os.Exit(code)
	}
	os.Exit(m.Run())
}
