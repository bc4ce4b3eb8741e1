package ul

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestNegotiationContexts(t *testing.T) {
	pol := testPolicy()
	pol.Syntaxes["1.2.9"] = nil
	_, addr := startServer(t, ServerOptions{Policy: pol})
	a := mustDial(t, addr, dialOpts(
		ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE, explicitLE}},     // acceptor prefers explicit
		ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}},                 // a second context, same class
		ProposedContext{AbstractSyntax: "1.2.3.4", TransferSyntaxes: []string{implicitLE}},               // 3 abstract syntax not supported
		ProposedContext{AbstractSyntax: verification, TransferSyntaxes: []string{"1.2.840.10008.1.2.5"}}, // 4 transfer syntaxes not supported
		ProposedContext{ID: 11, AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}},
	))
	defer a.Close()
	want := []PresentationContext{
		{ID: 1, AbstractSyntax: ctImage, TransferSyntax: explicitLE, SCURole: true},
		{ID: 3, AbstractSyntax: ctImage, TransferSyntax: implicitLE, SCURole: true},
		{ID: 5, AbstractSyntax: "1.2.3.4", Result: 3, SCURole: true},
		{ID: 7, AbstractSyntax: verification, Result: 4, SCURole: true},
		{ID: 11, AbstractSyntax: verification, TransferSyntax: implicitLE, SCURole: true},
	}
	if got := a.Contexts(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Contexts() =\n%+v\nwant\n%+v", got, want)
	}
	if pc, ok := a.FindContext(ctImage, implicitLE); !ok || pc.ID != 3 {
		t.Errorf("FindContext(ct, implicit) = %+v, %v; want ID 3", pc, ok)
	}
	if pc, ok := a.FindContext(ctImage); !ok || pc.ID != 1 {
		t.Errorf("FindContext(ct) = %+v, %v; want ID 1", pc, ok)
	}
	if _, ok := a.FindContext("1.2.3.4"); ok {
		t.Error("FindContext found a rejected context")
	}
	if pc, ok := a.Context(7); !ok || pc.Accepted() {
		t.Errorf("Context(7) = %+v, %v", pc, ok)
	}
	if got, want := a.PeerMaxPDULength(), DefaultMaxPDULength; got != want {
		t.Errorf("PeerMaxPDULength() = %d, want %d", got, want)
	}
	if cls, ver := a.PeerImplementation(); cls == "" || ver == "" {
		t.Errorf("PeerImplementation() = %q, %q", cls, ver)
	}
	if err := a.SendMessage(context.Background(), 5, []byte{1}, nil); err == nil {
		t.Error("SendMessage() on a rejected context succeeded")
	}
}

func TestNegotiationRolesAndAsync(t *testing.T) {
	pol := testPolicy()
	pol.Roles = func(as string, scu, scp bool) (bool, bool) { return true, as == ctImage }
	pol.AsyncOps = AsyncOps{Invoked: 4, Performed: 2}
	var gotAssoc = make(chan *Association, 1)
	_, addr := startServer(t, ServerOptions{Policy: pol, Handler: func(ctx context.Context, a *Association) {
		gotAssoc <- a
		echoHandler(ctx, a)
	}})
	a := mustDial(t, addr, DialOptions{CallingAE: "SCU", CalledAE: "SCP", AsyncOps: &AsyncOps{Invoked: 10, Performed: 0},
		Contexts: []ProposedContext{
			{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}, SCURole: ptr(false), SCPRole: ptr(true)},
			{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}, SCPRole: ptr(true)},
			{AbstractSyntax: ctImage, TransferSyntaxes: []string{explicitLE}},
		}})
	defer a.Close()
	got := a.Contexts()
	if !got[0].SCPRole || got[0].SCURole {
		t.Errorf("ct roles = scu %v scp %v, want scp only", got[0].SCURole, got[0].SCPRole)
	}
	if got[1].SCPRole || !got[1].SCURole {
		t.Errorf("verification roles = scu %v scp %v, want scu only (scp refused)", got[1].SCURole, got[1].SCPRole)
	}
	if !got[2].SCPRole {
		t.Errorf("second ct context: role selection applies per SOP class")
	}
	if inv, perf := a.AsyncOps(); inv != 4 || perf != 2 {
		t.Errorf("AsyncOps() = %d, %d; want 4, 2", inv, perf)
	}
	sa := <-gotAssoc
	if inv, perf := sa.AsyncOps(); inv != 4 || perf != 2 {
		t.Errorf("acceptor AsyncOps() = %d, %d; want 4, 2", inv, perf)
	}
	if pc, _ := sa.Context(1); !pc.SCPRole || pc.SCURole {
		t.Errorf("acceptor context 1 = %+v", pc)
	}
	if sa.CallingAE() != "SCU" || sa.CalledAE() != "SCP" {
		t.Errorf("acceptor AEs = %q, %q", sa.CallingAE(), sa.CalledAE())
	}
}

