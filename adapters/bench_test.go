package adapters

import (
	"context"
	"strconv"
	"testing"
)

// benchSources are the two ways of running the same fake adapter: as a
// plugin subprocess (the test binary re-executed) and in-process, the baseline.
func benchSources(n int) map[string]Source {
	return map[string]Source{
		"plugin": Builtin("fake"),
		"inprocess": InProcess("fake", func(context.Context, Env) (Adapter, error) {
			return newFake(n, ""), nil
		}),
	}
}

func benchHost(b *testing.B, src Source, n int) *Host {
	b.Helper()
	h := NewHost(src, WithPluginEnv(envTestPackages+"="+strconv.Itoa(n)))
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// BenchmarkStartup measures launching the adapter and its first Info call
// (handshake, AutoMTLS, gRPC dial); stopping it is not timed.
func BenchmarkStartup(b *testing.B) {
	for _, name := range []string{"plugin", "inprocess"} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				h := NewHost(benchSources(0)[name])
				if _, err := h.Info(ctx, InfoRequest{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := h.Close(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkCall measures one small call (RebootRequired) on a running adapter.
func BenchmarkCall(b *testing.B) {
	for _, name := range []string{"plugin", "inprocess"} {
		b.Run(name, func(b *testing.B) {
			h := benchHost(b, benchSources(0)[name], 0)
			ctx := context.Background()
			for b.Loop() {
				if _, err := h.RebootRequired(ctx, RebootRequiredRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInventory5000 measures an inventory of 5,000 packages, streamed
// in chunks across the process boundary.
func BenchmarkInventory5000(b *testing.B) {
	const n = 5000
	for _, name := range []string{"plugin", "inprocess"} {
		b.Run(name, func(b *testing.B) {
			h := benchHost(b, benchSources(n)[name], n)
			ctx := context.Background()
			for b.Loop() {
				r, err := h.Inventory(ctx, InventoryRequest{})
				if err != nil || len(r.Inventory.Packages) != n {
					b.Fatalf("%d packages, %v", len(r.Inventory.Packages), err)
				}
			}
		})
	}
}
