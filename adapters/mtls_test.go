//go:build unix

package adapters

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
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
	other, _, err := selfSigned("not-the-host")
	if err != nil {
		t.Fatal(err)
	}
	creds := map[string]grpc.DialOption{
		"plaintext":          grpc.WithTransportCredentials(insecure.NewCredentials()),
		"tls without a cert": grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})),
		"tls with another certificate": grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			InsecureSkipVerify: true, Certificates: []tls.Certificate{other}})),
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

// trustCert does for cfg what go-plugin's client does with the certificate
// field of the handshake line.
func trustCert(t *testing.T, cfg *tls.Config, field string) {
	t.Helper()
	der, err := base64.RawStdEncoding.DecodeString(field)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg.RootCAs = pool
}

// tlsHandshake runs a TLS handshake between client and server over
// loopback TCP and returns the client's view of the connection and both
// sides' errors.
func tlsHandshake(t *testing.T, client, server *tls.Config) (state tls.ConnectionState, clientErr, serverErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	serverDone := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			serverDone <- err
			return
		}
		defer c.Close()
		sc := tls.Server(c, server)
		_ = sc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := sc.Handshake(); err != nil {
			serverDone <- err
			return
		}
		_, err = sc.Write([]byte{1}) // the client reads it only if the server accepted it
		serverDone <- err
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc := tls.Client(c, client)
	_ = cc.SetDeadline(time.Now().Add(10 * time.Second))
	clientErr = cc.Handshake()
	if clientErr == nil {
		_, clientErr = cc.Read(make([]byte, 1))
	}
	return cc.ConnectionState(), clientErr, <-serverDone
}

// TestMutualTLS checks that each side accepts exactly the other's
// certificate, and that both keys are P-256.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	hostCfg, hostPEM, err := newHostTLS()
	if err != nil {
		t.Fatal(err)
	}
	pluginCfg, pluginCert, err := newPluginTLS(string(hostPEM))
	if err != nil {
		t.Fatal(err)
	}
	// An impostor that also trusts the host, but whose key the host was not told about.
	impostorCfg, _, err := newPluginTLS(string(hostPEM))
	if err != nil {
		t.Fatal(err)
	}
	strangerCfg, _, err := newHostTLS()
	if err != nil {
		t.Fatal(err)
	}
	trusting := func(cfg *tls.Config) *tls.Config {
		cfg = cfg.Clone()
		trustCert(t, cfg, pluginCert)
		return cfg
	}
	tests := []struct {
		name           string
		client, server *tls.Config
		ok             bool
	}{
		{"host and its plugin", trusting(hostCfg), pluginCfg, true},
		{"host not yet told the plugin's certificate", hostCfg, pluginCfg, false},
		{"plugin impersonated", trusting(hostCfg), impostorCfg, false},
		{"client with another certificate", trusting(strangerCfg), pluginCfg, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state, clientErr, serverErr := tlsHandshake(t, tt.client, tt.server)
			if ok := clientErr == nil && serverErr == nil; ok != tt.ok {
				t.Fatalf("handshake succeeded = %v, want %v (client: %v; server: %v)", ok, tt.ok, clientErr, serverErr)
			}
			if !tt.ok {
				return
			}
			if state.Version != tls.VersionTLS13 {
				t.Errorf("TLS version %#x, want TLS 1.3", state.Version)
			}
			for _, cert := range append(state.PeerCertificates, tt.client.Certificates[0].Leaf) {
				if key, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P256() {
					t.Errorf("certificate %q: key %T, want ECDSA P-256", cert.Subject.CommonName, cert.PublicKey)
				}
			}
		})
	}
}

func TestNewPluginTLSRejectsBadHostCertificate(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"} {
		if cfg, _, err := newPluginTLS(bad); err == nil {
			t.Errorf("newPluginTLS(%q) = %+v, want an error", bad, cfg)
		}
	}
}

func TestSetCert(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, line, want string }{
		{"go-plugin line", "1|1|unix|/tmp/plugin1|grpc|\n", "1|1|unix|/tmp/plugin1|grpc|CERT\n"},
		{"with broker multiplexing", "1|1|unix|/tmp/plugin1|grpc||true\n", "1|1|unix|/tmp/plugin1|grpc|CERT|true\n"},
		{"no newline", "1|1|tcp|127.0.0.1:1234|grpc|", "1|1|tcp|127.0.0.1:1234|grpc|CERT"},
		{"certificate already set", "1|1|unix|/tmp/plugin1|grpc|OTHER\n", "1|1|unix|/tmp/plugin1|grpc|OTHER\n"},
		{"too few fields", "1|1|unix|/tmp/plugin1|grpc\n", "1|1|unix|/tmp/plugin1|grpc\n"},
		{"not a handshake", "hello\n", "hello\n"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		if got := setCert(tt.line, "CERT"); got != tt.want {
			t.Errorf("%s: setCert(%q) = %q, want %q", tt.name, tt.line, got, tt.want)
		}
	}
}

