package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/patchcore/sdk/feed"
	"github.com/patchcore/sdk/feed/formats"
	"github.com/patchcore/sdk/patchcore"
)

// stdinName is how errors name standard input.
const stdinName = "stdin"

// open opens the file a command-line argument names; "-" is standard
// input, which one invocation can read only once. The returned name labels
// errors ("stdin" for "-").
func (e *env) open(path string) (io.ReadCloser, string, error) {
	if path != "-" {
		f, err := os.Open(path)
		return f, path, err
	}
	if err := e.takeStdin(); err != nil {
		return nil, stdinName, err
	}
	return io.NopCloser(e.stdin), stdinName, nil
}

// readFile reads the whole file an argument names; "-" is standard input.
func (e *env) readFile(path string) ([]byte, error) {
	r, name, err := e.open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// takeStdin claims standard input for one argument.
func (e *env) takeStdin() error {
	switch {
	case e.stdin == nil:
		return fmt.Errorf("%w: - (standard input) is not available here", errUsage)
	case e.stdinUsed:
		return fmt.Errorf("%w: - (standard input) can be given only once", errUsage)
	}
	e.stdinUsed = true
	return nil
}

// parseInput parses the feed an argument names, recognising compression and
// format from the content unless opts names the format; "-" parses
// standard input, and a directory is a winget manifest directory.
func parseInput(ctx context.Context, e *env, path string, opts formats.Options, emit func(patchcore.Patch) error) (feed.Format, error) {
	if path != "-" {
		return formats.ParseFileWith(ctx, path, opts, emit)
	}
	if err := e.takeStdin(); err != nil {
		return nil, err
	}
	return formats.Parse(ctx, stdinName, e.stdin, opts, emit)
}
