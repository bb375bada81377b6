package main

import (
	"context"
	"errors"
)

// runDetect implements patchctl detect. Being built: see the open issue that owns it.
func runDetect(ctx context.Context, e *env, args []string) error {
	return errors.New("not implemented yet")
}
