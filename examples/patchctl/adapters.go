package main

import (
	"context"
	"errors"
)

// runAdapters implements patchctl adapters. Being built: see the open issue that owns it.
func runAdapters(ctx context.Context, e *env, args []string) error {
	return errors.New("not implemented yet")
}
