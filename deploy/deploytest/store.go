package deploytest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

// TestStore is a conformance kit for deploy.Store implementations (an
// SQLite or PostgreSQL store in a server): it runs subtests against fresh
// stores from newStore and checks the contract the runner relies on:
// atomic batches, stale-version refusal (of items and step records),
// per-device step records, per-device locks, an outbox emptied only by
// Ack, and the sentinel errors.
func TestStore(t *testing.T, newStore func(t *testing.T) deploy.Store) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	create := func(t *testing.T, s deploy.Store, id string) *deploy.PlannedDeployment {
		t.Helper()
		p, err := deploy.Plan(deploy.Spec{ID: id, Patches: []string{"P1", "P2"},
			Targets: []deploy.Target{{Device: "d1", Ring: "pilot", Zone: "Europe/Berlin"}, {Device: "d2"}}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
			t.Fatalf("Create: %v", err)
		}
		return p
	}
	fire := func(t *testing.T, it deploy.Item, ev deploy.Event) (deploy.Item, deploy.Alert) {
		t.Helper()
		n, a, err := deploy.Fire("dep", it, deploy.Input{Event: ev, At: t0}, deploy.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		return n, a
	}

	t.Run("CreateAndRead", func(t *testing.T) {
		s := newStore(t)
		p := create(t, s, "dep")
		d, err := s.Deployment(ctx, "dep")
		if err != nil || d.ID != "dep" || d.Status != deploy.StatusActive || d.Policy.Retry.Retries != deploy.DefaultRetries || !d.Start.Equal(t0) {
			t.Fatalf("Deployment = %+v, %v", d, err)
		}
		ts, err := s.Targets(ctx, "dep")
		if err != nil || len(ts) != 2 || ts[0] != p.Targets[0] || ts[1] != p.Targets[1] {
			t.Fatalf("Targets = %+v, %v", ts, err)
		}
		all, err := s.Items(ctx, "dep", "")
		if err != nil || len(all) != 4 || all[0].Device != "d1" || all[2].Device != "d2" {
			t.Fatalf("Items = %+v, %v", all, err)
		}
		one, err := s.Items(ctx, "dep", "d2")
		if err != nil || len(one) != 2 || one[1].Patch != "P2" || one[1].State != patchcore.DeployPosted {
			t.Fatalf("Items(d2) = %+v, %v", one, err)
		}
		if ids, err := s.List(ctx); err != nil || len(ids) != 1 || ids[0] != "dep" {
			t.Fatalf("List = %v, %v", ids, err)
		}
		if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("Create of an existing ID = %v, want ErrInvalidInput", err)
		}
		if _, err := s.Deployment(ctx, "nope"); !errors.Is(err, patchcore.ErrNotFound) {
			t.Errorf("unknown deployment = %v, want ErrNotFound", err)
		}
	})

	t.Run("ApplyIsAtomicAndVersioned", func(t *testing.T) {
		s := newStore(t)
		p := create(t, s, "dep")
		n, a := fire(t, p.Items[0], deploy.EvDownload)
		stale := p.Items[1]
		stale.Version = 9
		err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}, {Item: stale}}, Alerts: []deploy.Alert{a}})
		if !errors.Is(err, patchcore.ErrIllegalTransition) {
			t.Fatalf("batch with a stale update = %v, want ErrIllegalTransition", err)
		}
		if items, _ := s.Items(ctx, "dep", "d1"); items[0].Version != 0 {
			t.Fatal("part of a refused batch was stored")
		}
		if out, _ := s.Outbox(ctx, 10); len(out) != 0 {
			t.Fatal("alerts of a refused batch were stored")
		}
		if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}}, Alerts: []deploy.Alert{a}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}}}); !errors.Is(err, patchcore.ErrIllegalTransition) {
			t.Fatalf("the same transition twice = %v, want ErrIllegalTransition", err)
		}
		items, _ := s.Items(ctx, "dep", "d1")
		if !sameItem(items[0], n) {
			t.Fatalf("stored %+v, want %+v", items[0], n)
		}
	})

	t.Run("StepRecords", func(t *testing.T) {
		s := newStore(t)
		p := create(t, s, "dep")
		if recs, err := s.Steps(ctx, "dep", ""); err != nil || len(recs) != 0 {
			t.Fatalf("Steps of a new deployment = %+v, %v, want none", recs, err)
		}
		if recs, err := s.Steps(ctx, "dep", "d2"); err != nil || len(recs) != 1 || recs[0] != (deploy.StepRecord{Device: "d2"}) {
			t.Fatalf("Steps(d2) without a record = %+v, %v, want a zero record for d2", recs, err)
		}
		if _, err := s.Steps(ctx, "dep", "nope"); !errors.Is(err, patchcore.ErrNotFound) {
			t.Errorf("Steps of an unknown device = %v, want ErrNotFound", err)
		}
		if _, err := s.Steps(ctx, "nope", ""); !errors.Is(err, patchcore.ErrNotFound) {
			t.Errorf("Steps of an unknown deployment = %v, want ErrNotFound", err)
		}
		due := deploy.StepRecord{Device: "d2", Version: 1, PostDue: true}
		a := deploy.Alert{ID: "dep/d2/pre/drain/1", Deployment: "dep", Device: "d2", Kind: deploy.AlertStepFailed, Level: deploy.LevelWarning, At: t0}
		n, na := fire(t, p.Items[0], deploy.EvDownload)
		// A stale record refuses the whole batch, item transition included.
		stale := deploy.StepRecord{Device: "d1", Version: 2, PreDone: 1}
		if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}}, Steps: []deploy.StepRecord{due, stale}, Alerts: []deploy.Alert{na}}); !errors.Is(err, patchcore.ErrIllegalTransition) {
			t.Fatalf("batch with a stale step record = %v, want ErrIllegalTransition", err)
		}
		if err := s.Apply(ctx, "dep", deploy.Batch{Steps: []deploy.StepRecord{{Device: "nope", Version: 1}}}); !errors.Is(err, patchcore.ErrNotFound) {
			t.Fatalf("step record of a device that is not a target = %v, want ErrNotFound", err)
		}
		if recs, _ := s.Steps(ctx, "dep", ""); len(recs) != 0 {
			t.Fatalf("part of a refused batch was stored: %+v", recs)
		}
		if items, _ := s.Items(ctx, "dep", "d1"); items[0].Version != 0 {
			t.Fatal("an item of a refused batch was stored")
		}
		if out, _ := s.Outbox(ctx, 10); len(out) != 0 {
			t.Fatalf("alerts of a refused batch were stored: %+v", out)
		}
		// Records, transitions and alerts are stored together.
		pre := deploy.StepRecord{Device: "d1", Version: 1, PreDone: 1}
		if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}}, Steps: []deploy.StepRecord{due, pre}, Alerts: []deploy.Alert{na, a}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(ctx, "dep", deploy.Batch{Steps: []deploy.StepRecord{due}}); !errors.Is(err, patchcore.ErrIllegalTransition) {
			t.Fatalf("the same record version twice = %v, want ErrIllegalTransition", err)
		}
		done := deploy.StepRecord{Device: "d2", Version: 2, PostDue: true, PostDone: 2, PreDone: 3}
		if err := s.Apply(ctx, "dep", deploy.Batch{Steps: []deploy.StepRecord{done}}); err != nil {
			t.Fatal(err)
		}
		recs, err := s.Steps(ctx, "dep", "")
		if err != nil || len(recs) != 2 || recs[0] != pre || recs[1] != done {
			t.Fatalf("Steps = %+v, %v, want [%+v %+v] in target order", recs, err, pre, done)
		}
		if recs, err := s.Steps(ctx, "dep", "d2"); err != nil || len(recs) != 1 || recs[0] != done {
			t.Fatalf("Steps(d2) = %+v, %v, want %+v", recs, err, done)
		}
		if items, _ := s.Items(ctx, "dep", "d1"); !sameItem(items[0], n) {
			t.Fatalf("item stored with the records = %+v, want %+v", items[0], n)
		}
		if out, _ := s.Outbox(ctx, 10); len(out) != 2 || out[1].ID != a.ID || out[1].Kind != deploy.AlertStepFailed {
			t.Fatalf("outbox after the batch = %+v", out)
		}
		if done.PostPending(2) || !done.PostPending(3) || (deploy.StepRecord{PostDone: 0}).PostPending(1) {
			t.Error("PostPending disagrees with PostDue and PostDone")
		}
	})

	t.Run("OutboxUntilAck", func(t *testing.T) {
		s := newStore(t)
		p := create(t, s, "dep")
		var alerts []deploy.Alert
		it := p.Items[0]
		for _, ev := range []deploy.Event{deploy.EvDownload, deploy.EvDownloaded, deploy.EvAbort} {
			var a deploy.Alert
			it, a = fire(t, it, ev)
			if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: it}}, Alerts: []deploy.Alert{a}}); err != nil {
				t.Fatal(err)
			}
			alerts = append(alerts, a)
		}
		out, err := s.Outbox(ctx, 2)
		if err != nil || len(out) != 2 || out[0].ID != alerts[0].ID || out[1].ID != alerts[1].ID {
			t.Fatalf("Outbox(2) = %+v, %v", out, err)
		}
		if err := s.Ack(ctx, []string{alerts[1].ID, "unknown"}); err != nil {
			t.Fatal(err)
		}
		out, _ = s.Outbox(ctx, 10)
		if len(out) != 2 || out[0].ID != alerts[0].ID || out[1].ID != alerts[2].ID {
			t.Fatalf("after Ack: %+v", out)
		}
		if out[1].Kind != deploy.AlertAborted || out[1].From != patchcore.DeployDownloaded || !out[1].At.Equal(t0) {
			t.Errorf("alert not stored faithfully: %+v", out[1])
		}
	})

	t.Run("DeviceLocks", func(t *testing.T) {
		s := newStore(t)
		if err := s.Acquire(ctx, "d1", "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.Acquire(ctx, "d1", "a"); err != nil {
			t.Fatalf("re-acquire by the holder: %v", err)
		}
		if err := s.Acquire(ctx, "d1", "b"); !errors.Is(err, patchcore.ErrBusy) {
			t.Fatalf("Acquire by another = %v, want ErrBusy", err)
		}
		if err := s.Acquire(ctx, "d2", "b"); err != nil {
			t.Fatalf("another device: %v", err)
		}
		if err := s.Release(ctx, "d1", "b"); err != nil {
			t.Fatal(err)
		}
		if err := s.Acquire(ctx, "d1", "b"); !errors.Is(err, patchcore.ErrBusy) {
			t.Fatal("a non-holder released the lock")
		}
		if err := s.Release(ctx, "d1", "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.Acquire(ctx, "d1", "b"); err != nil {
			t.Fatalf("after release: %v", err)
		}
	})

	t.Run("Status", func(t *testing.T) {
		s := newStore(t)
		create(t, s, "dep")
		a := deploy.Alert{ID: "dep/halt/0", Deployment: "dep", Kind: deploy.AlertRolloutHalted, Level: deploy.LevelCritical, At: t0}
		u := deploy.StatusUpdate{Status: deploy.StatusHalted, Reason: "too many failures", HaltedStage: 1, AcceptedStages: 1, Alert: a}
		if err := s.SetStatus(ctx, "dep", u); err != nil {
			t.Fatal(err)
		}
		d, _ := s.Deployment(ctx, "dep")
		if d.Status != deploy.StatusHalted || d.StatusReason != u.Reason || d.HaltedStage != 1 || d.AcceptedStages != 1 {
			t.Fatalf("after SetStatus: %+v", d)
		}
		if out, _ := s.Outbox(ctx, 10); len(out) != 1 || out[0].ID != a.ID {
			t.Fatalf("status alert: %+v", out)
		}
		if err := s.SetStatus(ctx, "nope", u); !errors.Is(err, patchcore.ErrNotFound) {
			t.Errorf("unknown deployment = %v", err)
		}
	})

	t.Run("ManyDeployments", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			create(t, s, fmt.Sprintf("dep%d", i))
		}
		ids, _ := s.List(ctx)
		if fmt.Sprint(ids) != "[dep0 dep1 dep2 dep3 dep4]" {
			t.Fatalf("List = %v, want creation order", ids)
		}
	})
}

// sameItem compares items, times by instant (a store may return another
// *time.Location for the same instant).
func sameItem(a, b deploy.Item) bool {
	if !a.Updated.Equal(b.Updated) || !a.NotBefore.Equal(b.NotBefore) {
		return false
	}
	a.Updated, a.NotBefore, b.Updated, b.NotBefore = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}
