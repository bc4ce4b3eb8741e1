package config

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/internal/peertest"
)

// TestDICOMTLS: the dicom block's tls block reads its certificate, key and
// client CAs at Parse, and reports each mistake at its attribute.
func TestDICOMTLS(t *testing.T) {
	server := peertest.NewServerCert(t)
	clients := peertest.NewClientCert(t, "MODALITY-1")
	other := peertest.NewServerCert(t) // its key does not match server's certificate
	notPEM := filepath.Join(t.TempDir(), "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	site := func(listen, cert, key, clientCA string) []byte {
		src := fmt.Sprintf("dicom {\n  listen = \"127.0.0.1:11112\"\n  tls {\n    listen    = %q\n    cert_file = %q\n    key_file  = %q\n", listen, cert, key)
		if clientCA != "" {
			src += fmt.Sprintf("    client_ca_file = %q\n", clientCA)
		}
		return []byte(src + "  }\n}\n")
	}

	t.Run("valid", func(t *testing.T) {
		c, diags := Parse(site(":2762", server.CertFile, server.KeyFile, ""), "site.hcl")
		if diags.HasErrors() || len(diags) != 0 {
			t.Fatalf("diagnostics: %v", diags)
		}
		cfg := TLSServerConfig(c.DICOM.TLS.Certificate, c.DICOM.TLS.ClientCAs)
		if len(cfg.Certificates) != 1 || !cfg.Certificates[0].Leaf.Equal(server.Cert.Leaf) {
			t.Error("the server's certificate is not the one of cert_file")
		}
		if cfg.ClientAuth != tls.NoClientCert || cfg.MinVersion != tls.VersionTLS12 {
			t.Errorf("ClientAuth %v, MinVersion %x; want no client certificate, TLS 1.2", cfg.ClientAuth, cfg.MinVersion)
		}
	})
	t.Run("client CAs", func(t *testing.T) {
		c, diags := Parse(site(":2762", server.CertFile, server.KeyFile, clients.CertFile), "site.hcl")
		if len(diags) != 0 {
			t.Fatalf("diagnostics: %v", diags)
		}
		cfg := TLSServerConfig(c.DICOM.TLS.Certificate, c.DICOM.TLS.ClientCAs)
		if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil {
			t.Errorf("ClientAuth %v; want client certificates required and verified", cfg.ClientAuth)
		}
	})

	for _, tc := range []struct {
		name                        string
		listen, cert, key, clientCA string
		summary                     string
		line                        int
	}{
		{"key of another certificate", ":2762", server.CertFile, other.KeyFile, "", "Invalid certificate or key", 5},
		{"missing certificate", ":2762", filepath.Join(t.TempDir(), "none.pem"), server.KeyFile, "", "Invalid certificate or key", 5},
		{"empty key", ":2762", server.CertFile, "", "", "Invalid certificate or key", 6},
		{"client CAs not PEM", ":2762", server.CertFile, server.KeyFile, notPEM, "Invalid CA file", 7},
		{"plain listener's address", "127.0.0.1:11112", server.CertFile, server.KeyFile, "", "Invalid listen address", 4},
		{"bad address", "localhost", server.CertFile, server.KeyFile, "", "Invalid listen address", 4},
		{"an endless file", ":2762", "/dev/zero", server.KeyFile, "", "Invalid certificate or key", 5},
		{"an endless CA file", ":2762", server.CertFile, server.KeyFile, "/dev/zero", "Invalid CA file", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse(site(tc.listen, tc.cert, tc.key, tc.clientCA), "site.hcl")
			if len(diags) != 1 || diags[0].Summary != tc.summary || diags[0].Subject == nil || diags[0].Subject.Start.Line != tc.line {
				t.Errorf("diagnostics %v, want one %q on line %d", diags, tc.summary, tc.line)
			}
		})
	}

	t.Run("missing key_file", func(t *testing.T) {
		_, diags := Parse([]byte("dicom {\n  tls {\n    listen = \":2762\"\n    cert_file = \"x.pem\"\n  }\n}\n"), "site.hcl")
		if len(diags) != 1 || diags[0].Summary != "Missing required argument" {
			t.Errorf("diagnostics %v, want one about the missing key_file", diags)
		}
	})

	t.Run("expired certificate", func(t *testing.T) {
		c, diags := Parse(site(":2762", server.CertFile, server.KeyFile, ""), "site.hcl")
		if len(diags) != 0 {
			t.Fatal(diags)
		}
		tl := c.DICOM.TLS
		diags = tl.read(time.Now().Add(2 * time.Hour)) // NewServerCert's are valid for an hour
		if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || diags[0].Summary != "Certificate not valid now" || diags[0].Subject.Start.Line != 5 {
			t.Errorf("diagnostics %v, want one warning on line 5", diags)
		}
		if tl.Certificate == nil {
			t.Error("an expired certificate is still served (a warning, not an error)")
		}
	})
}
