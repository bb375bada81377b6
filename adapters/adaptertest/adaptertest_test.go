package adaptertest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchcore/sdk/adapters"
	"github.com/patchcore/sdk/adapters/adaptertest"
	"github.com/patchcore/sdk/patchcore"
)

// memAdapter is an in-memory adapter; its fields break one contract each.
type memAdapter struct {
	pkgs           []patchcore.Package
	scheme         string
	ignoreCancel   bool
	plainErrors    bool
	failInstalled  bool
	nondeterminism int
}

func good() *memAdapter {
	return &memAdapter{scheme: "deb", pkgs: []patchcore.Package{
		{Name: "bash", Version: "5.2.15-2+b2", Arch: "amd64", Ecosystem: patchcore.EcosystemDeb},
		{Name: "openssl", Version: "3.0.11-1~deb12u2", Arch: "amd64", Ecosystem: patchcore.EcosystemDeb},
	}}
}

func (m *memAdapter) Info(ctx context.Context, _ adapters.InfoRequest) (adapters.InfoResponse, error) {
	return adapters.InfoResponse{Name: "mem", Version: "0.1.0", ProtocolVersion: adapters.ProtocolVersion,
		Platforms: []string{"debian"}, VersionScheme: m.scheme, Capabilities: []adapters.Capability{adapters.CapAlternateRoot}}, nil
}

func (m *memAdapter) start(ctx context.Context, t adapters.Target) error {
	if !m.ignoreCancel {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if t.Root != "" {
		if m.plainErrors {
			return errors.New("no such root")
		}
		return fmt.Errorf("root %s: %w", t.Root, patchcore.ErrNotFound)
	}
	return nil
}

func (m *memAdapter) Inventory(ctx context.Context, req adapters.InventoryRequest) (adapters.InventoryResponse, error) {
	if err := m.start(ctx, req.Target); err != nil {
		return adapters.InventoryResponse{}, err
	}
	pkgs := append([]patchcore.Package(nil), m.pkgs...)
	if m.nondeterminism > 0 {
		m.nondeterminism++
		pkgs[0].Version = fmt.Sprintf("1.%d", m.nondeterminism)
	}
	return adapters.InventoryResponse{Inventory: patchcore.Inventory{Platform: patchcore.Platform{Family: "linux", Distro: "debian"}, Packages: pkgs}}, nil
}

func (m *memAdapter) ListUpdates(ctx context.Context, req adapters.ListUpdatesRequest) (adapters.ListUpdatesResponse, error) {
	if err := m.start(ctx, req.Target); err != nil {
		return adapters.ListUpdatesResponse{}, err
	}
	return adapters.ListUpdatesResponse{Updates: []adapters.Update{{ID: "openssl", Package: "openssl",
		InstalledVersion: "3.0.11-1~deb12u2", AvailableVersion: "3.0.13-1~deb12u1"}}}, nil
}

func (m *memAdapter) Download(ctx context.Context, req adapters.DownloadRequest) (adapters.DownloadResponse, error) {
	return adapters.DownloadResponse{}, fmt.Errorf("download: %w", patchcore.ErrUnsupported)
}

func (m *memAdapter) Install(ctx context.Context, req adapters.InstallRequest) (adapters.InstallResponse, error) {
	if err := m.start(ctx, req.Target); err != nil {
		return adapters.InstallResponse{}, err
	}
	var r adapters.InstallResponse
	for _, id := range req.IDs {
		switch {
		case id == "bash" && m.failInstalled:
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemFailed, Reason: "already installed"})
		case id == "bash":
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemInstalled, Reason: "already the newest version"})
		default:
			r.Items = append(r.Items, adapters.ItemResult{ID: id, Status: adapters.ItemNotApplicable, Reason: "no such package"})
		}
	}
	return r, nil
}

func (m *memAdapter) RebootRequired(ctx context.Context, req adapters.RebootRequiredRequest) (adapters.RebootRequiredResponse, error) {
	return adapters.RebootRequiredResponse{}, m.start(ctx, req.Target)
}

