package adapters

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"

	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
	"github.com/patchcore/sdk/patchcore"
)

// chunkSize bounds the packages or updates in one streamed message.
const chunkSize = 2048

// server serves an Adapter over protocol 1 and keeps count of the mutating
// calls (downloads, installs, uninstalls) running, so Drain can wait for them.
type server struct {
	adapterv1.UnimplementedAdapterServer
	impl     Adapter
	protocol int
	logger   hclog.Logger

	// onCall runs at the start of every call (Serve uses it to give the
	// adapter the real stderr back once go-plugin has redirected it).
	onCall func()

	mu       sync.Mutex
	running  int
	draining bool
	idle     chan struct{} // closed when running drops to 0
}

func newServer(impl Adapter, protocol int, logger hclog.Logger) *server {
	idle := make(chan struct{})
	close(idle)
	return &server{impl: impl, protocol: protocol, logger: logger, idle: idle}
}

// begin registers a mutating call; it fails once a drain has begun.
func (s *server) begin(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return fmt.Errorf("%s refused: the adapter is shutting down: %w", method, patchcore.ErrBusy)
	}
	if s.running == 0 {
		s.idle = make(chan struct{})
	}
	s.running++
	return nil
}

func (s *server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running--
	if s.running == 0 {
		close(s.idle)
	}
}

// drain refuses new mutating calls and waits for the running ones. It
// returns how many were running when it began.
func (s *server) drain(ctx context.Context) (int, error) {
	s.mu.Lock()
	s.draining = true
	running, idle := s.running, s.idle
	s.mu.Unlock()
	if running > 0 {
		s.logger.Info("draining: waiting for running package-manager operations", "running", running)
	}
	select {
	case <-idle:
		return running, nil
	case <-ctx.Done():
		return running, fmt.Errorf("draining %d running operations: %w", running, ctx.Err())
	}
}

func (s *server) Info(ctx context.Context, _ *adapterv1.InfoRequest) (*adapterv1.InfoResponse, error) {
	s.called()
	r, err := s.impl.Info(ctx, InfoRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	r.ProtocolVersion = s.protocol
	return infoToProto(r), nil
}

func (s *server) Inventory(req *adapterv1.InventoryRequest, stream adapterv1.Adapter_InventoryServer) error {
	s.called()
	r, err := s.impl.Inventory(stream.Context(), InventoryRequest{Target: targetFromProto(req.GetTarget())})
	if err != nil {
		return toStatus(err)
	}
	pkgs := r.Inventory.Packages
	first := &adapterv1.InventoryChunk{Header: adapterv1.FromInventoryHeader(r.Inventory)}
	n := min(len(pkgs), chunkSize)
	first.Packages = adapterv1.FromPackages(pkgs[:n])
	if err := stream.Send(first); err != nil {
		return err
	}
	for n < len(pkgs) {
		end := min(len(pkgs), n+chunkSize)
		if err := stream.Send(&adapterv1.InventoryChunk{Packages: adapterv1.FromPackages(pkgs[n:end])}); err != nil {
			return err
		}
		n = end
	}
	return nil
}

func (s *server) ListUpdates(req *adapterv1.ListUpdatesRequest, stream adapterv1.Adapter_ListUpdatesServer) error {
	s.called()
	r, err := s.impl.ListUpdates(stream.Context(), ListUpdatesRequest{
		Target: targetFromProto(req.GetTarget()), Refresh: req.GetRefresh(), OfflineCatalog: req.GetOfflineCatalog(),
	})
	if err != nil {
		return toStatus(err)
	}
	us := r.Updates
	for n := 0; n < len(us); {
		end := min(len(us), n+chunkSize)
		if err := stream.Send(&adapterv1.ListUpdatesChunk{Updates: updatesToProto(us[n:end])}); err != nil {
			return err
		}
		n = end
	}
	return nil
}

func (s *server) Download(ctx context.Context, req *adapterv1.DownloadRequest) (*adapterv1.DownloadResponse, error) {
	s.called()
	if err := s.begin("Download"); err != nil {
		return nil, toStatus(err)
	}
	defer s.end()
	r, err := s.impl.Download(ctx, DownloadRequest{Target: targetFromProto(req.GetTarget()), IDs: req.GetIds()})
	if err != nil {
		return nil, toStatus(err)
	}
	return &adapterv1.DownloadResponse{Items: itemsToProto(r.Items)}, nil
}

func (s *server) Install(req *adapterv1.InstallRequest, stream adapterv1.Adapter_InstallServer) error {
	s.called()
	if err := s.begin("Install"); err != nil {
		return toStatus(err)
	}
	defer s.end()
	ctx, in := stream.Context(), installFromProto(req)
	var (
		r   InstallResponse
		err error
	)
	if pi, ok := s.impl.(ProgressInstaller); ok && req.GetProgress() {
		var sendMu sync.Mutex
		r, err = pi.InstallWithProgress(ctx, in, func(p Progress) {
			sendMu.Lock()
			defer sendMu.Unlock()
			// A host that went away does not stop the install.
			_ = stream.Send(&adapterv1.InstallEvent{Event: &adapterv1.InstallEvent_Progress{Progress: progressToProto(p)}})
		})
	} else {
		r, err = s.impl.Install(ctx, in)
	}
	if err != nil {
		return toStatus(err)
	}
	return stream.Send(&adapterv1.InstallEvent{Event: &adapterv1.InstallEvent_Result{Result: &adapterv1.InstallResponse{
		Items: itemsToProto(r.Items), RebootRequired: r.RebootRequired,
	}}})
}

func (s *server) RebootRequired(ctx context.Context, req *adapterv1.RebootRequiredRequest) (*adapterv1.RebootRequiredResponse, error) {
	s.called()
	r, err := s.impl.RebootRequired(ctx, RebootRequiredRequest{Target: targetFromProto(req.GetTarget())})
	if err != nil {
		return nil, toStatus(err)
	}
	return &adapterv1.RebootRequiredResponse{Required: r.Required, Reasons: r.Reasons}, nil
}

func (s *server) Uninstall(ctx context.Context, req *adapterv1.UninstallRequest) (*adapterv1.UninstallResponse, error) {
	s.called()
	u, ok := s.impl.(Uninstaller)
	if !ok {
		return nil, toStatus(fmt.Errorf("adapter does not implement Uninstall: %w", patchcore.ErrUnsupported))
	}
	if err := s.begin("Uninstall"); err != nil {
		return nil, toStatus(err)
	}
	defer s.end()
	r, err := u.Uninstall(ctx, UninstallRequest{
		Target: targetFromProto(req.GetTarget()), IDs: req.GetIds(), OperationID: req.GetOperationId(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &adapterv1.UninstallResponse{Items: itemsToProto(r.Items), RebootRequired: r.RebootRequired}, nil
}

func (s *server) Drain(ctx context.Context, _ *adapterv1.DrainRequest) (*adapterv1.DrainResponse, error) {
	s.called()
	running, err := s.drain(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &adapterv1.DrainResponse{Running: int32(running)}, nil
}

func (s *server) called() {
	if s.onCall != nil {
		s.onCall()
	}
}
