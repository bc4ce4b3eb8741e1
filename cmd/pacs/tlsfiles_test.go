package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestTLSFilesReload: the listener and the remotes get a renewed
// certificate, and new client CAs, once their files change; files that
// cannot be read (a key not matching yet) leave the previous ones in use,
// and say so in the log.
func TestTLSFilesReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, caFile := filepath.Join(dir, "node.pem"), filepath.Join(dir, "node.key"), filepath.Join(dir, "clients.pem")
	// install copies c's files over the site's, a second later each time:
	// what the change is seen by does not depend on the file system's
	// timestamp resolution.
	stamp := time.Now()
	install := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			t.Fatal(err)
		}
		stamp = stamp.Add(time.Second)
		if err := os.Chtimes(dst, stamp, stamp); err != nil {
			t.Fatal(err)
		}
	}
	first, second := peertest.NewNodeCert(t), peertest.NewNodeCert(t)
	clientsA, clientsB := peertest.NewClientCert(t, "A"), peertest.NewClientCert(t, "B")
	install(first.CertFile, certFile)
	install(first.KeyFile, keyFile)
	install(clientsA.CertFile, caFile)

	c, diags := config.Parse([]byte(fmt.Sprintf("dicom {\n  tls {\n    listen = \":2762\"\n    cert_file = %q\n    key_file = %q\n    client_ca_file = %q\n  }\n}\n",
		certFile, keyFile, caFile)), "site.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var logBuf strings.Builder
	r := newTLSFiles(c.DICOM.TLS, hclog.New(&hclog.LoggerOptions{Output: &logBuf}))
	r.interval = 0
	listener := r.serverConfig()
	check := func(when string, cert *peertest.Cert, clients *x509.CertPool) {
		t.Helper()
		cfg, err := listener.GetConfigForClient(&tls.ClientHelloInfo{})
		if err != nil || len(cfg.Certificates) != 1 || !cfg.Certificates[0].Leaf.Equal(cert.Cert.Leaf) {
			t.Errorf("%s: the listener's certificate is not the expected one (%v)", when, err)
		}
		if cfg.ClientAuth != tls.RequireAndVerifyClientCert || !cfg.ClientCAs.Equal(clients) {
			t.Errorf("%s: the listener's client CAs are not the expected ones", when)
		}
		if cc, err := r.clientCertificate(nil); err != nil || !cc.Leaf.Equal(cert.Cert.Leaf) {
			t.Errorf("%s: the client certificate offered to remotes is not the expected one (%v)", when, err)
		}
	}
	check("at start", first, clientsA.Pool)

	install(second.CertFile, certFile) // the key is still the first's
	check("certificate renewed, key not yet", first, clientsA.Pool)
	if !strings.Contains(logBuf.String(), "cannot read the changed certificate files") {
		t.Errorf("log lacks the failed reading:\n%s", logBuf.String())
	}
	install(second.KeyFile, keyFile)
	check("certificate and key renewed", second, clientsA.Pool)
	install(clientsB.CertFile, caFile)
	check("client CAs changed", second, clientsB.Pool)
	if !strings.Contains(logBuf.String(), "certificate files read again") {
		t.Errorf("log lacks the reading:\n%s", logBuf.String())
	}

	// Within the interval, the files are not looked at.
	r.interval = time.Hour
	install(first.CertFile, certFile)
	install(first.KeyFile, keyFile)
	check("within the interval", second, clientsB.Pool)
}
