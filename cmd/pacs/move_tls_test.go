package main

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/pacsforge/pacs/core/services"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestMoveToStorescpTLS: a C-MOVE destination configured with TLS is
// reached over DICOM TLS: dcmtk's storescp, listening only with TLS,
// receives a study whole, and the archive refuses to send to it when its
// certificate is not trusted. A storescp that requires a client
// certificate (dcmtk's default) receives the study from an archive that
// presents its node certificate, and nothing from one that presents none.
func TestMoveToStorescpTLS(t *testing.T) {
	peertest.Need(t, "movescu", "storescp")
	sc := peertest.NewServerCert(t)
	node := peertest.NewNodeCert(t)
	port, dir := startDestinationSCP(t, "+tls", sc.KeyFile, sc.CertFile, "-ic")
	mport, mdir := startDestinationSCP(t, "+tls", sc.KeyFile, sc.CertFile, "+cf", node.CertFile)
	trusting := func(certs ...tls.Certificate) *tls.Config {
		return &tls.Config{ServerName: "127.0.0.1", RootCAs: sc.Pool, MinVersion: tls.VersionTLS12, Certificates: certs}
	}
	s := startRetrieveServer(t, []services.Remote{
		{AETitle: "DEST", Host: "127.0.0.1", Port: port, TLS: trusting()},
		{AETitle: "UNTRUSTED", Host: "127.0.0.1", Port: port, TLS: &tls.Config{ServerName: "127.0.0.1", RootCAs: x509.NewCertPool()}},
		{AETitle: "MUTUAL", Host: "127.0.0.1", Port: mport, TLS: trusting(node.Cert)},
		{AETitle: "NOCERT", Host: "127.0.0.1", Port: mport, TLS: trusting()},
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
	// refusedThenMoved moves the study to refused, which must fail and
	// leave dir empty, then to accepted, which must deliver it whole there.
	refusedThenMoved := func(refused, accepted, dir, what string) {
		t.Helper()
		if err := move(refused); err == nil {
			t.Errorf("movescu to %s (%s) succeeded", refused, what)
		}
		if got := readReceived(t, dir); len(got) != 0 {
			t.Fatalf("%d files received from a move to %s (%s)", len(got), refused, what)
		}
		if err := move(accepted); err != nil {
			t.Fatalf("movescu to %s: %v", accepted, err)
		}
		if n := compareRetrieved(t, readReceived(t, dir), studies[study], "movescu to "+accepted); n != len(studies[study]) {
			t.Errorf("%d of %d instances compared", n, len(studies[study]))
		}
	}
	refusedThenMoved("UNTRUSTED", "DEST", dir, "a certificate not trusted")
	refusedThenMoved("NOCERT", "MUTUAL", mdir, "no client certificate, which it requires")
}
