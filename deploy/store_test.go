package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/patchcore"
)

func planned(t *testing.T, id string, devs ...string) *deploy.PlannedDeployment {
	t.Helper()
	p, err := deploy.Plan(deploy.Spec{ID: id, Patches: []string{"P1", "P2"}, Targets: targets(devs...)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMemStoreCreate(t *testing.T) {
	ctx := context.Background()
	s := deploy.NewMemStore()
	p := planned(t, "dep", "d1", "d2")
	if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		d       deploy.Deployment
		targets []deploy.DeviceTarget
		items   []deploy.Item
		want    error
	}{
		{"existing ID", p.Deployment, p.Targets, p.Items, patchcore.ErrInvalidInput},
		{"device targeted twice", deploy.Deployment{ID: "x"}, []deploy.DeviceTarget{{Device: "a"}, {Device: "a"}}, nil, patchcore.ErrInvalidInput},
		{"item of no target", deploy.Deployment{ID: "x"}, []deploy.DeviceTarget{{Device: "a"}}, []deploy.Item{{Device: "b", Patch: "P"}}, patchcore.ErrInvalidInput},
		{"items not grouped", deploy.Deployment{ID: "x"}, []deploy.DeviceTarget{{Device: "a"}, {Device: "b"}},
			[]deploy.Item{{Device: "a", Patch: "1"}, {Device: "b", Patch: "1"}, {Device: "a", Patch: "2"}}, patchcore.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Create(ctx, tc.d, tc.targets, tc.items); !errors.Is(err, tc.want) {
				t.Fatalf("Create = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.Deployment(ctx, "nope"); !errors.Is(err, patchcore.ErrNotFound) {
		t.Errorf("unknown deployment: %v", err)
	}
	if _, err := s.Items(ctx, "dep", "nope"); !errors.Is(err, patchcore.ErrNotFound) {
		t.Errorf("unknown device: %v", err)
	}
	if ids, _ := s.List(ctx); len(ids) != 1 || ids[0] != "dep" {
		t.Errorf("List = %v", ids)
	}
}

func TestMemStoreApplyIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := deploy.NewMemStore()
	p := planned(t, "dep", "d1")
	if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	a1, al1, _ := deploy.Fire("dep", p.Items[0], deploy.Input{Event: deploy.EvDownload, At: t0}, lim)
	stale := p.Items[1]
	stale.Version = 5
	err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: a1}, {Item: stale}}, Alerts: []deploy.Alert{al1}})
	if !errors.Is(err, patchcore.ErrIllegalTransition) {
		t.Fatalf("stale batch: %v", err)
	}
	items, _ := s.Items(ctx, "dep", "d1")
	if items[0].State != patchcore.DeployPosted {
		t.Fatalf("half a batch stored: %+v", items[0])
	}
	if out, _ := s.Outbox(ctx, 10); len(out) != 0 {
		t.Fatalf("alerts of a refused batch stored: %+v", out)
	}
	ghost := a1
	ghost.Patch = "P9"
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: ghost}}}); !errors.Is(err, patchcore.ErrNotFound) {
		t.Fatalf("unknown item: %v", err)
	}
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: a1}}, Alerts: []deploy.Alert{al1}}); err != nil {
		t.Fatal(err)
	}
	// The same transition twice is stale the second time.
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: a1}}}); !errors.Is(err, patchcore.ErrIllegalTransition) {
		t.Fatalf("replayed transition: %v", err)
	}
}

func TestMemStoreWriteAheadFailure(t *testing.T) {
	ctx := context.Background()
	fail := errors.New("disk full")
	var logged []deploy.ChangeKind
	s := deploy.NewMemStore(deploy.WithWriteAhead(func(_ context.Context, c deploy.Change) error {
		if c.Kind == deploy.ChangeApply {
			return fail
		}
		logged = append(logged, c.Kind)
		return nil
	}))
	p := planned(t, "dep", "d1")
	if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	n, a, _ := deploy.Fire("dep", p.Items[0], deploy.Input{Event: deploy.EvDownload, At: t0}, lim)
	if err := s.Apply(ctx, "dep", deploy.Batch{Updates: []deploy.Update{{Item: n}}, Alerts: []deploy.Alert{a}}); !errors.Is(err, fail) {
		t.Fatalf("Apply = %v, want the log error", err)
	}
	if items, _ := s.Items(ctx, "dep", "d1"); items[0].Version != 0 {
		t.Fatal("change applied although logging failed")
	}
	if len(logged) != 1 || logged[0] != deploy.ChangeCreate {
		t.Fatalf("logged %v", logged)
	}
}

