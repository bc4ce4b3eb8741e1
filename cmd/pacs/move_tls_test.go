package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/services"
	"github.com/pacsforge/pacs/internal/peertest"
)

// writeServerCert writes a self-signed RSA certificate for 127.0.0.1 and
// its key as PEM files into dir, and returns their paths and a pool
// trusting the certificate.
func writeServerCert(t *testing.T, dir string) (keyPath, certPath string, pool *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "DEST"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, certPath = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return keyPath, certPath, pool
}

// TestMoveToStorescpTLS: a C-MOVE destination configured with TLS is
// reached over DICOM TLS: dcmtk's storescp, listening only with TLS,
// receives a study whole, and the archive refuses to send to it when its
// certificate is not trusted.
func TestMoveToStorescpTLS(t *testing.T) {
	peertest.Need(t, "movescu", "storescp")
	keyPath, certPath, pool := writeServerCert(t, t.TempDir())
	dir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "storescp", "-aet", "DEST", "+tls", keyPath, certPath, "-ic", "+B", "-od", dir, strconv.Itoa(port))
	peertest.SetNoDelay(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("storescp output:\n%s", out.String())
		}
	})
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			break
		}
		if i == 200 {
			t.Fatal("storescp did not start")
		}
		time.Sleep(25 * time.Millisecond)
	}
	s := startRetrieveServer(t, []services.Remote{
		{AETitle: "DEST", Host: "127.0.0.1", Port: port, TLS: &tls.Config{ServerName: "127.0.0.1", RootCAs: pool, MinVersion: tls.VersionTLS12}},
		{AETitle: "UNTRUSTED", Host: "127.0.0.1", Port: port, TLS: &tls.Config{ServerName: "127.0.0.1", RootCAs: x509.NewCertPool()}},
	})
	studies := loadCorpus(t, s)
	var study string
	for _, u := range sortedStudies(studies) {
		if !slices.ContainsFunc(studies[u], func(f sendable) bool { return slices.Contains(peerUnknownSyntaxes, f.ts) }) {
			study = u
			break
		}
	}
	if study == "" {
		t.Fatal("no study of the corpus that dcmtk can receive")
	}
	move := func(dest string) error {
		_, err := runPeer(t, "movescu", "-S", "-aet", "MOVESCU", "-aec", "FORGE", "-aem", dest,
			"-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID="+study, "127.0.0.1", s.port)
		return err
	}
	if err := move("UNTRUSTED"); err == nil {
		t.Error("movescu to a destination whose certificate is not trusted succeeded")
	}
	if got := readReceived(t, dir); len(got) != 0 {
		t.Fatalf("%d files received from a move to an untrusted destination", len(got))
	}
	if err := move("DEST"); err != nil {
		t.Fatalf("movescu over TLS: %v", err)
	}
	got := readReceived(t, dir)
	if n := compareRetrieved(t, got, studies[study], "movescu over TLS"); n != len(studies[study]) {
		t.Errorf("%d of %d instances compared", n, len(studies[study]))
	}
}
