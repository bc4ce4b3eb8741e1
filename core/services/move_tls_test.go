package services

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
	"github.com/pacsforge/pacs/internal/peertest"
)

// TestMoveTLS: a remote with a TLS configuration is reached over TLS, and
// its certificate is verified.
func TestMoveTLS(t *testing.T) {
	sc := peertest.NewServerCert(t)
	dest := newSink()
	mux := dimse.NewMux(nil)
	mux.HandleCStore(dimse.AnySOPClass, dest.handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := ul.NewServer(ul.ServerOptions{Policy: ul.Policy{AETitle: "SECURE", AcceptAny: true,
		DefaultSyntaxes: []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.JPEGBaseline8Bit}},
		Handler: func(ctx context.Context, a *ul.Association) { dimse.Serve(ctx, a, mux) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		srv.Serve(ctx, tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{sc.Cert}}))
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	port := addr2port(t, ln.Addr().String())

	s := startQR(t, []Remote{
		{AETitle: "SECURE", Host: "127.0.0.1", Port: port, TLS: &tls.Config{ServerName: "127.0.0.1", RootCAs: sc.Pool}},
		{AETitle: "UNTRUSTED", Host: "127.0.0.1", Port: port, TLS: &tls.Config{ServerName: "127.0.0.1", RootCAs: x509.NewCertPool()}},
		{AETitle: "CLEAR", Host: "127.0.0.1", Port: port},
	})
	c := dial(t, s.addr, dimse.ClientOptions{})
	study := identifier(t, "STUDY", map[dicom.Tag][]string{dicom.StudyInstanceUID: {"1.9.2"}})

	st, n, _ := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, "SECURE", study)
	if st.Code != dimse.CodeSuccess || n.Completed != 2 {
		t.Errorf("move over TLS: %v %+v, want success with 2 completed", st, n)
	}
	checkReceived(t, s, dest.received(), "1.9.2.1.1", "1.9.2.1.2")
	for _, ae := range []string{"UNTRUSTED", "CLEAR"} {
		st, n, _ := moveFinal(t, c, uid.StudyRootQueryRetrieveInformationModelMove, ae, study)
		if st.Code != dimse.CodeOutOfResourcesSubOps || n.Failed != 2 {
			t.Errorf("move to %s: %v %+v, want A702 with 2 failed (no association)", ae, st, n)
		}
	}
}
