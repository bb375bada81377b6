package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"

	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
	"github.com/patchcore/sdk/patchcore"
)

// rpcClient is the host side of protocol 1: an Adapter whose methods are
// gRPC calls. Errors the adapter returned come back as *RemoteError; other
// errors (transport failures) are returned as gRPC gives them, for the Host
// to diagnose.
type rpcClient struct {
	c adapterv1.AdapterClient
}

// remote converts a gRPC error; ok is false for transport-level failures.
func remote(err error) error {
	if err == nil {
		return nil
	}
	if re, ok := fromStatus(err); ok {
		return re
	}
	return &transportError{err: err}
}

// transportError marks a failure that did not come from the adapter's code.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func (c *rpcClient) Info(ctx context.Context, _ InfoRequest) (InfoResponse, error) {
	m, err := c.c.Info(ctx, &adapterv1.InfoRequest{})
	if err != nil {
		return InfoResponse{}, remote(err)
	}
	return infoFromProto(m), nil
}

func (c *rpcClient) Inventory(ctx context.Context, req InventoryRequest) (InventoryResponse, error) {
	stream, err := c.c.Inventory(ctx, &adapterv1.InventoryRequest{Target: targetToProto(req.Target)})
	if err != nil {
		return InventoryResponse{}, remote(err)
	}
	var inv patchcore.Inventory
	for first := true; ; first = false {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if first {
				return InventoryResponse{}, &transportError{err: fmt.Errorf("inventory stream ended before its header")}
			}
			return InventoryResponse{Inventory: inv}, nil
		}
		if err != nil {
			return InventoryResponse{}, remote(err)
		}
		if first {
			inv = adapterv1.ToInventoryHeader(chunk.GetHeader())
			if n := chunk.GetHeader().GetPackageCount(); n > 0 && n < 1<<24 {
				inv.Packages = make([]patchcore.Package, 0, n)
			}
		}
		inv.Packages = adapterv1.AppendPackages(inv.Packages, chunk.GetPackages())
	}
}

func (c *rpcClient) ListUpdates(ctx context.Context, req ListUpdatesRequest) (ListUpdatesResponse, error) {
	stream, err := c.c.ListUpdates(ctx, &adapterv1.ListUpdatesRequest{
		Target: targetToProto(req.Target), Refresh: req.Refresh, OfflineCatalog: req.OfflineCatalog,
	})
	if err != nil {
		return ListUpdatesResponse{}, remote(err)
	}
	var r ListUpdatesResponse
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return r, nil
		}
		if err != nil {
			return ListUpdatesResponse{}, remote(err)
		}
		r.Updates = appendUpdates(r.Updates, chunk.GetUpdates())
	}
}

func (c *rpcClient) Download(ctx context.Context, req DownloadRequest) (DownloadResponse, error) {
	m, err := c.c.Download(ctx, &adapterv1.DownloadRequest{Target: targetToProto(req.Target), Ids: req.IDs})
	if err != nil {
		return DownloadResponse{}, remote(err)
	}
	return DownloadResponse{Items: itemsFromProto(m.GetItems())}, nil
}

func (c *rpcClient) Install(ctx context.Context, req InstallRequest) (InstallResponse, error) {
	return c.install(ctx, req, nil)
}

func (c *rpcClient) InstallWithProgress(ctx context.Context, req InstallRequest, report func(Progress)) (InstallResponse, error) {
	return c.install(ctx, req, report)
}

func (c *rpcClient) install(ctx context.Context, req InstallRequest, report func(Progress)) (InstallResponse, error) {
	stream, err := c.c.Install(ctx, installToProto(req, report != nil))
	if err != nil {
		return InstallResponse{}, remote(err)
	}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return InstallResponse{}, &transportError{err: fmt.Errorf("install stream ended without a result")}
		}
		if err != nil {
			return InstallResponse{}, remote(err)
		}
		if p := ev.GetProgress(); p != nil && report != nil {
			report(progressFromProto(p))
		}
		if r := ev.GetResult(); r != nil {
			return InstallResponse{Items: itemsFromProto(r.GetItems()), RebootRequired: r.GetRebootRequired()}, nil
		}
	}
}

func (c *rpcClient) RebootRequired(ctx context.Context, req RebootRequiredRequest) (RebootRequiredResponse, error) {
	m, err := c.c.RebootRequired(ctx, &adapterv1.RebootRequiredRequest{Target: targetToProto(req.Target)})
	if err != nil {
		return RebootRequiredResponse{}, remote(err)
	}
	return RebootRequiredResponse{Required: m.GetRequired(), Reasons: m.GetReasons()}, nil
}

func (c *rpcClient) Uninstall(ctx context.Context, req UninstallRequest) (UninstallResponse, error) {
	m, err := c.c.Uninstall(ctx, &adapterv1.UninstallRequest{
		Target: targetToProto(req.Target), Ids: req.IDs, OperationId: req.OperationID,
	})
	if err != nil {
		return UninstallResponse{}, remote(err)
	}
	return UninstallResponse{Items: itemsFromProto(m.GetItems()), RebootRequired: m.GetRebootRequired()}, nil
}

// drain asks the plugin to finish its running mutating calls.
func (c *rpcClient) drain(ctx context.Context) (int, error) {
	m, err := c.c.Drain(ctx, &adapterv1.DrainRequest{})
	if err != nil {
		return 0, remote(err)
	}
	return int(m.GetRunning()), nil
}