func TestNegotiationNoRoleReply(t *testing.T) {
	// Without a role selection item the AC carries none and defaults apply.
	n := testPolicy()
	neg := n.negotiate(context.Background(), testRQ(), nil, "1.2", "V")
	if neg.ac == nil || len(neg.ac.UserInfo.Roles) != 0 || neg.ac.UserInfo.AsyncOps != nil || neg.ac.UserInfo.UserIdentityResponse != nil {
		t.Fatalf("negotiate() = %+v", neg.ac)
	}
}

func TestUserIdentity(t *testing.T) {
	tests := []struct {
		name     string
		id       UserIdentity
		wantResp []byte // nil: no 0x59 item expected
	}{
		{name: "username", id: UserIdentity{Type: IdentityUsername, Primary: []byte("alice"), PositiveResponseRequested: true}, wantResp: []byte{}},
		{name: "username and passcode", id: UserIdentity{Type: IdentityUsernamePasscode, Primary: []byte("alice"), Secondary: []byte("secret")}},
		{name: "kerberos", id: UserIdentity{Type: IdentityKerberos, Primary: []byte{0x60, 0x82, 1, 2}, PositiveResponseRequested: true}, wantResp: []byte("kerberos-reply")},
		{name: "saml", id: UserIdentity{Type: IdentitySAML, Primary: []byte("<saml:Assertion/>"), PositiveResponseRequested: true}, wantResp: []byte("saml-reply")},
		{name: "jwt", id: UserIdentity{Type: IdentityJWT, Primary: []byte("eyJhbGciOi.x.y"), PositiveResponseRequested: true}, wantResp: []byte("jwt-reply")},
	}
	replies := map[byte][]byte{IdentityKerberos: []byte("kerberos-reply"), IdentitySAML: []byte("saml-reply"), IdentityJWT: []byte("jwt-reply")}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := testPolicy()
			seen := make(chan UserIdentity, 1)
			pol.Authenticate = func(ctx context.Context, id *UserIdentity, addr net.Addr) ([]byte, error) {
				seen <- *id
				return replies[id.Type], nil
			}
			got := make(chan *UserIdentity, 1)
			_, addr := startServer(t, ServerOptions{Policy: pol, Handler: func(ctx context.Context, a *Association) {
				got <- a.UserIdentity()
				echoHandler(ctx, a)
			}})
			// Check the AC item on the wire with a raw requestor.
			c := rawDial(t, addr)
			rq := testRQ()
			rq.UserInfo.UserIdentity = &tc.id
			c.sendPDU(rq)
			ac := c.expectType(TypeAssociateAC).(*AssociateAC)
			r := ac.UserInfo.UserIdentityResponse
			switch {
			case tc.wantResp == nil && r != nil:
				t.Errorf("unexpected user identity response %+v", r)
			case tc.wantResp != nil && (r == nil || !bytes.Equal(r.ServerResponse, tc.wantResp)):
				t.Errorf("user identity response = %+v, want %q", r, tc.wantResp)
			}
			if id := <-seen; !reflect.DeepEqual(id, tc.id) {
				t.Errorf("Authenticate got %+v, want %+v", id, tc.id)
			}
			if id := <-got; id == nil || !reflect.DeepEqual(*id, tc.id) {
				t.Errorf("UserIdentity() = %+v", id)
			}
			c.send(releaseRQBytes)
			c.expect(releaseRPBytes)
		})
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name   string
		policy func(*Policy)
		opt    func(*DialOptions)
		want   RejectError
		wantIs error
	}{
		{name: "called ae", policy: func(p *Policy) { p.StrictCalledAE = true }, opt: func(o *DialOptions) { o.CalledAE = "OTHER" },
			want: RejectError{1, 1, 7}, wantIs: ErrUnknownCalledAE},
		{name: "calling ae", policy: func(p *Policy) { p.AllowCallingAE = func(ae string, _ net.Addr) bool { return ae == "FRIEND" } },
			want: RejectError{1, 1, 3}, wantIs: ErrUnknownCallingAE},
		{name: "authentication", policy: func(p *Policy) {
			p.Authenticate = func(context.Context, *UserIdentity, net.Addr) ([]byte, error) { return nil, errors.New("bad password") }
		}, opt: func(o *DialOptions) {
			o.UserIdentity = &UserIdentity{Type: IdentityUsernamePasscode, Primary: []byte("u"), Secondary: []byte("p")}
		}, want: RejectError{1, 1, 1}, wantIs: ErrRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pol := testPolicy()
			tc.policy(&pol)
			s, addr := startServer(t, ServerOptions{Policy: pol})
			opt := dialOpts()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			_, err := Dial(context.Background(), "tcp", addr, opt)
			var rj *RejectError
			if !errors.As(err, &rj) || *rj != tc.want || !errors.Is(err, tc.wantIs) || !errors.Is(err, ErrRejected) {
				t.Fatalf("Dial() = %v, want %v", err, &tc.want)
			}
			waitIdle(t, s)
		})
	}
}

