package adapters

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/patchcore/sdk/patchcore"
)

// Environment variables that steer the test binary when it runs as a plugin.
const (
	envTestPlugin   = "ADAPTERS_TEST_PLUGIN"   // serve this fake when set (Binary sources)
	envTestPackages = "ADAPTERS_TEST_PACKAGES" // number of packages the fake reports
	envTestMarker   = "ADAPTERS_TEST_MARKER"   // file the slow install writes when it finishes
)

// fakeAdapter is the adapter the host tests run as a plugin. Its behaviour
// is chosen by the request's Root, so one process can be asked to crash,
// hang or misbehave on one call and work on the next.
type fakeAdapter struct {
	pkgs   []patchcore.Package
	marker string
	log    hclog.Logger
}

func newFake(n int, marker string) *fakeAdapter {
	f := &fakeAdapter{marker: marker, log: hclog.NewNullLogger()}
	for i := range n {
		f.pkgs = append(f.pkgs, patchcore.Package{
			Name: fmt.Sprintf("pkg%05d", i), Version: fmt.Sprintf("1.%d-1", i), Arch: "amd64",
			SourceName: fmt.Sprintf("src%05d", i), SourceVersion: fmt.Sprintf("1.%d-1", i), Ecosystem: patchcore.EcosystemDeb,
		})
	}
	return f
}

// fakeFactory builds the fake from the environment (the plugin side).
func fakeFactory(ctx context.Context, env Env) (Adapter, error) {
	n, _ := strconv.Atoi(os.Getenv(envTestPackages))
	f := newFake(n, os.Getenv(envTestMarker))
	f.log = env.Logger
	return f, nil
}

// misbehave acts on the special roots.
func (f *fakeAdapter) misbehave(ctx context.Context, root string) error {
	switch root {
	case "/crash":
		fmt.Fprintln(os.Stderr, "fake: simulated crash: segmentation fault in libfake")
		os.Exit(3)
	case "/hang":
		select {} // ignores ctx, as a hung package manager would
	case "/stdout":
		fmt.Println("fake: a stray print to stdout")
	case "/locked":
		return fmt.Errorf("dpkg frontend lock held by pid 4242: %w", patchcore.ErrPackageManagerLocked)
	case "/permission":
		return fmt.Errorf("open /var/lib/dpkg/lock: %w", patchcore.ErrPermission)
	case "/slow":
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (f *fakeAdapter) Info(ctx context.Context, _ InfoRequest) (InfoResponse, error) {
	return InfoResponse{Name: "fake", Version: "1.0.0", ProtocolVersion: ProtocolVersion,
		Platforms: []string{"debian"}, VersionScheme: "deb", Capabilities: []Capability{CapProgress}}, nil
}

func (f *fakeAdapter) Inventory(ctx context.Context, req InventoryRequest) (InventoryResponse, error) {
	if err := f.misbehave(ctx, req.Root); err != nil {
		return InventoryResponse{}, err
	}
	return InventoryResponse{Inventory: patchcore.Inventory{
		Platform: patchcore.Platform{Family: "linux", Distro: "debian", Version: "12", Codename: "bookworm", Arch: "amd64"},
		Packages: f.pkgs, PendingReboot: true,
		CollectedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Duration: 42 * time.Millisecond,
	}}, nil
}

func (f *fakeAdapter) ListUpdates(ctx context.Context, req ListUpdatesRequest) (ListUpdatesResponse, error) {
	if err := f.misbehave(ctx, req.Root); err != nil {
		return ListUpdatesResponse{}, err
	}
	return ListUpdatesResponse{Updates: []Update{{
		ID: "openssl", Package: "openssl", Arch: "amd64", InstalledVersion: "3.0.11-1~deb12u1",
		AvailableVersion: "3.0.13-1~deb12u1", Origin: "Debian-Security:12/stable-security",
		Classification: patchcore.ClassSecurity, Severity: patchcore.ParseSeverity("high"),
		CVEs: []string{"CVE-2024-0727"}, Advisories: []string{"DSA-5678-1"},
		Issued: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), Reboot: patchcore.RebootNever, Size: 1234,
	}}}, nil
}

func (f *fakeAdapter) Download(ctx context.Context, req DownloadRequest) (DownloadResponse, error) {
	if err := f.misbehave(ctx, req.Root); err != nil {
		return DownloadResponse{}, err
	}
	items := make([]ItemResult, len(req.IDs))
	for i, id := range req.IDs {
		items[i] = ItemResult{ID: id, Status: ItemDownloaded}
	}
	return DownloadResponse{Items: items}, nil
}

func (f *fakeAdapter) Install(ctx context.Context, req InstallRequest) (InstallResponse, error) {
	return f.InstallWithProgress(ctx, req, func(Progress) {})
}

func (f *fakeAdapter) InstallWithProgress(ctx context.Context, req InstallRequest, report func(Progress)) (InstallResponse, error) {
	if req.Root == "/slowinstall" {
		// A transaction that has started runs to its end whatever ctx says:
		// it outlasts the caller (who must have a deadline) and ends when
		// the test creates marker+".release", however late a loaded machine
		// schedules either side.
		<-ctx.Done()
		for end := time.Now().Add(30 * time.Second); f.marker != "" && time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(f.marker + ".release"); err == nil {
				break
			}
		}
		if f.marker != "" {
			if err := os.WriteFile(f.marker, []byte("finished"), 0o600); err != nil {
				return InstallResponse{}, err
			}
		}
	} else if err := f.misbehave(ctx, req.Root); err != nil {
		return InstallResponse{}, err
	}
	items := make([]ItemResult, len(req.IDs))
	for i, id := range req.IDs {
		f.log.Info("installing", "package", id)
		report(Progress{ID: id, Phase: "configuring", Percent: 100})
		items[i] = ItemResult{ID: id, Status: ItemInstalled, FromVersion: "1", ToVersion: "2"}
	}
	return InstallResponse{Items: items}, nil
}

func (f *fakeAdapter) RebootRequired(ctx context.Context, req RebootRequiredRequest) (RebootRequiredResponse, error) {
	if err := f.misbehave(ctx, req.Root); err != nil {
		return RebootRequiredResponse{}, err
	}
	return RebootRequiredResponse{Required: true, Reasons: []string{"linux-image-6.1.0-18-amd64"}}, nil
}
