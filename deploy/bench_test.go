package deploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/patchcore/sdk/deploy"
	"github.com/patchcore/sdk/internal/cputime"
	"github.com/patchcore/sdk/patchcore"
)

// cpuTime is the process's CPU time; see internal/cputime.
func cpuTime(*testing.B) time.Duration {
	d, _ := cputime.Process()
	return d
}

func reportCPU(b *testing.B, start time.Duration, ops int) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(ops), "cpu-ns/op")
}

func bigSpec(devices, patches int) deploy.Spec {
	zones := []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC", "America/Los_Angeles", "Europe/London", ""}
	rings := []string{"pilot", "early", "broad"}
	spec := deploy.Spec{ID: "big", Policy: deploy.Policy{
		Windows: deploy.Windows{
			{Name: "weekend", Recurrence: deploy.Recurrence{Frequency: deploy.Weekly, Weekdays: []time.Weekday{time.Saturday, time.Sunday}, At: deploy.TimeOfDay{Hour: 2, Minute: 30}}, Duration: patchcore.Duration(3 * time.Hour)},
			{Name: "patch-tuesday+4", Recurrence: deploy.Recurrence{Frequency: deploy.PatchTuesday, OffsetDays: 4, At: deploy.TimeOfDay{Hour: 22}}, Duration: patchcore.Duration(4 * time.Hour)},
		},
		Rollout: deploy.Rollout{Rings: rings, MaxConcurrency: 5000, ErrorThreshold: deploy.Threshold{Percent: 5}},
	}}
	for p := range patches {
		spec.Patches = append(spec.Patches, fmt.Sprintf("KB50%05d", p))
	}
	spec.Targets = make([]deploy.Target, devices)
	for d := range devices {
		spec.Targets[d] = deploy.Target{Device: fmt.Sprintf("device-%06d", d), Zone: zones[d%len(zones)], Ring: rings[d%len(rings)]}
	}
	return spec
}

// BenchmarkPlan100kx20 plans a deployment of 100,000 devices x 20 patches
// (window computation per device, stage assignment, 2,000,000 items) and
// stores it in a MemStore.
func BenchmarkPlan100kx20(b *testing.B) {
	spec := bigSpec(100_000, 20)
	ctx := context.Background()
	b.ReportAllocs()
	start, n := cpuTime(b), 0
	for b.Loop() {
		n++
		p, err := deploy.Plan(spec, t0)
		if err != nil {
			b.Fatal(err)
		}
		if err := deploy.NewMemStore().CreateOwned(ctx, p.Deployment, p.Targets, p.Items); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, n)
}

// BenchmarkTransitions measures Fire + MemStore.Apply (one transition with
// its alert per call, stale-version check included), cycling items of a
// 10,000-device deployment through Posted -> Downloading -> Downloaded ->
// Installing -> Installed. The outbox is acknowledged every 1,024 alerts.
func BenchmarkTransitions(b *testing.B) {
	ctx := context.Background()
	spec := bigSpec(10_000, 20)
	spec.Policy.Windows = nil
	path := []deploy.Input{
		{Event: deploy.EvDownload}, {Event: deploy.EvDownloaded},
		{Event: deploy.EvInstall, LockHeld: true, WindowOpen: true}, {Event: deploy.EvInstalled},
	}
	var (
		store *deploy.MemStore
		items []deploy.Item
		lim   = deploy.Limits{Retries: 3}
		idx   int
		step  int
		acks  []string
	)
	reset := func() {
		p, err := deploy.Plan(spec, t0)
		if err != nil {
			b.Fatal(err)
		}
		store = deploy.NewMemStore()
		if err := store.Create(ctx, p.Deployment, p.Targets, p.Items); err != nil {
			b.Fatal(err)
		}
		items, idx, step = p.Items, 0, 0
	}
	reset()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	var setup time.Duration
	start := cpuTime(b)
	for b.Loop() {
		in := path[step]
		in.At = t0
		next, a, err := deploy.Fire("big", items[idx], in, lim)
		if err != nil {
			b.Fatal(err)
		}
		if err := store.Apply(ctx, "big", deploy.Batch{Updates: []deploy.Update{{Item: next}}, Alerts: []deploy.Alert{a}}); err != nil {
			b.Fatal(err)
		}
		items[idx] = next
		acks = append(acks, a.ID)
		if len(acks) == 1024 {
			if err := store.Ack(ctx, acks); err != nil {
				b.Fatal(err)
			}
			acks = acks[:0]
		}
		n++
		if idx++; idx == len(items) {
			idx = 0
			if step++; step == len(path) {
				b.StopTimer()
				s := cpuTime(b)
				reset()
				setup += cpuTime(b) - s
				b.StartTimer()
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "transitions/s")
	cpu := cpuTime(b) - start - setup
	b.ReportMetric(float64(n)/cpu.Seconds(), "transitions/cpu-s")
}

// BenchmarkFire is the pure state machine step.
func BenchmarkFire(b *testing.B) {
	it := deploy.Item{Device: "device-000001", Patch: "KB5034441", State: patchcore.DeployDownloaded}
	in := deploy.Input{Event: deploy.EvInstall, At: t0, LockHeld: true, WindowOpen: true}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := deploy.Fire("big", it, in, deploy.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunnerTick drives a whole install cycle through the Runner
// (scan, download, install; 4 transitions per item) for 1,000 devices x 5
// patches with the fake installer and the in-memory store, one device at
// a time.
func BenchmarkRunnerTick(b *testing.B) {
	ctx := context.Background()
	spec := bigSpec(1000, 5)
	spec.Policy = deploy.Policy{}
	transitions := 0
	var elapsed time.Duration
	start := cpuTime(b)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		h := &harness{clock: deploytestClock(t0), store: deploy.NewMemStore(), inst: deploytestExecutor()}
		h.r = deploy.NewRunner(h.store, h.inst, deploy.WithClock(h.clock), deploy.WithParallelism(1))
		if _, err := h.r.Create(ctx, spec); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t := time.Now()
		res, err := h.r.Tick(ctx, "big")
		if err != nil || !res.Done {
			b.Fatalf("tick: %v %+v", err, res.Summary)
		}
		elapsed += time.Since(t)
		transitions += 4 * 1000 * 5
	}
	b.ReportMetric(float64(transitions)/elapsed.Seconds(), "transitions/s")
	_ = start
}