func FuzzSetCert(f *testing.F) {
	for _, s := range []string{"1|1|unix|/tmp/plugin1|grpc|\n", "1|1|unix|/tmp/p|grpc||true\n", "|||||", "x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got := setCert(line, "CERT")
		if got == line {
			return
		}
		in := strings.Split(strings.TrimSuffix(line, "\n"), "|")
		out := strings.Split(strings.TrimSuffix(got, "\n"), "|")
		if len(in) != len(out) || in[certField] != "" || out[certField] != "CERT" || strings.HasSuffix(line, "\n") != strings.HasSuffix(got, "\n") {
			t.Fatalf("setCert(%q) = %q", line, got)
		}
		for i := range in {
			if i != certField && in[i] != out[i] {
				t.Fatalf("setCert(%q) = %q: field %d changed", line, got, i)
			}
		}
	})
}

func TestForwardHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"line then more", "1|1|unix|/tmp/p|grpc|\nlater output\n", "1|1|unix|/tmp/p|grpc|CERT\nlater output\n"},
		{"nothing written", "", ""},
		{"partial line", "1|1|unix", "1|1|unix"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := forwardHandshake(&out, strings.NewReader(tt.in), "CERT"); err != nil || out.String() != tt.want {
			t.Errorf("%s: forwarded %q, %v; want %q", tt.name, out.String(), err, tt.want)
		}
	}
	if err := forwardHandshake(errWriter{}, strings.NewReader("1|1|unix|/tmp/p|grpc|\n"), "CERT"); err == nil {
		t.Error("a failed write to stdout was not reported")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestNoPrivateKeyInPluginEnvironment reads the plugin's initial
// environment as any process of the same user could.
func TestNoPrivateKeyInPluginEnvironment(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/environ")
	}
	h, _ := newTestHost(t, Builtin("fake"))
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(h.Pid()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(env, []byte(clientCertEnv+"=-----BEGIN CERTIFICATE-----")) {
		t.Errorf("the plugin's environment has no %s certificate", clientCertEnv)
	}
	if bytes.Contains(env, []byte("PRIVATE KEY")) {
		t.Error("a private key is in the plugin's environment")
	}
}

// TestStockGoPluginHostLoadsPlugin loads a plugin the way a host on stock
// go-plugin with AutoMTLS does: it works, and the server certificate the
// host was given is the plugin's own P-256 one.
func TestStockGoPluginHostLoadsPlugin(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = []string{envTestPlugin + "=fake"}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  handshake(),
		VersionedPlugins: hostPluginSets(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Cmd:              cmd,
		AutoMTLS:         true,
		Logger:           hclog.NewNullLogger(),
	}
	client := plugin.NewClient(cc)
	defer client.Kill()
	proto, err := client.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Dispense(pluginName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := raw.(*rpcClient).Info(context.Background(), InfoRequest{})
	if err != nil || info.Name == "" {
		t.Fatalf("Info = %+v, %v", info, err)
	}
	addr := client.ReattachConfig().Addr
	conn, err := tls.Dial(addr.Network(), addr.String(), cc.TLSConfig.Clone()) // what go-plugin configured
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	peer := conn.ConnectionState().PeerCertificates[0]
	if key, ok := peer.PublicKey.(*ecdsa.PublicKey); !ok || key.Curve != elliptic.P256() {
		t.Errorf("the plugin's certificate has a %T key, want its own ECDSA P-256 one", peer.PublicKey)
	}
}

// TestHostLoadsStockPlugin: a plugin on stock go-plugin answers the host's
// certificate with its own P-521 AutoMTLS one, which the host accepts.
func TestHostLoadsStockPlugin(t *testing.T) {
	t.Parallel()
	h, _ := newTestHost(t, Builtin("stock"))
	if _, err := h.Info(context.Background(), InfoRequest{}); err != nil {
		t.Fatal(err)
	}
}

// TestHostRefusesPluginWithoutCertificate: a plugin that ignores the
// request for TLS and serves in the clear is not talked to.
func TestHostRefusesPluginWithoutCertificate(t *testing.T) {
	t.Parallel()
	h, _ := newTestHost(t, Builtin("no-cert"), WithTimeouts(Timeouts{Start: 5 * time.Second, Info: 5 * time.Second}))
	r, err := h.Info(context.Background(), InfoRequest{})
	if err == nil || !strings.Contains(err.Error(), "handshake") {
		t.Fatalf("Info over a connection without TLS = %+v, %v; want a TLS handshake error", r, err)
	}
}

// TestHostCertWinsOverInheritedVariable: a host that was itself started
// with clientCertEnv set (by a go-plugin host of its own, say) still gives
// its plugin its own certificate. Not parallel: it sets the environment.
func TestHostCertWinsOverInheritedVariable(t *testing.T) {
	t.Setenv(clientCertEnv, "not the certificate of this launch")
	h, _ := newTestHost(t, Builtin("fake"))
	if _, err := h.Info(context.Background(), InfoRequest{}); err != nil {
		t.Fatal(err)
	}
}
