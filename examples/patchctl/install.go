package main

import (
	"context"
	"errors"
)

// runInstall implements patchctl install. Being built: see the open issue that owns it.
func runInstall(ctx context.Context, e *env, args []string) error {
	return errors.New("not implemented yet")
}
