package adapters

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"
)

// Mutual TLS between host and plugin.
//
// The wire protocol is go-plugin's AutoMTLS; only the curve differs. For
// every launch each side generates its own ECDSA P-256 key and a self-signed
// certificate, and only the certificates cross the process boundary: no
// private key ever leaves the process that generated it.
//
//   - The host puts its certificate (PEM) in clientCertEnv, as go-plugin's
//     AutoMTLS client does, and trusts no server until the plugin's
//     certificate arrives.
//   - Serve generates the plugin's key pair and serves with it through
//     ServeConfig.TLSProvider, accepting only clients that present the
//     host's certificate. It sends its certificate back in the sixth field
//     of the handshake line on stdout, where go-plugin's client looks for
//     the AutoMTLS server certificate and loads it as the one root it
//     trusts (Client.loadServerCert).
//
// go-plugin's own AutoMTLS generates P-521 keys, whose key generation and
// handshake signatures cost tens of milliseconds of CPU per start, more than
// the whole start-up budget (see BENCHMARKS.md). Its server writes the sixth
// field only when it generated the key itself, so Serve adds the field as
// the line goes out (handshakeWithCert).
//
// Compatibility: a stock go-plugin host with AutoMTLS sends clientCertEnv
// and reads the sixth field in the same way, so it loads our plugins (a
// P-256 certificate verifies like a P-521 one); our host loads a stock
// go-plugin plugin, which answers with its own P-521 certificate. A plugin
// started without clientCertEnv serves without TLS, as go-plugin does; our
// host always sends it and fails closed when no certificate comes back.

// clientCertEnv is go-plugin's AutoMTLS variable carrying the host's
// certificate, PEM-encoded. It holds no secret.
const clientCertEnv = "PLUGIN_CLIENT_CERT"

// certField is the index of the AutoMTLS server certificate in go-plugin's
// handshake line (CORE-PROTOCOL|APP-PROTOCOL|NETWORK|ADDR|PROTOCOL|CERT).
const certField = 5

// selfSigned makes a P-256 key and a self-signed certificate for localhost,
// returned as a key pair for tls.Config and the certificate's DER bytes.
func selfSigned(name string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"patchcore adapter"}},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(30 * 365 * 24 * time.Hour), // connections may be re-established for the plugin's lifetime
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, der, nil
}

// newHostTLS returns the host's TLS configuration for one launch and the
// host's certificate (PEM) to give the plugin in clientCertEnv. RootCAs is
// empty: go-plugin replaces it with the certificate the plugin sends in its
// handshake line, and without one the host trusts nothing.
func newHostTLS() (*tls.Config, []byte, error) {
	pair, der, err := selfSigned("patchcore-host")
	if err != nil {
		return nil, nil, fmt.Errorf("generating the host's TLS certificate: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      x509.NewCertPool(),
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS13,
	}
	return cfg, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// newPluginTLS generates the plugin's key pair and returns the server's TLS
// configuration, which accepts only clients presenting hostCertPEM, and the
// plugin's certificate as the handshake line carries it (base64 of the DER,
// no padding).
func newPluginTLS(hostCertPEM string) (*tls.Config, string, error) {
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(hostCertPEM)) {
		return nil, "", fmt.Errorf("%s: no PEM certificate in the host's value (%d bytes)", clientCertEnv, len(hostCertPEM))
	}
	pair, der, err := selfSigned("patchcore-adapter")
	if err != nil {
		return nil, "", fmt.Errorf("generating the plugin's TLS certificate: %w", err)
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS13,
	}
	return cfg, base64.RawStdEncoding.EncodeToString(der), nil
}

// handshakeWithCert points os.Stdout at a pipe so that the handshake line
// go-plugin prints goes through setCert, which adds cert, on its way to the
// real stdout. go-plugin points os.Stdout elsewhere right after printing the
// line. The returned function, called once plugin.Serve has returned, puts
// os.Stdout back if go-plugin did not get that far, and waits for the
// forwarding to end.
func handshakeWithCert(cert string) (func() error, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating the pipe for the handshake line: %w", err)
	}
	stdout := os.Stdout
	os.Stdout = w
	forwarded := make(chan error, 1)
	go func() {
		forwarded <- forwardHandshake(stdout, r, cert)
		_ = r.Close()
	}()
	return func() error {
		if os.Stdout == w {
			os.Stdout = stdout
		}
		_ = w.Close()
		return <-forwarded
	}, nil
}

// forwardHandshake copies src to dst, adding cert to the first line.
func forwardHandshake(dst io.Writer, src io.Reader, cert string) error {
	br := bufio.NewReader(src)
	line, err := br.ReadString('\n')
	if line != "" {
		if _, werr := io.WriteString(dst, setCert(line, cert)); werr != nil {
			return fmt.Errorf("writing the handshake line to stdout: %w", werr)
		}
	}
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the handshake line: %w", err)
	}
	if _, err := io.Copy(dst, br); err != nil {
		return fmt.Errorf("forwarding stdout after the handshake line: %w", err)
	}
	return nil
}

// setCert puts cert in the certificate field of a go-plugin handshake line.
// A line with fewer fields is returned unchanged (the host then trusts no
// certificate and does not connect), and so is one whose field is already
// set (go-plugin sets it only when it generated the key itself, which it
// does not when ServeConfig.TLSProvider returns a configuration).
func setCert(line, cert string) string {
	body, nl := strings.CutSuffix(line, "\n")
	parts := strings.Split(body, "|")
	if len(parts) <= certField || parts[certField] != "" {
		return line
	}
	parts[certField] = cert
	out := strings.Join(parts, "|")
	if nl {
		out += "\n"
	}
	return out
}
