package ul

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/internal/peertest"
)

// TestServeTLS: one server on a plain listener and a TLS one that requires
// a client certificate. Each listener admits what it should and refuses the
// rest, the server keeps serving after a refused handshake, the handler
// sees the peer's certificate, and Shutdown closes both listeners.
func TestServeTLS(t *testing.T) {
	sc := peertest.NewServerCert(t)
	client := peertest.NewClientCert(t, "MODALITY-1")
	other := peertest.NewClientCert(t, "INTRUDER")

	var mu sync.Mutex
	var peers []string // the peer certificate's subject per association, "" in the clear
	logs := &peertest.SyncBuffer{}
	s := NewServer(ServerOptions{Policy: testPolicy(), AssociateTimeout: 2 * time.Second,
		Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}),
		Handler: func(ctx context.Context, a *Association) {
			peer := ""
			if st := a.TLS(); st != nil && len(st.PeerCertificates) > 0 {
				peer = st.PeerCertificates[0].Subject.CommonName
			}
			mu.Lock()
			peers = append(peers, peer)
			mu.Unlock()
			echoHandler(ctx, a)
		}})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		return ln
	}
	plain, secure := listen(), listen()
	served := make(chan error, 2)
	go func() { served <- s.Serve(context.Background(), plain) }()
	go func() {
		served <- s.Serve(context.Background(), tls.NewListener(secure, &tls.Config{
			Certificates: []tls.Certificate{sc.Cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: client.Pool,
			MinVersion: tls.VersionTLS12}))
	}()

	dial := func(addr string, cfg *tls.Config) error {
		opt := dialOpts()
		opt.TLS = cfg
		opt.AssociateTimeout = 2 * time.Second
		a, err := Dial(context.Background(), "tcp", addr, opt)
		if err != nil {
			return err
		}
		return a.Release(context.Background())
	}
	trusted := func(c *peertest.Cert) *tls.Config {
		cfg := &tls.Config{ServerName: "127.0.0.1", RootCAs: sc.Pool, MinVersion: tls.VersionTLS12}
		if c != nil {
			cfg.Certificates = []tls.Certificate{c.Cert}
		}
		return cfg
	}
	if err := dial(plain.Addr().String(), nil); err != nil {
		t.Errorf("plain listener, in the clear: %v", err)
	}
	if err := dial(secure.Addr().String(), trusted(client)); err != nil {
		t.Errorf("TLS listener, trusted client certificate: %v", err)
	}
	for name, cfg := range map[string]*tls.Config{
		"no client certificate":        trusted(nil),
		"untrusted client certificate": trusted(other),
		"in the clear":                 nil,
	} {
		if err := dial(secure.Addr().String(), cfg); err == nil {
			t.Errorf("TLS listener, %s: association established", name)
		}
	}
	// A port probe (connected, closed) is not a failed handshake. The
	// server logs a failure after the client has seen it: wait for all.
	failed := func() int { return strings.Count(logs.String(), "TLS handshake failed") }
	for deadline := time.Now().Add(10 * time.Second); failed() < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	before := failed()
	if probe, err := net.Dial("tcp", secure.Addr().String()); err == nil {
		probe.Close()
	}
	// Still serving, on both.
	if err := dial(secure.Addr().String(), trusted(client)); err != nil {
		t.Errorf("TLS listener after refused handshakes: %v", err)
	}
	if err := dial(plain.Addr().String(), nil); err != nil {
		t.Errorf("plain listener after refused handshakes: %v", err)
	}
	waitIdle(t, s)
	if after := failed(); before != 3 || after != before {
		t.Errorf("%d failed handshakes logged before the probe, want 3, and %d after it:\n%s", before, after, logs.String())
	}
	mu.Lock()
	got := append([]string(nil), peers...)
	mu.Unlock()
	want := []string{"", "MODALITY-1", "MODALITY-1", ""}
	if len(got) != len(want) {
		t.Fatalf("handlers ran for %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("association %d: peer certificate %q, want %q", i, got[i], want[i])
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	}
}
