package journal_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/deploytest"
	"github.com/patchcore/sdk/deploy/journal"
)

func TestJournalConformance(t *testing.T) {
	deploytest.TestStore(t, func(t *testing.T) deploy.Store {
		s, err := journal.Open(filepath.Join(t.TempDir(), "journal"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestJournalConformanceAfterReopen runs the kit against stores that are
// written, closed and reopened after every call, so that every check reads
// replayed state.
func TestJournalConformanceAfterReopen(t *testing.T) {
	deploytest.TestStore(t, func(t *testing.T) deploy.Store {
		return &reopening{t: t, path: filepath.Join(t.TempDir(), "journal")}
	})
}

// reopening opens the journal for every call and closes it afterwards.
type reopening struct {
	t    *testing.T
	path string
}

func (r *reopening) with(f func(s *journal.Store) error) error {
	s, err := journal.Open(r.path)
	if err != nil {
		r.t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	return f(s)
}

func (r *reopening) Create(ctx context.Context, d deploy.Deployment, t []deploy.DeviceTarget, it []deploy.Item) error {
	return r.with(func(s *journal.Store) error { return s.Create(ctx, d, t, it) })
}

func (r *reopening) Deployment(ctx context.Context, id string) (d deploy.Deployment, err error) {
	err = r.with(func(s *journal.Store) error { d, err = s.Deployment(ctx, id); return err })
	return d, err
}

func (r *reopening) List(ctx context.Context) (ids []string, err error) {
	err = r.with(func(s *journal.Store) error { ids, err = s.List(ctx); return err })
	return ids, err
}

func (r *reopening) Targets(ctx context.Context, id string) (ts []deploy.DeviceTarget, err error) {
	err = r.with(func(s *journal.Store) error { ts, err = s.Targets(ctx, id); return err })
	return ts, err
}

func (r *reopening) Items(ctx context.Context, id, dev string) (its []deploy.Item, err error) {
	err = r.with(func(s *journal.Store) error { its, err = s.Items(ctx, id, dev); return err })
	return its, err
}

func (r *reopening) Apply(ctx context.Context, id string, b deploy.Batch) error {
	return r.with(func(s *journal.Store) error { return s.Apply(ctx, id, b) })
}

func (r *reopening) Steps(ctx context.Context, id, dev string) (recs []deploy.StepRecord, err error) {
	err = r.with(func(s *journal.Store) error { recs, err = s.Steps(ctx, id, dev); return err })
	return recs, err
}

func (r *reopening) SetStatus(ctx context.Context, id string, u deploy.StatusUpdate) error {
	return r.with(func(s *journal.Store) error { return s.SetStatus(ctx, id, u) })
}

func (r *reopening) Acquire(ctx context.Context, dev, id string) error {
	return r.with(func(s *journal.Store) error { return s.Acquire(ctx, dev, id) })
}

func (r *reopening) Release(ctx context.Context, dev, id string) error {
	return r.with(func(s *journal.Store) error { return s.Release(ctx, dev, id) })
}

func (r *reopening) Outbox(ctx context.Context, max int) (out []deploy.Alert, err error) {
	err = r.with(func(s *journal.Store) error { out, err = s.Outbox(ctx, max); return err })
	return out, err
}

func (r *reopening) Ack(ctx context.Context, ids []string) error {
	return r.with(func(s *journal.Store) error { return s.Ack(ctx, ids) })
}
