package adapters

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"time"
)

// Mutual TLS between host and plugin.
//
// Every launch gets fresh credentials, as with go-plugin's AutoMTLS, but
// minted by the host with ECDSA P-256: go-plugin's AutoMTLS uses P-521,
// whose key generation and handshake signatures cost about 60 ms of CPU per
// start, more than the whole start-up budget. The host generates a key pair
// and self-signed certificate for each side and hands the plugin its own
// pair plus the host's certificate in tlsEnv; Serve reads it before the
// adapter is built and removes it from the environment, so package-manager
// commands never inherit it. The environment of a process is readable only
// by its own user and root, the same boundary go-plugin relies on for
// PLUGIN_CLIENT_CERT. Each side accepts only the other's certificate.
//
// A plugin that does not find tlsEnv still answers go-plugin's AutoMTLS, so
// a host built on stock go-plugin can load it.

const tlsEnv = "PATCHCORE_ADAPTER_TLS"

// tlsMaterial travels in tlsEnv as base64 of its JSON.
type tlsMaterial struct {
	ServerCert []byte `json:"server_cert"` // PEM
	ServerKey  []byte `json:"server_key"`  // PEM, PKCS #8
	ClientCert []byte `json:"client_cert"` // PEM
}

// selfSigned makes a P-256 key and a self-signed certificate for localhost.
func selfSigned(name string) (certPEM, keyPEM []byte, pair tls.Certificate, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, tls.Certificate{}, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"patchcore adapter host"}},
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
		return nil, nil, tls.Certificate{}, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, tls.Certificate{}, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	return certPEM, keyPEM, pair, err
}

func certPool(certPEM []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		return nil, fmt.Errorf("no certificate in PEM data")
	}
	return pool, nil
}

// newHostTLS returns the host's TLS configuration for one launch and the
// tlsEnv value to give the plugin.
func newHostTLS() (*tls.Config, string, error) {
	serverCert, serverKey, _, err := selfSigned("patchcore-adapter")
	if err != nil {
		return nil, "", fmt.Errorf("generating the plugin's TLS certificate: %w", err)
	}
	clientCert, _, clientPair, err := selfSigned("patchcore-host")
	if err != nil {
		return nil, "", fmt.Errorf("generating the host's TLS certificate: %w", err)
	}
	roots, err := certPool(serverCert)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(tlsMaterial{ServerCert: serverCert, ServerKey: serverKey, ClientCert: clientCert})
	if err != nil {
		return nil, "", err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{clientPair},
		RootCAs:      roots,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS13,
	}
	return cfg, base64.StdEncoding.EncodeToString(b), nil
}

// takeServerTLS reads the plugin's TLS configuration from tlsEnv and removes
// the variable from the environment. It returns nil when the host did not
// set it (go-plugin's AutoMTLS, or test mode, applies then).
func takeServerTLS() (*tls.Config, error) {
	v, ok := os.LookupEnv(tlsEnv)
	if !ok {
		return nil, nil
	}
	if err := os.Unsetenv(tlsEnv); err != nil {
		return nil, fmt.Errorf("removing %s from the environment: %w", tlsEnv, err)
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64: %w", tlsEnv, err)
	}
	var m tlsMaterial
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", tlsEnv, err)
	}
	pair, err := tls.X509KeyPair(m.ServerCert, m.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("%s: server key pair: %w", tlsEnv, err)
	}
	clients, err := certPool(m.ClientCert)
	if err != nil {
		return nil, fmt.Errorf("%s: client certificate: %w", tlsEnv, err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS13,
	}, nil
}