func TestMemStoreOutboxAndLocks(t *testing.T) {
	ctx := context.Background()
	s := deploy.NewMemStore()
	p := planned(t, "dep", "d1")
	if err := s.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
		t.Fatal(err)
	}
	var alerts []deploy.Alert
	for i := range 10000 {
		alerts = append(alerts, deploy.Alert{ID: fmt.Sprintf("a%05d", i), Deployment: "dep", Kind: deploy.AlertScanInitiated})
	}
	if err := s.Apply(ctx, "dep", deploy.Batch{Alerts: alerts}); err != nil {
		t.Fatal(err)
	}
	// Acknowledge all but every 1000th, in two rounds, then check order.
	var ack []string
	for i, a := range alerts {
		if i%1000 != 0 {
			ack = append(ack, a.ID)
		}
	}
	if err := s.Ack(ctx, ack[:5000]); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, append(ack[5000:], "unknown")); err != nil {
		t.Fatal(err)
	}
	out, _ := s.Outbox(ctx, 100)
	if len(out) != 10 || out[0].ID != "a00000" || out[9].ID != "a09000" {
		t.Fatalf("outbox = %d alerts %v...", len(out), out)
	}
	if out, _ := s.Outbox(ctx, 3); len(out) != 3 {
		t.Fatalf("max not honoured: %d", len(out))
	}

	if err := s.Acquire(ctx, "d1", "dep"); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(ctx, "d1", "dep"); err != nil {
		t.Fatalf("re-acquire by the holder: %v", err)
	}
	if err := s.Acquire(ctx, "d1", "other"); !errors.Is(err, patchcore.ErrBusy) {
		t.Fatalf("Acquire by another = %v, want ErrBusy", err)
	}
	if err := s.Release(ctx, "d1", "other"); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(ctx, "d1", "other"); !errors.Is(err, patchcore.ErrBusy) {
		t.Fatal("a non-holder released the lock")
	}
	if err := s.Release(ctx, "d1", "dep"); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(ctx, "d1", "other"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestDeliverAcksOnlyAfterPublish(t *testing.T) {
	h := newHarness(t, nil)
	h.create(deploy.Spec{ID: "dep", Patches: []string{"P1"}, Targets: targets("d1")})
	h.drive("dep", 5)
	before := len(h.alerts())
	if _, err := h.r.Deliver(context.Background(), sinkFunc(func([]deploy.Alert) error { return errors.New("broker down") }), 100); err == nil {
		t.Fatal("Deliver ignored the sink's error")
	}
	if got := len(h.alerts()); got != before {
		t.Fatalf("alerts acknowledged although publishing failed: %d -> %d", before, got)
	}
	var got []deploy.Alert
	n, err := h.r.Deliver(context.Background(), sinkFunc(func(a []deploy.Alert) error { got = append(got, a...); return nil }), 100)
	if err != nil || n != before || len(got) != before || len(h.alerts()) != 0 {
		t.Fatalf("Deliver = %d, %v; got %d, left %d", n, err, len(got), len(h.alerts()))
	}
}

type sinkFunc func([]deploy.Alert) error

func (f sinkFunc) Publish(_ context.Context, a []deploy.Alert) error { return f(a) }

func TestPolicyValidate(t *testing.T) {
	bad := []deploy.Policy{
		{Schedule: deploy.Schedule{Kind: deploy.Recurring}},
		{Schedule: deploy.Schedule{Kind: "weekly"}},
		{Reboot: deploy.RebootPolicy{Option: "sometimes"}},
		{Reboot: deploy.RebootPolicy{Timing: "later"}},
		{Reboot: deploy.RebootPolicy{Timing: deploy.RebootTimingScheduled, At: deploy.TimeOfDay{Hour: 25}}},
		{Reboot: deploy.RebootPolicy{Zone: "Atlantis/Capital"}},
		{Retry: deploy.RetryPolicy{Retries: -1}},
		{Deferral: deploy.Deferral{MaxCount: -2}},
		{PurgeAfter: -1},
		{Rollout: deploy.Rollout{ErrorThreshold: deploy.Threshold{Percent: 120}}},
		{Rollout: deploy.Rollout{Waves: []float64{0}}},
		{PreSteps: []deploy.Step{{}}},
		{Windows: deploy.Windows{daily(30, 0, "UTC", 1)}},
	}
	for i, p := range bad {
		if err := p.Validate(); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("%d: Validate(%+v) = %v, want ErrInvalidInput", i, p, err)
		}
		if _, err := deploy.Plan(deploy.Spec{ID: "x", Policy: p}, t0); !errors.Is(err, patchcore.ErrInvalidInput) {
			t.Errorf("%d: Plan accepted an invalid policy: %v", i, err)
		}
	}
	d := deploy.Policy{}.WithDefaults()
	if d.Retry.Retries != 3 || d.PurgeAfter != 72*60*60*1e9 || d.Reboot.Option != deploy.RebootOptionIfRequired || d.Reboot.MaxReboots != 3 {
		t.Errorf("defaults = %+v", d)
	}
	if r := (deploy.Policy{Retry: deploy.RetryPolicy{Disabled: true}}).WithDefaults().Retry.Retries; r != 0 {
		t.Errorf("disabled retries = %d", r)
	}
	rp := d.Retry
	if rp.Delay(1) != time.Duration(rp.Backoff) || rp.Delay(2) != 2*time.Duration(rp.Backoff) || rp.Delay(20) != time.Duration(rp.MaxBackoff) {
		t.Errorf("backoff %s %s %s", rp.Delay(1), rp.Delay(2), rp.Delay(20))
	}
	if _, err := deploy.Plan(deploy.Spec{}, t0); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("empty ID: %v", err)
	}
	if _, err := deploy.Plan(deploy.Spec{ID: "x", Targets: []deploy.Target{{}}}, t0); !errors.Is(err, patchcore.ErrInvalidInput) {
		t.Errorf("empty device: %v", err)
	}
}

