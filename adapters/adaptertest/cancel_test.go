package adaptertest

import (
	"context"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/command"
	"github.com/patchcore/sdk/adapters/commandtest"
	"github.com/patchcore/sdk/adapters/internal/pm"
	"github.com/patchcore/sdk/patchcore"
)

// upgrader installs by running "pkg upgrade ID" through its runner, with
// the caller's context (detach false) or as a transaction.
type upgrader struct {
	run    command.Runner
	detach bool
}

func (u *upgrader) Info(context.Context, adapters.InfoRequest) (adapters.InfoResponse, error) {
	return adapters.InfoResponse{Name: "upgrader", Version: "0.1.0", ProtocolVersion: adapters.ProtocolVersion,
		Platforms: []string{"debian"}, VersionScheme: "deb"}, nil
}

func (u *upgrader) list(ctx context.Context) error {
	_, err := u.run.Run(ctx, command.Command{Name: "pkg", Args: []string{"list"}})
	return err
}

func (u *upgrader) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if req.Root != "" {
		return adapters.InventoryResponse{}, patchcore.ErrNotFound
	}
	return adapters.InventoryResponse{}, u.list(ctx)
}

func (u *upgrader) ListUpdates(ctx context.Context, _ adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	return adapters.ListUpdatesResponse{}, u.list(ctx)
}

func (u *upgrader) Download(context.Context, adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	return adapters.DownloadResponse{}, patchcore.ErrUnsupported
}

func (u *upgrader) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := u.list(ctx); err != nil {
		return adapters.InstallResponse{}, err
	}
	c := command.Command{Name: "pkg", Args: append([]string{"upgrade"}, req.IDs...)}
	var err error
	if u.detach {
		_, err = pm.NewRunner("upgrader", u.run, nil).Transaction(ctx, c)
	} else {
		_, err = u.run.Run(ctx, c)
	}
	if err != nil {
		return adapters.InstallResponse{}, err
	}
	return adapters.InstallResponse{Items: []adapters.ItemResult{{ID: req.IDs[0], Status: adapters.ItemInstalled}}}, ctx.Err()
}

func (u *upgrader) RebootRequired(context.Context, adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	return adapters.RebootRequiredResponse{}, nil
}

// The install-cancel-midway check fails an adapter that hands the caller's
// context to the install command, passes one that runs it as a
// transaction, and says so when the ID installs nothing.
func TestInstallCancelMidway(t *testing.T) {
	tests := []struct {
		name   string
		detach bool
		id     string
		want   Outcome
		detail string
	}{
		{"caller's context", false, "openssl", Failed, `cancelled the context of "pkg upgrade openssl"`},
		{"transaction", true, "openssl", Passed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := commandtest.New(t,
				commandtest.Recording{Line: "pkg list"},
				commandtest.Recording{Line: "pkg upgrade openssl"})
			w := &watchRunner{inner: rec, seen: map[string]bool{}}
			rc, stop, err := adapters.ServeTest(t.Context(), func(_ context.Context, env adapters.Env) (adapters.Adapter, error) {
				return &upgrader{run: env.Runner, detach: tt.detach}, nil
			}, adapters.WithRunner(w))
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			h := adapters.NewHost(adapters.Reattach("upgrader", rc))
			defer h.Close(context.Background())
			s := &session{a: h, cfg: newConfig([]Option{WithCancelInstallID(tt.id), withWatch(w)})}
			detail := checkInstallCancelMidway(t.Context(), s)
			got := Passed
			if detail != "" {
				got = Failed
			}
			if got != tt.want || !strings.Contains(detail, tt.detail) {
				t.Errorf("check: %s %q, want %s mentioning %q", got, detail, tt.want, tt.detail)
			}
		})
	}
}
