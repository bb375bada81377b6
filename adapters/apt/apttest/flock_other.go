//go:build !unix

package apttest

import "os"

// lockFile is a no-op where flock does not exist; mmdebstrap roots are Linux-only anyway.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
