package main

import (
	"context"
	"errors"
)

// runScan implements patchctl scan. Being built: see the open issue that owns it.
func runScan(ctx context.Context, e *env, args []string) error {
	return errors.New("not implemented yet")
}