func TestThreshold(t *testing.T) {
	tests := []struct {
		th            deploy.Threshold
		failed, total int
		want          bool
	}{
		{deploy.Threshold{}, 100, 100, false},
		{deploy.Threshold{Count: 2}, 2, 10, false},
		{deploy.Threshold{Count: 2}, 3, 10, true},
		{deploy.Threshold{Percent: 25}, 1, 4, false},
		{deploy.Threshold{Percent: 25}, 2, 4, true},
		{deploy.Threshold{Percent: 10}, 1, 0, false},
	}
	for _, tc := range tests {
		if got := tc.th.Exceeded(tc.failed, tc.total); got != tc.want {
			t.Errorf("%+v.Exceeded(%d, %d) = %v", tc.th, tc.failed, tc.total, got)
		}
	}
}

// TestPolicyDurationsJSON: a policy's durations are written as Go
// durations ("72h0m0s"); a deployment stored when they were written as
// nanoseconds (a journal of an earlier version) still reads the same.
func TestPolicyDurationsJSON(t *testing.T) {
	p := deploy.Policy{
		Windows:    deploy.Windows{{Name: "night", Recurrence: deploy.Recurrence{Frequency: deploy.Daily, At: deploy.TimeOfDay{Hour: 22}}, Duration: patchcore.Duration(8 * time.Hour)}},
		Reboot:     deploy.RebootPolicy{Grace: patchcore.Duration(10 * time.Minute)},
		Deferral:   deploy.Deferral{Within: patchcore.Duration(48 * time.Hour), RetryAfter: patchcore.Duration(time.Hour)},
		Retry:      deploy.RetryPolicy{Backoff: patchcore.Duration(5 * time.Minute), MaxBackoff: patchcore.Duration(time.Hour)},
		PurgeAfter: patchcore.Duration(72 * time.Hour), PollInterval: patchcore.Duration(time.Minute),
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"duration":"8h0m0s"`, `"grace":"10m0s"`, `"within":"48h0m0s"`, `"retry_after":"1h0m0s"`,
		`"backoff":"5m0s"`, `"max_backoff":"1h0m0s"`, `"purge_after":"72h0m0s"`, `"poll_interval":"1m0s"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("policy JSON %s lacks %s", b, want)
		}
	}
	old := `{"windows":[{"name":"night","recurrence":{"frequency":"daily","at":{"hour":22,"minute":0}},"duration":28800000000000}],` +
		`"reboot":{"option":"","timing":"","grace":600000000000},"deferral":{"within":172800000000000,"retry_after":3600000000000},` +
		`"retry":{"backoff":300000000000,"max_backoff":3600000000000},"purge_after":259200000000000,"poll_interval":60000000000}`
	for _, in := range []string{old, string(b)} {
		var got deploy.Policy
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", in, err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("Unmarshal(%s) = %+v, want %+v", in, got, p)
		}
	}
	var bad deploy.Policy
	if err := json.Unmarshal([]byte(`{"purge_after":"three days"}`), &bad); !errors.Is(err, patchcore.ErrInvalidInput) || !strings.Contains(err.Error(), "three days") {
		t.Errorf("bad duration: %v, want ErrInvalidInput naming the value", err)
	}
}
