//go:build unix

package adapters

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	adapterv1 "github.com/patchcore/sdk/internal/adapterproto/v1"
)

// TestPluginRequiresHostCertificate dials a running plugin's socket the way
// another local process could: without the host's certificate it gets nowhere.
func TestPluginRequiresHostCertificate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, _ := newTestHost(t, Builtin("fake"))
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	addr := h.proc.client.ReattachConfig().Addr
	h.mu.Unlock()
	dialer := grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, addr.Network(), addr.String())
	})
	creds := map[string]grpc.DialOption{
		"plaintext":          grpc.WithTransportCredentials(insecure.NewCredentials()),
		"tls without a cert": grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
	}
	for name, cred := range creds {
		conn, err := grpc.NewClient("passthrough:///plugin", dialer, cred)
		if err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err = adapterv1.NewAdapterClient(conn).Info(cctx, &adapterv1.InfoRequest{})
		cancel()
		conn.Close()
		if err == nil {
			t.Errorf("%s: the plugin answered a client without the host's certificate", name)
		}
	}
	// The host itself still gets through.
	if _, err := h.Info(ctx, InfoRequest{}); err != nil {
		t.Errorf("Info through the host: %v", err)
	}
}

func TestTakeServerTLS(t *testing.T) {
	_, value, err := newHostTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(tlsEnv, value)
	cfg, err := takeServerTLS()
	if err != nil || cfg == nil || cfg.ClientAuth != tls.RequireAndVerifyClientCert || len(cfg.Certificates) != 1 {
		t.Fatalf("takeServerTLS = %+v, %v", cfg, err)
	}
	if _, ok := os.LookupEnv(tlsEnv); ok {
		t.Errorf("%s is still in the environment, where package-manager commands would inherit it", tlsEnv)
	}
	for _, bad := range []string{"!!", "e30=", "bm90IGpzb24="} { // not base64, {} (no certs), "not json"
		t.Setenv(tlsEnv, bad)
		if cfg, err := takeServerTLS(); err == nil {
			t.Errorf("takeServerTLS(%q) = %+v, want an error", bad, cfg)
		}
	}
}