func TestMaxAssociations(t *testing.T) {
	hold := make(chan struct{})
	s, addr := startServer(t, ServerOptions{Policy: testPolicy(), MaxAssociations: 1, Handler: func(ctx context.Context, a *Association) {
		<-hold
		echoHandler(ctx, a)
	}})
	a := mustDial(t, addr, dialOpts())
	_, err := Dial(context.Background(), "tcp", addr, dialOpts())
	var rj *RejectError
	if !errors.As(err, &rj) || *rj != (RejectError{Result: 2, Source: 3, Reason: 2}) {
		t.Fatalf("second Dial() = %v, want rejection (2,3,2)", err)
	}
	close(hold)
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s)
	b := mustDial(t, addr, dialOpts()) // room again
	b.Release(context.Background())
}

func TestSendMessageFragments(t *testing.T) {
	pol := testPolicy()
	pol.MaxPDULength = 1024
	received := make(chan []PDV, 1)
	_, addr := startServer(t, ServerOptions{Policy: pol, Handler: func(ctx context.Context, a *Association) {
		var pdvs []PDV
		for {
			v, err := a.ReadPDV(ctx)
			if err != nil {
				received <- pdvs
				if errors.Is(err, ErrReleaseRequested) {
					a.ReleaseResponse()
				}
				return
			}
			v.Data = bytes.Clone(v.Data)
			pdvs = append(pdvs, v)
		}
	}})
	a := mustDial(t, addr, dialOpts())
	cmd := bytes.Repeat([]byte{0xc}, 1500)
	data := make([]byte, 10000)
	for i := range data {
		data[i] = byte(i)
	}
	if err := a.SendMessage(context.Background(), 1, cmd, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMessage(context.Background(), 1, []byte{1}, bytes.NewReader(nil)); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	pdvs := <-received
	var gotCmd, gotData []byte
	for i, v := range pdvs {
		if len(v.Data)+pdvHeaderLength > 1024 {
			t.Errorf("pdv %d of %d bytes exceeds the peer's maximum", i, len(v.Data))
		}
		if v.Command {
			gotCmd = append(gotCmd, v.Data...)
		} else {
			gotData = append(gotData, v.Data...)
		}
	}
	// 1500 command bytes: 2 PDVs; 10000 data bytes: 10; the second message: 2.
	if len(pdvs) != 14 || !pdvs[1].Last || pdvs[0].Last || !pdvs[11].Last || pdvs[10].Last || !pdvs[13].Last || len(pdvs[13].Data) != 0 {
		t.Errorf("pdv layout wrong: %d pdvs", len(pdvs))
	}
	if !bytes.Equal(gotCmd, append(cmd, 1)) || !bytes.Equal(gotData, data) {
		t.Error("reassembled message differs")
	}
}

func TestEchoRoundTrip(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler})
	a := mustDial(t, addr, dialOpts())
	ctx := context.Background()
	data := bytes.Repeat([]byte("pixel"), 50000)
	if err := a.SendMessage(ctx, 1, []byte("cmd"), bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	id, cmd, got, err := readMessage(ctx, a)
	if err != nil || id != 1 || string(cmd) != "cmd" || !bytes.Equal(got, data) {
		t.Fatalf("echo = %d %q %d bytes, %v", id, cmd, len(got), err)
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadPDV(ctx); !errors.Is(err, ErrReleased) {
		t.Fatalf("ReadPDV() after release = %v, want ErrReleased", err)
	}
	if err := a.SendMessage(ctx, 1, []byte("x"), nil); !errors.Is(err, ErrReleased) {
		t.Fatalf("SendMessage() after release = %v, want ErrReleased", err)
	}
	if err := a.Release(ctx); !errors.Is(err, ErrReleased) {
		t.Fatalf("second Release() = %v, want ErrReleased", err)
	}
}

// TestReleaseWhileReading releases from one goroutine while another sits in ReadPDV.
func TestReleaseWhileReading(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler})
	a := mustDial(t, addr, dialOpts())
	read := make(chan error, 1)
	go func() {
		_, err := a.ReadPDV(context.Background())
		read <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := a.Release(context.Background()); err != nil {
		t.Fatalf("Release() = %v", err)
	}
	if err := <-read; !errors.Is(err, ErrReleased) {
		t.Fatalf("ReadPDV() = %v, want ErrReleased", err)
	}
}