func factory(m *memAdapter) adapters.Factory {
	return func(context.Context, adapters.Env) (adapters.Adapter, error) { return m, nil }
}

// TestRunPasses is what a plugin author writes: the whole kit over gRPC.
func TestRunPasses(t *testing.T) {
	adaptertest.Run(t, factory(good()), adaptertest.WithInstallID("bash"))
}

func TestCheckFindsBrokenContracts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*memAdapter)
		fails  map[string]string // check name -> text in its detail
		skips  []string
	}{
		{"good", func(*memAdapter) {}, nil, nil},
		{"unparsable version", func(m *memAdapter) { m.pkgs[1].Version = "3.0!!" }, map[string]string{"inventory-versions": "package openssl"}, nil},
		{"not comparable but real (Homebrew HEAD)", func(m *memAdapter) { m.scheme = "homebrew"; m.pkgs[0].Version = "HEAD-4f2c1e9_1" }, nil, nil},
		{"unknown scheme", func(m *memAdapter) { m.scheme = "calver" }, map[string]string{"info": "VersionScheme"}, []string{"inventory-versions"}},
		{"unsorted", func(m *memAdapter) { m.pkgs[0], m.pkgs[1] = m.pkgs[1], m.pkgs[0] }, map[string]string{"inventory-sorted": "openssl/amd64 (index 0) before bash"}, nil},
		{"nondeterministic", func(m *memAdapter) { m.nondeterminism = 1 }, map[string]string{"inventory-deterministic": "differ at package 0"}, nil},
		{"ignores cancellation", func(m *memAdapter) { m.ignoreCancel = true }, map[string]string{"cancelled-context": "want an error wrapping context.Canceled"}, nil},
		{"plain errors", func(m *memAdapter) { m.plainErrors = true }, map[string]string{"errors-are-sentinels": "wraps none of"}, nil},
		{"install of installed fails", func(m *memAdapter) { m.failInstalled = true }, map[string]string{"install-already-installed": `status "failed"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.mutate(m)
			// In-process, so the adapter's own handling of a cancelled context is what is checked.
			h := adapters.NewHost(adapters.InProcess("mem", factory(m)))
			defer h.Close(context.Background())
			results := adaptertest.Check(context.Background(), h, adaptertest.WithInstallID("bash"))
			if len(results) != 11 {
				t.Fatalf("%d results, want 11 (install-cancel-midway runs only under Run)", len(results))
			}
			for _, r := range results {
				want, shouldFail := tt.fails[r.Name]
				switch {
				case slices.Contains(tt.skips, r.Name):
					if r.Outcome != adaptertest.Skipped {
						t.Errorf("%s: %s %q, want skip", r.Name, r.Outcome, r.Detail)
					}
				case shouldFail && (r.Outcome != adaptertest.Failed || !strings.Contains(r.Detail, want)):
					t.Errorf("%s: %s %q, want a failure mentioning %q", r.Name, r.Outcome, r.Detail, want)
				case !shouldFail && r.Outcome != adaptertest.Passed:
					t.Errorf("%s: %s %q, want pass", r.Name, r.Outcome, r.Detail)
				}
			}
		})
	}
}

func TestInstallChecksSkipWithoutID(t *testing.T) {
	h := adapters.NewHost(adapters.InProcess("mem", factory(good())))
	defer h.Close(context.Background())
	for _, r := range adaptertest.Check(context.Background(), h) {
		if strings.HasPrefix(r.Name, "install-") != (r.Outcome == adaptertest.Skipped) {
			t.Errorf("%s: %s %q", r.Name, r.Outcome, r.Detail)
		}
	}
}

// Example runs the kit outside a test, as patchctl adapters check does.
func ExampleCheck() {
	h := adapters.NewHost(adapters.InProcess("mem", factory(good())))
	defer h.Close(context.Background())
	for _, r := range adaptertest.Check(context.Background(), h)[:3] {
		fmt.Println(r.Name, r.Outcome)
	}
	// Output:
	// info pass
	// inventory-versions pass
	// inventory-sorted pass
}
