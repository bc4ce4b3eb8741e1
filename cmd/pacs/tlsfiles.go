package main

import (
	"crypto/tls"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/config"
)

// tlsCheckInterval is how often, at most, a handshake looks whether the
// files of dicom.tls have changed.
const tlsCheckInterval = 10 * time.Second

// tlsFiles serves the certificate and client CAs of dicom.tls, to the TLS
// listener and as client certificate to remotes, and reads them again when
// their files change, so that a site renews its certificate without a
// restart. A handshake looks at the files' sizes and times at most every
// interval; when they have changed, the files are read again, and if that
// fails (a key that does not match yet, a file half written) the previous
// certificate and CAs stay, and the failure is logged.
type tlsFiles struct {
	t        *config.DICOMTLS
	log      hclog.Logger
	interval time.Duration

	mu      sync.Mutex
	checked time.Time
	stamps  []fileStamp
	cert    *tls.Certificate
	server  *tls.Config
}

// fileStamp is what tells that a file has changed.
type fileStamp struct{ size, modNano int64 }

// newTLSFiles starts from what Parse read from t's files.
func newTLSFiles(t *config.DICOMTLS, log hclog.Logger) *tlsFiles {
	r := &tlsFiles{t: t, log: log, interval: tlsCheckInterval, checked: time.Now(), cert: t.Certificate}
	r.stamps = r.stat()
	r.server = config.TLSServerConfig(t.Certificate, t.ClientCAs)
	return r
}

// serverConfig is the TLS configuration of the listener.
func (r *tlsFiles) serverConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.refresh()
		return r.server, nil
	}}
}

// clientCertificate is tls.Config.GetClientCertificate for remotes.
func (r *tlsFiles) clientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refresh()
	return r.cert, nil
}

// stat returns the stamps of the files, in a fixed order (a missing file
// has a zero stamp).
func (r *tlsFiles) stat() []fileStamp {
	var out []fileStamp
	for _, name := range []string{r.t.CertFile, r.t.KeyFile, r.t.ClientCAFile} {
		var s fileStamp
		if fi, err := os.Stat(name); name != "" && err == nil {
			s = fileStamp{fi.Size(), fi.ModTime().UnixNano()}
		}
		out = append(out, s)
	}
	return out
}

// refresh reads the files again if they changed since the last look, and
// the last look is interval old. Called with mu held.
func (r *tlsFiles) refresh() {
	now := time.Now()
	if now.Sub(r.checked) < r.interval {
		return
	}
	r.checked = now
	stamps := r.stat()
	if slices.Equal(stamps, r.stamps) {
		return
	}
	r.stamps = stamps
	cert, cas, err := r.t.Load()
	if err != nil {
		r.log.Error("dicom.tls: cannot read the changed certificate files; the previous certificate and CAs stay in use", "error", err)
		return
	}
	r.cert, r.server = cert, config.TLSServerConfig(cert, cas)
	r.log.Info("dicom.tls: certificate files read again", "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
}