func TestIdleTimeout(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler, IdleTimeout: 50 * time.Millisecond})
	a := mustDial(t, addr, dialOpts())
	_, err := a.ReadPDV(context.Background())
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Local || ae.Source != SourceServiceProvider {
		t.Fatalf("ReadPDV() = %v, want the acceptor's provider abort", err)
	}
}

func TestReadPDVCancel(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler})
	a := mustDial(t, addr, dialOpts())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := a.ReadPDV(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadPDV() = %v, want DeadlineExceeded", err)
	}
	// Nothing was consumed: the association goes on.
	if err := a.Release(context.Background()); err != nil {
		t.Fatalf("Release() after a cancelled read = %v", err)
	}
}

func TestShutdown(t *testing.T) {
	t.Run("graceful", func(t *testing.T) {
		s, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler})
		a := mustDial(t, addr, dialOpts())
		go func() {
			time.Sleep(50 * time.Millisecond)
			a.Release(context.Background())
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatalf("Shutdown() = %v", err)
		}
		if _, err := Dial(context.Background(), "tcp", addr, dialOpts()); err == nil {
			t.Fatal("Dial() after Shutdown succeeded")
		}
	})
	t.Run("deadline aborts", func(t *testing.T) {
		s, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: echoHandler})
		a := mustDial(t, addr, dialOpts())
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown() = %v, want DeadlineExceeded", err)
		}
		if _, err := a.ReadPDV(context.Background()); !errors.Is(err, ErrAborted) {
			t.Fatalf("ReadPDV() = %v, want aborted", err)
		}
		if s.Active() != 0 {
			t.Fatalf("Active() = %d after Shutdown", s.Active())
		}
	})
	t.Run("serve context", func(t *testing.T) {
		ln := listen(t)
		s := NewServer(ServerOptions{Policy: testPolicy(), Handler: echoHandler})
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- s.Serve(ctx, ln) }()
		a := mustDial(t, ln.Addr().String(), dialOpts())
		cancel()
		if err := <-served; !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve() = %v, want Canceled", err)
		}
		if _, err := a.ReadPDV(context.Background()); !errors.Is(err, ErrAborted) {
			t.Fatalf("ReadPDV() = %v, want aborted", err)
		}
	})
}

func TestHandlerPanic(t *testing.T) {
	s, addr := startServer(t, ServerOptions{Policy: testPolicy(), Handler: func(ctx context.Context, a *Association) {
		panic("handler bug")
	}})
	a := mustDial(t, addr, dialOpts())
	_, err := a.ReadPDV(context.Background())
	var ae *AbortError
	if !errors.As(err, &ae) || ae.Source != SourceServiceProvider {
		t.Fatalf("ReadPDV() = %v, want a provider abort", err)
	}
	waitIdle(t, s)
}

