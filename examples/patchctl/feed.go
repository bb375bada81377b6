package main

import (
	"context"
	"errors"
)

// runFeed implements patchctl feed. Being built: see the open issue that owns it.
func runFeed(ctx context.Context, e *env, args []string) error {
	return errors.New("not implemented yet")
}
