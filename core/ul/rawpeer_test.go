package ul

import (
	"context"
	"errors"
	"testing"
	"time"
)

// recordingServer runs echoHandler and reports the error that ended each
// association's receive loop.
func recordingServer(t *testing.T, opt ServerOptions) (*Server, string, chan error) {
	errs := make(chan error, 16)
	opt.Policy = testPolicy()
	opt.Handler = func(ctx context.Context, a *Association) {
		for {
			_, err := a.ReadPDV(ctx)
			if errors.Is(err, ErrReleaseRequested) {
				errs <- err
				a.ReleaseResponse()
				return
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}
	s, addr := startServer(t, opt)
	return s, addr, errs
}

func wantAbort(t *testing.T, errs chan error, local bool, source, reason byte) {
	t.Helper()
	select {
	case err := <-errs:
		var ae *AbortError
		if !errors.As(err, &ae) || ae.Local != local || ae.Source != source || ae.Reason != reason {
			t.Fatalf("handler error = %v, want abort local=%v source %d reason %d", err, local, source, reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end")
	}
}

// TestRawPeerSta2 covers PDUs that are not A-ASSOCIATE-RQ on a new
// connection: AA-1 (A-ABORT, service-provider source with the reason) or
// AA-2 (close) per PS3.8 Table 9-10.
func TestRawPeerSta2(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: closed without a reply
	}{
		{name: "p-data before association", in: pdataBytes(1, 3, 0), want: abortBytes(2, AbortUnexpectedPDU)},
		{name: "release-rq before association", in: releaseRQBytes, want: abortBytes(2, AbortUnexpectedPDU)},
		{name: "associate-ac to an acceptor", in: pduBytes(TypeAssociateAC, make([]byte, 68)), want: abortBytes(2, AbortUnexpectedPDU)},
		{name: "unrecognized pdu type", in: []byte{0x55, 0, 0, 0, 0, 0}, want: abortBytes(2, AbortUnrecognizedPDU)},
		{name: "invalid associate-rq", in: pduBytes(TypeAssociateRQ, make([]byte, 10)), want: abortBytes(2, AbortInvalidPDUParameterValue)},
		{name: "associate-rq over the limit", in: []byte{1, 0, 0x10, 0, 0, 1}, want: abortBytes(2, AbortInvalidPDUParameterValue)},
		{name: "a-abort", in: abortBytes(0, 0)},
		{name: "truncated", in: []byte{1, 0, 0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, addr, _ := recordingServer(t, ServerOptions{})
			c := rawDial(t, addr)
			c.send(tc.in)
			if tc.name == "truncated" {
				c.Conn.(interface{ CloseWrite() error }).CloseWrite()
			}
			if tc.want != nil {
				c.expect(tc.want)
			}
			c.expectClosed()
			waitIdle(t, s)
		})
	}
}

func TestRawPeerARTIM(t *testing.T) {
	s, addr, _ := recordingServer(t, ServerOptions{AssociateTimeout: 100 * time.Millisecond})
	c := rawDial(t, addr)
	c.expectClosed() // no A-ASSOCIATE-RQ: ARTIM expires, AA-2
	waitIdle(t, s)
}

// TestRawPeerSta6 covers invalid and unexpected PDUs on an established association.
func TestRawPeerSta6(t *testing.T) {
	tests := []struct {
		name       string
		in         []byte
		wantReason byte
	}{
		// PS3.8 §9.3.5: a PDV must use an accepted context; like dcmtk we
		// abort, with reason 6 (invalid PDU parameter value).
		{name: "pdv on unknown context", in: pdataBytes(5, 3, 1), wantReason: AbortInvalidPDUParameterValue},
		{name: "pdv on rejected context", in: pdataBytes(3, 3, 1), wantReason: AbortInvalidPDUParameterValue},
		{name: "associate-rq again", in: pduBytes(TypeAssociateRQ, make([]byte, 68)), wantReason: AbortUnexpectedPDU},
		{name: "release-rp unasked", in: releaseRPBytes, wantReason: AbortUnexpectedPDU},
		{name: "garbage after a valid pdu", in: cat(pdataBytes(1, 3, 1), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), wantReason: AbortUnrecognizedPDU},
		{name: "p-data over max length", in: []byte{4, 0, 0, 1, 0, 7}, wantReason: AbortInvalidPDUParameterValue},
		{name: "malformed pdv", in: []byte{4, 0, 0, 0, 0, 5, 0, 0, 0, 1, 1}, wantReason: AbortInvalidPDUParameterValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, addr, errs := recordingServer(t, ServerOptions{Policy: Policy{}})
			c := rawDial(t, addr)
			ac := c.associate()
			if ac.Contexts[0].Result != 0 || ac.Contexts[1].Result != 3 {
				t.Fatalf("contexts = %+v", ac.Contexts)
			}
			c.send(tc.in)
			c.expect(abortBytes(2, tc.wantReason))
			c.expectClosed()
			wantAbort(t, errs, true, 2, tc.wantReason)
			waitIdle(t, s)
		})
	}
}

// TestRawPeerAbort covers an A-ABORT from the peer in the states the
// network reaches: Sta6 and Sta8 on the acceptor (AA-3).
func TestRawPeerAbort(t *testing.T) {
	s, addr, errs := recordingServer(t, ServerOptions{})
	c := rawDial(t, addr)
	c.associate()
	c.send(abortBytes(0, 0))
	c.expectClosed()
	wantAbort(t, errs, false, 0, 0)
	waitIdle(t, s)

	// Sta8: the handler holds the release request while the peer aborts.
	held := make(chan *Association, 1)
	s2, addr2 := startServer(t, ServerOptions{Policy: testPolicy(), Handler: func(ctx context.Context, a *Association) {
		_, err := a.ReadPDV(ctx)
		if !errors.Is(err, ErrReleaseRequested) {
			t.Errorf("ReadPDV() = %v, want ErrReleaseRequested", err)
		}
		held <- a
		<-a.Done()
	}})
	c2 := rawDial(t, addr2)
	c2.associate()
	c2.send(releaseRQBytes)
	a := <-held
	c2.send(abortBytes(2, 0))
	c2.Close()
	a.ReleaseResponse() // the A-RELEASE-RP may or may not get out; the abort ends it
	<-a.Done()
	waitIdle(t, s2)
}

// TestRawPeerTruncated closes the connection inside a PDU of an established
// association: A-P-ABORT (AA-4), nothing sent.
func TestRawPeerTruncated(t *testing.T) {
	s, addr, errs := recordingServer(t, ServerOptions{})
	c := rawDial(t, addr)
	c.associate()
	c.send([]byte{4, 0, 0, 0, 0, 20, 0, 0})
	c.Close()
	select {
	case err := <-errs:
		var ae *AbortError
		if !errors.As(err, &ae) || ae.Local || ae.Source != SourceServiceProvider {
			t.Fatalf("handler error = %v, want a provider abort", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end")
	}
	waitIdle(t, s)
}

// TestRawPeerReleaseDuringOperation sends A-RELEASE-RQ while the acceptor
// still owes a response: it may send P-DATA in Sta8 (AR-7) before its
// A-RELEASE-RP (AR-4), then it closes after the peer closed.
func TestRawPeerReleaseDuringOperation(t *testing.T) {
	s, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: func(ctx context.Context, a *Association) {
		v, err := a.ReadPDV(ctx)
		if err != nil {
			t.Errorf("ReadPDV() = %v", err)
			return
		}
		if _, err := a.ReadPDV(ctx); !errors.Is(err, ErrReleaseRequested) {
			t.Errorf("ReadPDV() = %v, want ErrReleaseRequested", err)
		}
		if err := a.SendMessage(ctx, v.ContextID, []byte{9, 9}, nil); err != nil {
			t.Errorf("SendMessage() in Sta8 = %v", err)
		}
		if err := a.ReleaseResponse(); err != nil {
			t.Errorf("ReleaseResponse() = %v", err)
		}
		if err := a.ReleaseResponse(); !errors.Is(err, ErrReleased) {
			t.Errorf("second ReleaseResponse() = %v, want ErrReleased", err)
		}
	}})
	c := rawDial(t, addr)
	c.associate()
	c.send(pdataBytes(1, 3, 1, 2), releaseRQBytes)
	c.expect(pdataBytes(1, 3, 9, 9))
	c.expect(releaseRPBytes)
	c.Close()
	waitIdle(t, s)
}

// TestRawPeerRequestorCollision plays an acceptor that answers the
// requestor's A-RELEASE-RQ with its own: the requestor goes Sta7 → Sta9
// (AR-8) → Sta11 (AR-9, sends A-RELEASE-RP) → Sta1 on A-RELEASE-RP (AR-3).
func TestRawPeerRequestorCollision(t *testing.T) {
	ln := listen(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		c := &rawConn{t: t, Conn: conn}
		defer c.Close()
		rq := c.expectType(TypeAssociateRQ).(*AssociateRQ)
		c.sendPDU(&AssociateAC{ProtocolVersion: 1, CalledAE: rq.CalledAE, CallingAE: rq.CallingAE, ApplicationContext: ApplicationContextName,
			Contexts: []PresentationContextAC{{ID: 1, TransferSyntax: implicitLE}}, UserInfo: UserInfo{MaxLength: 1000}})
		c.expect(releaseRQBytes)
		c.send(releaseRQBytes)
		c.expect(releaseRPBytes)
		c.send(releaseRPBytes)
		c.expectClosed()
	}()
	a := mustDial(t, ln.Addr().String(), dialOpts())
	if got := a.PeerMaxPDULength(); got != 1000 {
		t.Errorf("PeerMaxPDULength() = %d, want 1000", got)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	<-a.Done()
	<-done
}

// TestRawPeerAcceptorCollision has the acceptor request the release while
// the requestor does too: Sta7 → Sta10 (AR-8) → Sta12 on A-RELEASE-RP
// (AR-10) → A-RELEASE-RP and Sta13 (AR-4).
func TestRawPeerAcceptorCollision(t *testing.T) {
	result := make(chan error, 1)
	s, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: func(ctx context.Context, a *Association) {
		result <- a.Release(ctx)
	}})
	c := rawDial(t, addr)
	c.associate()
	c.expect(releaseRQBytes)
	c.send(releaseRQBytes)
	c.send(releaseRPBytes)
	c.expect(releaseRPBytes)
	c.Close()
	if err := <-result; err != nil {
		t.Fatalf("Release() = %v", err)
	}
	waitIdle(t, s)
}

// TestRawPeerSta5 answers an A-ASSOCIATE-RQ with PDUs other than AC/RJ.
func TestRawPeerSta5(t *testing.T) {
	tests := []struct {
		name     string
		reply    []byte
		wantSent []byte // the requestor's A-ABORT, nil for none
		source   byte
		reason   byte
	}{
		{name: "a-abort", reply: abortBytes(2, 1), source: 2, reason: 1},
		{name: "p-data", reply: pdataBytes(1, 3), wantSent: abortBytes(2, AbortUnexpectedPDU), source: 2, reason: AbortUnexpectedPDU},
		{name: "unknown pdu", reply: []byte{9, 0, 0, 0, 0, 0}, wantSent: abortBytes(2, AbortUnrecognizedPDU), source: 2, reason: AbortUnrecognizedPDU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln := listen(t)
			go func() {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				c := &rawConn{t: t, Conn: conn}
				defer c.Close()
				c.expectType(TypeAssociateRQ)
				c.send(tc.reply)
				if tc.wantSent != nil {
					c.expect(tc.wantSent)
				}
			}()
			_, err := Dial(context.Background(), "tcp", ln.Addr().String(), dialOpts())
			var ae *AbortError
			if !errors.As(err, &ae) || ae.Source != tc.source || ae.Reason != tc.reason {
				t.Fatalf("Dial() = %v, want abort source %d reason %d", err, tc.source, tc.reason)
			}
		})
	}
}

// TestRawPeerRejections checks the exact A-ASSOCIATE-RJ for requests the
// provider refuses.
func TestRawPeerRejections(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*AssociateRQ)
		want   []byte
	}{
		{name: "protocol version", modify: func(rq *AssociateRQ) { rq.ProtocolVersion = 2 }, want: []byte{3, 0, 0, 0, 0, 4, 0, 1, 2, 2}},
		{name: "application context", modify: func(rq *AssociateRQ) { rq.ApplicationContext = "1.2.3" }, want: []byte{3, 0, 0, 0, 0, 4, 0, 1, 1, 2}},
		{name: "no application context", modify: func(rq *AssociateRQ) { rq.ApplicationContext = "" }, want: []byte{3, 0, 0, 0, 0, 4, 0, 1, 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, addr, _ := recordingServer(t, ServerOptions{})
			c := rawDial(t, addr)
			rq := testRQ()
			tc.modify(rq)
			c.sendPDU(rq)
			c.expect(tc.want)
			c.Close()
			waitIdle(t, s)
		})
	}
}
