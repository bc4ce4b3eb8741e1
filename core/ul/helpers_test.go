package ul

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// testPolicy accepts Verification and CT Image Storage.
func testPolicy() Policy {
	return Policy{AETitle: "SCP", Syntaxes: map[string][]string{
		verification: {implicitLE},
		ctImage:      {explicitLE, implicitLE},
	}}
}

// startServer serves opt on a loopback listener until the test ends.
func startServer(t testing.TB, opt ServerOptions) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opt.AssociateTimeout == 0 {
		opt.AssociateTimeout = 2 * time.Second
	}
	s := NewServer(opt)
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve() = %v, want ErrServerClosed", err)
		}
	})
	return s, ln.Addr().String()
}

// echoHandler sends each message it receives back on the same context.
func echoHandler(ctx context.Context, a *Association) {
	var cmd, data []byte
	for {
		v, err := a.ReadPDV(ctx)
		if errors.Is(err, ErrReleaseRequested) {
			a.ReleaseResponse()
			return
		}
		if err != nil {
			return
		}
		if v.Command {
			cmd = append(cmd, v.Data...)
			continue
		}
		data = append(data, v.Data...)
		if v.Last {
			if err := a.SendMessage(ctx, v.ContextID, cmd, bytes.NewReader(data)); err != nil {
				return
			}
			cmd, data = nil, nil
		}
	}
}

// readMessage reads one command and data set from a.
func readMessage(ctx context.Context, a *Association) (ctxID byte, cmd, data []byte, err error) {
	for {
		v, err := a.ReadPDV(ctx)
		if err != nil {
			return 0, nil, nil, err
		}
		ctxID = v.ContextID
		if v.Command {
			cmd = append(cmd, v.Data...)
			continue
		}
		data = append(data, v.Data...)
		if v.Last {
			return ctxID, cmd, data, nil
		}
	}
}

func dialOpts(contexts ...ProposedContext) DialOptions {
	if len(contexts) == 0 {
		contexts = []ProposedContext{{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}}}
	}
	return DialOptions{CallingAE: "SCU", CalledAE: "SCP", Contexts: contexts, AssociateTimeout: 2 * time.Second}
}

func mustDial(t testing.TB, addr string, opt DialOptions) *Association {
	t.Helper()
	a, err := Dial(context.Background(), "tcp", addr, opt)
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	return a
}

// rawConn is a scripted peer speaking raw PDU bytes.
type rawConn struct {
	t testing.TB
	net.Conn
}

func rawDial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, Conn: c}
}

func (c *rawConn) send(b ...[]byte) {
	c.t.Helper()
	if _, err := c.Write(cat(b...)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *rawConn) sendPDU(p PDU) {
	c.t.Helper()
	b, err := AppendPDU(nil, p)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(b)
}

// readRaw reads one PDU's bytes.
func (c *rawConn) readRaw() []byte {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 6)
	if _, err := io.ReadFull(c, hdr); err != nil {
		c.t.Fatalf("read pdu header: %v", err)
	}
	n := int(hdr[2])<<24 | int(hdr[3])<<16 | int(hdr[4])<<8 | int(hdr[5])
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		c.t.Fatalf("read pdu body: %v", err)
	}
	return cat(hdr, body)
}

// expect asserts the exact bytes of the next PDU.
func (c *rawConn) expect(want []byte) {
	c.t.Helper()
	if got := c.readRaw(); !bytes.Equal(got, want) {
		c.t.Fatalf("received\n% x\nwant\n% x", got, want)
	}
}

// expectType reads the next PDU and asserts its type.
func (c *rawConn) expectType(want PDUType) PDU {
	c.t.Helper()
	b := c.readRaw()
	p, err := ReadPDU(bytes.NewReader(b), 0)
	if err != nil || p.Type() != want {
		c.t.Fatalf("received %v (% x), %v; want %s", p, b, err, want)
	}
	return p
}

// expectClosed asserts the peer closes (or half-closes) the connection,
// then closes it as PS3.8 AA-3 and AR-3 do.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	c.Close()
	if err != nil || len(b) != 0 {
		c.t.Fatalf("after close: read % x, %v; want EOF", b, err)
	}
}

// associate sends a standard A-ASSOCIATE-RQ and expects A-ASSOCIATE-AC.
func (c *rawConn) associate() *AssociateAC {
	c.t.Helper()
	c.sendPDU(testRQ())
	return c.expectType(TypeAssociateAC).(*AssociateAC)
}

func testRQ() *AssociateRQ {
	return &AssociateRQ{ProtocolVersion: 1, CalledAE: "SCP", CallingAE: "RAW", ApplicationContext: ApplicationContextName,
		Contexts: []PresentationContextRQ{{ID: 1, AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}},
			{ID: 3, AbstractSyntax: "1.2.3.4", TransferSyntaxes: []string{implicitLE}}},
		UserInfo: UserInfo{MaxLength: 16384, ImplementationClassUID: "1.2.3"}}
}

func abortBytes(source, reason byte) []byte { return []byte{7, 0, 0, 0, 0, 4, 0, 0, source, reason} }

var (
	releaseRQBytes = []byte{5, 0, 0, 0, 0, 4, 0, 0, 0, 0}
	releaseRPBytes = []byte{6, 0, 0, 0, 0, 4, 0, 0, 0, 0}
)

func pdataBytes(ctxID, header byte, data ...byte) []byte {
	n := len(data) + 2
	return cat([]byte{4, 0, 0, 0, 0, byte(n + 4), 0, 0, 0, byte(n), ctxID, header}, data)
}

// waitIdle waits until the server serves no connection.
func waitIdle(t testing.TB, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Active() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Active() = %d after 5s, want 0", s.Active())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
