package journal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/deploy/journal"
	"github.com/patchcore/sdk/patchcore"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fill creates a deployment and moves one item, returning the journal path.
func fill(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal")
	s, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := deploy.Plan(deploy.Spec{ID: "dep", Patches: []string{"P1", "P2"}, Targets: []deploy.Target{{Device: "d1", Zone: "Europe/Berlin"}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	it, a, err := deploy.Fire("dep", p.Items[0], deploy.Input{Event: deploy.EvDownload, At: t0}, deploy.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: it}}, Alerts: []deploy.Alert{a}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(ctx, "d1", "dep"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReopenReplays(t *testing.T) {
	ctx := context.Background()
	path := fill(t)
	s, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	items, err := s.Items(ctx, "dep", "d1")
	if err != nil {
		t.Fatal(err)
	}
	if items[0].State != patchcore.DeployDownloading || items[0].Attempt != 1 || items[1].State != patchcore.DeployPosted {
		t.Fatalf("items after replay: %+v", items)
	}
	d, err := s.Deployment(ctx, "dep")
	if err != nil || d.Policy.Retry.Retries != deploy.DefaultRetries || time.Duration(d.Policy.PurgeAfter) != deploy.DefaultPurgeAfter {
		t.Fatalf("deployment after replay: %+v %v", d, err)
	}
	if err := s.Acquire(ctx, "d1", "other"); !errors.Is(err, patchcore.ErrBusy) {
		t.Fatalf("lock lost in replay: %v", err)
	}
	out, _ := s.Outbox(ctx, 10)
	if len(out) != 1 || out[0].Kind != deploy.AlertDownloadInitiated {
		t.Fatalf("outbox after replay: %+v", out)
	}
	// A stale write is refused and not journalled.
	stale := items[0]
	stale.Version = 1
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: stale}}}); !errors.Is(err, patchcore.ErrIllegalTransition) {
		t.Fatalf("stale apply: %v", err)
	}
	if err := s.Ack(ctx, []string{out[0].ID}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if out, _ := s2.Outbox(ctx, 10); len(out) != 0 {
		t.Fatalf("acknowledged alert came back: %+v", out)
	}
}

func TestTornTailIsCut(t *testing.T) {
	path := fill(t)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`0badc0de {"kind":"apply","id":"dep","bat`) // crash mid-write
	f.Close()
	before, _ := os.Stat(path)
	s, err := journal.Open(path)
	if err != nil {
		t.Fatalf("Open with a torn tail: %v", err)
	}
	if err := s.Release(context.Background(), "d1", "dep"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = journal.Open(path)
	if err != nil {
		t.Fatalf("reopen after appending past the cut: %v", err)
	}
	s.Close()
	after, _ := os.Stat(path)
	if after.Size() >= before.Size()+100 {
		t.Errorf("torn tail not cut: %d -> %d bytes", before.Size(), after.Size())
	}
}

func TestDamagedRecordIsTampered(t *testing.T) {
	path := fill(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[20] ^= 0x01 // inside the first record
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := journal.Open(path); !errors.Is(err, patchcore.ErrTampered) {
		t.Fatalf("Open = %v, want ErrTampered", err)
	}
}