// TestManyAssociations runs 200 concurrent echo associations and checks that
// every goroutine ends.
func TestManyAssociations(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		ln := listen(t)
		s := NewServer(ServerOptions{Policy: testPolicy(), Handler: echoHandler, MaxAssociations: 250})
		served := make(chan error, 1)
		go func() { served <- s.Serve(context.Background(), ln) }()
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := context.Background()
				a, err := Dial(ctx, "tcp", ln.Addr().String(), dialOpts())
				if err != nil {
					errs <- err
					return
				}
				msg := []byte(fmt.Sprint("message ", i))
				if err := a.SendMessage(ctx, 1, msg, bytes.NewReader(msg)); err != nil {
					errs <- err
					return
				}
				if _, _, data, err := readMessage(ctx, a); err != nil || !bytes.Equal(data, msg) {
					errs <- fmt.Errorf("echo %d: %q, %v", i, data, err)
					return
				}
				if err := a.Release(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
		<-served
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, baseline %d:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

func TestStateTable(t *testing.T) {
	// Every PDU event has an action in every state where the network can
	// deliver one (all but Sta1 and Sta4), per PS3.8 Table 9-10.
	for _, ev := range []event{evt3, evt4, evt6, evt10, evt12, evt13, evt16, evt17, evt19} {
		for st := sta2; st <= sta13; st++ {
			if st == sta4 && ev != evt17 {
				continue
			}
			if lookup(ev, st) == none {
				t.Errorf("no action for %s in %s", ev, st)
			}
		}
	}
	if lookup(evt12, sta7) != ar8 || lookup(evt13, sta10) != ar10 || lookup(evt13, sta11) != ar3 || lookup(evt14, sta9) != ar9 {
		t.Error("release collision transitions wrong")
	}
	if lookup(evt15, sta4) != aa2 || lookup(evt18, sta13) != aa2 || lookup(evt17, sta13) != ar5 {
		t.Error("abort and ARTIM transitions wrong")
	}
}

func TestMaxAssociationsPerAE(t *testing.T) {
	hold := make(chan struct{})
	s, addr := startServer(t, ServerOptions{Policy: testPolicy(), MaxAssociations: 4, MaxAssociationsPerAE: 1,
		Handler: func(ctx context.Context, a *Association) {
			<-hold
			echoHandler(ctx, a)
		}})
	from := func(ae string) DialOptions {
		o := dialOpts()
		o.CallingAE = ae
		return o
	}
	a := mustDial(t, addr, from("MODALITY1"))
	_, err := Dial(context.Background(), "tcp", addr, from("MODALITY1"))
	var rj *RejectError
	if !errors.As(err, &rj) || *rj != (RejectError{Result: 2, Source: 3, Reason: 2}) {
		t.Fatalf("second Dial() from the same AE = %v, want rejection (2,3,2)", err)
	}
	b := mustDial(t, addr, from("MODALITY2")) // another AE title has its own limit
	close(hold)
	for _, x := range []*Association{a, b} {
		if err := x.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	waitIdle(t, s)
	c := mustDial(t, addr, from("MODALITY1")) // room again
	c.Release(context.Background())
}

// stallReader returns its data, then blocks until release is closed.
type stallReader struct {
	data    io.Reader
	release chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	n, err := r.data.Read(p)
	if err == io.EOF {
		<-r.release
	}
	return n, err
}

func TestDIMSETimeout(t *testing.T) {
	const dimse = 100 * time.Millisecond
	ended := make(chan error, 1)
	_, addr := startServer(t, ServerOptions{Policy: testPolicy(), IdleTimeout: time.Hour, DIMSETimeout: dimse,
		Handler: func(ctx context.Context, a *Association) {
			for {
				var cmd, data []byte
				var err error
				for { // the command
					var v PDV
					if v, err = a.ReadPDV(ctx); err != nil {
						break
					}
					cmd = append(cmd, v.Data...)
					if v.Last {
						break
					}
				}
				if err == nil && string(cmd) == "expect" {
					a.ExpectFragments() // as DIMSE does for a command announcing a data set
				}
				for err == nil { // the data set
					var v PDV
					if v, err = a.ReadPDV(ctx); err == nil {
						data = append(data, v.Data...)
						if v.Last {
							break
						}
					}
				}
				if err != nil {
					ended <- err
					return
				}
				if err := a.SendMessage(ctx, 1, cmd, bytes.NewReader(data)); err != nil {
					ended <- err
					return
				}
			}
		}})
	// timedOut waits for the handler's read to fail with ErrTimeout.
	timedOut := func(what string) {
		t.Helper()
		select {
		case err := <-ended:
			if !errors.Is(err, ErrTimeout) {
				t.Fatalf("%s: the handler's read = %v, want ErrTimeout", what, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s was not timed out", what)
		}
	}
	a := mustDial(t, addr, dialOpts())
	// Between messages only the idle timeout applies: a pause of several
	// DIMSE timeouts ends nothing.
	if err := a.SendMessage(context.Background(), 1, []byte("command"), bytes.NewReader([]byte("data"))); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := readMessage(context.Background(), a); err != nil {
		t.Fatalf("reply: %v", err)
	}
	time.Sleep(3 * dimse)
	select {
	case err := <-ended:
		t.Fatalf("association ended between messages: %v", err)
	default:
	}
	// So is a command announcing a data set that does not come, once the
	// receiver expects it.
	if err := a.SendMessage(context.Background(), 1, []byte("expect"), nil); err != nil {
		t.Fatal(err)
	}
	timedOut("a data set announced and not sent")
	a = mustDial(t, addr, dialOpts())
	// A data set that stops arriving in the middle is aborted once the
	// DIMSE timeout has passed, long before the idle timeout.
	stall := &stallReader{data: bytes.NewReader(make([]byte, 3*DefaultMaxPDULength)), release: make(chan struct{})}
	defer close(stall.release)
	go a.SendMessage(context.Background(), 1, []byte("command"), stall)
	timedOut("a stalled data set")
}
