package adapters_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/patchcore"
)

// tiny is the smallest useful adapter: one installed package, no updates.
type tiny struct{}

func (tiny) Info(context.Context, adapters.InfoRequest) (adapters.InfoResponse, error) {
	return adapters.InfoResponse{Name: "tiny", Version: "1.0.0", ProtocolVersion: adapters.ProtocolVersion,
		Platforms: []string{"debian"}, VersionScheme: "deb"}, nil
}

func (tiny) Inventory(ctx context.Context, _ adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := ctx.Err(); err != nil {
		return adapters.InventoryResponse{}, err
	}
	return adapters.InventoryResponse{Inventory: patchcore.Inventory{
		Packages: []patchcore.Package{{Name: "bash", Version: "5.2.15-2+b2", Ecosystem: patchcore.EcosystemDeb}},
	}}, nil
}

func (tiny) ListUpdates(ctx context.Context, _ adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	return adapters.ListUpdatesResponse{}, ctx.Err()
}

func (tiny) Download(context.Context, adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	return adapters.DownloadResponse{}, fmt.Errorf("tiny cannot download: %w", patchcore.ErrUnsupported)
}

func (tiny) Install(_ context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	var r adapters.InstallResponse
	for _, id := range req.IDs {
		r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, Reason: "already installed"})
	}
	return r, nil
}

func (tiny) RebootRequired(context.Context, adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	return adapters.RebootRequiredResponse{}, nil
}

func newTiny(context.Context, adapters.Env) (adapters.Adapter, error) { return tiny{}, nil }

// The whole main of an adapter plugin binary.
func ExampleServe() {
	adapters.Serve(newTiny)
}

// A host runs an adapter and is itself an Adapter. Here the adapter runs in
// process; adapters.Binary and adapters.Builtin run it as a subprocess.
func ExampleNewHost() {
	ctx := context.Background()
	h := adapters.NewHost(adapters.InProcess("tiny", newTiny))
	defer h.Close(ctx)
	inv, err := h.Inventory(ctx, adapters.InventoryRequest{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(inv.Inventory.Packages[0].Name, inv.Inventory.Packages[0].Version)
	// Output: bash 5.2.15-2+b2
}

// ServeTest serves an adapter over real gRPC from this process; Reattach
// connects a host to it. This is how the conformance kit reaches an adapter.
func ExampleServeTest() {
	ctx := context.Background()
	rc, stop, err := adapters.ServeTest(ctx, newTiny)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	h := adapters.NewHost(adapters.Reattach("tiny", rc))
	defer h.Close(ctx)
	_, err = h.Download(ctx, adapters.DownloadRequest{IDs: []string{"bash"}})
	fmt.Println(err)
	fmt.Println("unsupported:", errors.Is(err, patchcore.ErrUnsupported))
	// Output:
	// adapter tiny: Download: tiny cannot download: unsupported
	// unsupported: true
}
