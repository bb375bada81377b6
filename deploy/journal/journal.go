// Package journal is a durable deploy.Store: the state lives in a
// deploy.MemStore and every change is first appended to a journal file and
// fsync'ed, so a crash (even SIGKILL) loses nothing that a call reported as
// stored. Open replays the journal.
//
// Each line of the journal is "crc32c-hex SP json-change LF". A torn last
// line (a crash mid-write) is cut off on Open; a damaged line before the
// last is reported as patchcore.ErrTampered.
package journal

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Store is a deploy.Store backed by a journal file.
type Store struct {
	mem       *deploy.MemStore
	mu        sync.Mutex
	f         *os.File
	path      string
	sync      bool
	afterSync func(deploy.Change)
}

// Option configures a Store.
type Option func(*Store)

// WithoutSync skips fsync after each change: faster, but a power loss (not
// a process crash) may lose the last changes. For tests and benchmarks.
func WithoutSync() Option { return func(s *Store) { s.sync = false } }

// WithAfterSync calls fn after each change is durable in the journal and
// before it is applied in memory. Crash tests use it to die at every
// persisted step.
func WithAfterSync(fn func(deploy.Change)) Option { return func(s *Store) { s.afterSync = fn } }

// Open opens (creating if needed) the journal at path and replays it.
func Open(path string, opts ...Option) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening deployment journal: %w", err)
	}
	s := &Store{f: f, path: path, sync: true}
	for _, o := range opts {
		o(s)
	}
	s.mem = deploy.NewMemStore(deploy.WithWriteAhead(s.write))
	good, err := s.replay(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	// Cut a torn tail and append after the last good record.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: truncating torn tail at offset %d: %w", path, good, err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return s, nil
}

// replay applies every intact record and returns the offset after the last one.
func (s *Store) replay(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return off, nil // a partial last line (no LF) is a torn write
		}
		if err != nil {
			return 0, fmt.Errorf("journal %s: line %d: %w", s.path, line, err)
		}
		c, perr := parseRecord(b)
		if perr != nil {
			if _, err := br.Peek(1); errors.Is(err, io.EOF) {
				return off, nil // damaged last record: torn write
			}
			return 0, fmt.Errorf("journal %s: line %d (offset %d): %v: %w", s.path, line, off, perr, patchcore.ErrTampered)
		}
		if err := s.mem.Replay(c); err != nil {
			return 0, fmt.Errorf("journal %s: line %d (offset %d): replaying %s: %w", s.path, line, off, c.Kind, err)
		}
		off += int64(len(b))
	}
}

func parseRecord(b []byte) (deploy.Change, error) {
	var c deploy.Change
	b = bytes.TrimSuffix(b, []byte("\n"))
	sum, body, ok := bytes.Cut(b, []byte(" "))
	if !ok || len(sum) != 8 {
		return c, errors.New("no checksum")
	}
	var want [4]byte
	if _, err := hex.Decode(want[:], sum); err != nil {
		return c, fmt.Errorf("checksum %q: %v", sum, err)
	}
	got := crc32.Checksum(body, castagnoli)
	if uint32(want[0])<<24|uint32(want[1])<<16|uint32(want[2])<<8|uint32(want[3]) != got {
		return c, errors.New("checksum mismatch")
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("decoding change: %v", err)
	}
	return c, nil
}

// write appends one change and syncs; the MemStore applies the change only
// when this returns nil. The MemStore calls it under its own lock.
func (s *Store) write(_ context.Context, c deploy.Change) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("journal %s: encoding %s: %w", s.path, c.Kind, err)
	}
	line := make([]byte, 0, len(body)+10)
	line = fmt.Appendf(line, "%08x ", crc32.Checksum(body, castagnoli))
	line = append(append(line, body...), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("journal %s: %w", s.path, os.ErrClosed)
	}
	if _, err := s.f.Write(line); err != nil {
		return fmt.Errorf("journal %s: appending %s: %w", s.path, c.Kind, err)
	}
	if s.sync {
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("journal %s: fsync after %s: %w", s.path, c.Kind, err)
		}
	}
	if s.afterSync != nil {
		s.afterSync(c)
	}
	return nil
}

// Close closes the journal file.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// Create implements deploy.Store.
func (s *Store) Create(ctx context.Context, d deploy.Deployment, targets []deploy.DeviceTarget, items []deploy.Item) error {
	return s.mem.Create(ctx, d, targets, items)
}

// Deployment implements deploy.Store.
func (s *Store) Deployment(ctx context.Context, id string) (deploy.Deployment, error) {
	return s.mem.Deployment(ctx, id)
}

// List implements deploy.Store.
func (s *Store) List(ctx context.Context) ([]string, error) { return s.mem.List(ctx) }

// Targets implements deploy.Store.
func (s *Store) Targets(ctx context.Context, id string) ([]deploy.DeviceTarget, error) {
	return s.mem.Targets(ctx, id)
}

// Items implements deploy.Store.
func (s *Store) Items(ctx context.Context, id, device string) ([]deploy.Item, error) {
	return s.mem.Items(ctx, id, device)
}

// Apply implements deploy.Store.
func (s *Store) Apply(ctx context.Context, id string, b deploy.Batch) error {
	return s.mem.Apply(ctx, id, b)
}

// Steps implements deploy.Store.
func (s *Store) Steps(ctx context.Context, id, device string) ([]deploy.StepRecord, error) {
	return s.mem.Steps(ctx, id, device)
}

// SetStatus implements deploy.Store.
func (s *Store) SetStatus(ctx context.Context, id string, u deploy.StatusUpdate) error {
	return s.mem.SetStatus(ctx, id, u)
}

// Acquire implements deploy.Store.
func (s *Store) Acquire(ctx context.Context, device, id string) error {
	return s.mem.Acquire(ctx, device, id)
}

// Release implements deploy.Store.
func (s *Store) Release(ctx context.Context, device, id string) error {
	return s.mem.Release(ctx, device, id)
}

// Outbox implements deploy.Store.
func (s *Store) Outbox(ctx context.Context, max int) ([]deploy.Alert, error) {
	return s.mem.Outbox(ctx, max)
}

// Ack implements deploy.Store.
func (s *Store) Ack(ctx context.Context, ids []string) error { return s.mem.Ack(ctx, ids) }

var _ deploy.Store = (*Store)(nil)
