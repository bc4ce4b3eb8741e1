package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/sdk"
)

// Timeouts are the parsed timeouts of a dicom block; zero means none.
type Timeouts struct {
	Association, Idle, DIMSE, Release time.Duration
}

// Timeouts returns the block's timeouts parsed. A value Validate rejects
// is returned as zero.
func (d *DICOM) Timeouts() Timeouts {
	p := func(s string) time.Duration { v, _ := parseDuration(s); return v }
	return Timeouts{
		Association: p(d.AssociationTimeout),
		Idle:        p(d.IdleTimeout),
		DIMSE:       p(d.DIMSETimeout),
		Release:     p(d.ReleaseTimeout),
	}
}

// MaxPDU returns MaxPDULength in bytes, or 0 when Validate rejects it.
func (d *DICOM) MaxPDU() uint32 {
	n, err := sdk.ParseSize(d.MaxPDULength)
	if err != nil || n < MinPDULength || n > MaxPDULength {
		return 0
	}
	return uint32(n)
}

// SOPClassUIDs returns SOPClasses as UIDs (keywords resolved), or nil when
// SOPClasses is empty: every Storage SOP class, Verification and
// Query/Retrieve. Entries Validate rejects are left out.
func (d *DICOM) SOPClassUIDs() []string {
	return resolveAll(d.SOPClasses, uid.TypeSOPClass, uid.TypeMetaSOPClass)
}

// TransferSyntaxUIDs returns TransferSyntaxes as UIDs (keywords resolved),
// or nil when TransferSyntaxes is empty: the default policy. Entries
// Validate rejects are left out.
func (d *DICOM) TransferSyntaxUIDs() []string {
	return resolveAll(d.TransferSyntaxes, uid.TypeTransferSyntax)
}

func resolveAll(names []string, types ...uid.Type) []string {
	var out []string
	for _, n := range names {
		if u, err := resolveUID(n, types...); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// Age returns After parsed, or 0 when After is empty (the first tier) or
// Validate rejects it.
func (s *Storage) Age() time.Duration {
	d, _ := ParseAge(s.After)
	return d
}

// readCAs reads the CA certificates of CAFile.
func (r *Remote) readCAs() (*x509.CertPool, error) {
	pool, err := ReadCertPool(r.CAFile)
	if err != nil {
		return nil, fmt.Errorf("remote %q: %w", r.AETitle, err)
	}
	return pool, nil
}

// readCertPool reads a PEM file of certificates into a pool.
func ReadCertPool(path string) (*x509.CertPool, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// read reads the certificate, its key and the client CAs (see DICOMTLS):
// diagnostics at the attribute whose file is wrong; a warning when the
// certificate is not valid now.
func (t *DICOMTLS) read(now time.Time) (diags hcl.Diagnostics) {
	if t.CertFileRange == (hcl.Range{}) || t.KeyFileRange == (hcl.Range{}) {
		return nil // missing: reported by the decoder
	}
	cert, err := LoadKeyPair(t.CertFile, t.KeyFile)
	switch {
	case t.CertFile == "" || t.KeyFile == "":
		rng := t.CertFileRange
		if t.CertFile != "" {
			rng = t.KeyFileRange
		}
		diags = append(diags, errorAt(rng, "Invalid certificate or key",
			"dicom.tls: cert_file and key_file name the PEM files of the server's certificate and its key; they are not empty."))
	case err != nil:
		diags = append(diags, errorAt(t.CertFileRange, "Invalid certificate or key",
			fmt.Sprintf("dicom.tls: cannot use cert_file %q with key_file %q: %s.", t.CertFile, t.KeyFile, err)))
	case now.After(cert.Leaf.NotAfter) || now.Before(cert.Leaf.NotBefore):
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Certificate not valid now",
			Detail: fmt.Sprintf("dicom.tls: the certificate of %s is valid from %s to %s: peers that check it will refuse the handshake.",
				t.CertFile, cert.Leaf.NotBefore.UTC().Format(time.RFC3339), cert.Leaf.NotAfter.UTC().Format(time.RFC3339)),
			Subject: subject(t.CertFileRange)})
		fallthrough
	default:
		t.Certificate = cert
	}
	if t.ClientCAFile != "" {
		if t.ClientCAs, err = ReadCertPool(t.ClientCAFile); err != nil {
			diags = append(diags, errorAt(t.ClientCAFileRange, "Invalid CA file", "dicom.tls: "+err.Error()+"."))
		}
	}
	return diags
}

// Load reads the certificate, its key and the client CAs again, for a
// server that renews them while it runs; t is left as it is.
func (t *DICOMTLS) Load() (*tls.Certificate, *x509.CertPool, error) {
	cert, err := LoadKeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cert_file %s, key_file %s: %w", t.CertFile, t.KeyFile, err)
	}
	var cas *x509.CertPool
	if t.ClientCAFile != "" {
		if cas, err = ReadCertPool(t.ClientCAFile); err != nil {
			return nil, nil, fmt.Errorf("client_ca_file: %w", err)
		}
	}
	return cert, cas, nil
}

// LoadKeyPair reads a PEM certificate (and its chain) and its private key,
// files of a bounded size as a configuration file (a name mistyped as
// /dev/zero does not hang start-up).
func LoadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &cert, nil
}

// TLSServerConfig returns the TLS configuration of a DICOM listener with
// cert: TLS 1.2 or later, and client certificates required and verified
// against clientCAs when not nil.
func TLSServerConfig(cert *tls.Certificate, clientCAs *x509.CertPool) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	if clientCAs != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs
	}
	return cfg
}
