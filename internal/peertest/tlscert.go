package peertest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Cert is a self-signed certificate for 127.0.0.1, valid for an hour, for
// peers that speak DICOM over TLS in tests.
type Cert struct {
	Cert tls.Certificate
	// Pool trusts Cert.
	Pool *x509.CertPool
	// KeyFile and CertFile hold the key and the certificate as PEM.
	KeyFile, CertFile string
}

// NewServerCert creates a Cert for a server (an RSA key, which every TLS
// profile of dcmtk accepts) and writes its PEM files into a temporary
// directory of t.
func NewServerCert(t testing.TB) *Cert { return newCert(t, "127.0.0.1", x509.ExtKeyUsageServerAuth) }

// NewClientCert creates a Cert for a client, named cn, as NewServerCert
// does for a server.
func NewClientCert(t testing.TB, cn string) *Cert { return newCert(t, cn, x509.ExtKeyUsageClientAuth) }

// NewNodeCert creates a Cert for a node that is both, server and client, as
// NewServerCert does for a server.
func NewNodeCert(t testing.TB) *Cert {
	return newCert(t, "127.0.0.1", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
}

func newCert(t testing.TB, cn string, usage ...x509.ExtKeyUsage) *Cert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cert{Cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, Pool: x509.NewCertPool()}
	c.Pool.AddCert(leaf)
	dir := t.TempDir()
	c.KeyFile, c.CertFile = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(c.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return c
}
