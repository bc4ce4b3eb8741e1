package ul

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom/uid"
)

// ServerOptions configures a Server. Zero values are documented per field.
type ServerOptions struct {
	// Policy is the negotiation of each association.
	Policy Policy
	// MaxAssociations bounds concurrent associations (0: unlimited). One
	// more is rejected with (2,3,2): transient, service-provider
	// (presentation related), local limit exceeded (PS3.8 Table 9-21).
	MaxAssociations int
	// MaxAssociationsPerAE bounds the concurrent associations of one
	// calling AE title (0: unlimited). One more is rejected as one over
	// MaxAssociations is.
	MaxAssociationsPerAE int
	// AssociateTimeout is the ARTIM timeout: from the connection to the
	// A-ASSOCIATE-RQ, and for the peer to close after a final PDU (0:
	// DefaultAssociateTimeout).
	AssociateTimeout time.Duration
	// IdleTimeout aborts an association when no PDU arrives, or no PDU can
	// be sent, for this long (0: none).
	IdleTimeout time.Duration
	// DIMSETimeout aborts an association when, in the middle of a message
	// (after a fragment of a command or data set that was not its last, or
	// a command whose data set the receiver awaits: ExpectFragments), the
	// next PDU does not arrive for this long (0: only IdleTimeout applies).
	// It is the shorter of the two that applies there.
	DIMSETimeout time.Duration
	// ReleaseTimeout bounds the wait for the peer to close the connection
	// after A-RELEASE-RP or A-ABORT (0: AssociateTimeout).
	ReleaseTimeout time.Duration
	// Logger receives the server's logs (nil: discarded).
	Logger hclog.Logger
	// Handler runs the receive loop of an accepted association; the
	// association is closed when it returns: released if the peer's release
	// request is pending, else aborted. ctx is cancelled when the
	// association ends or the server stops. Nil answers release requests
	// and discards PDVs.
	Handler func(ctx context.Context, a *Association)
	// ImplementationClassUID and ImplementationVersionName identify this
	// side in the A-ASSOCIATE-AC (empty: uid.ImplementationClassUID and
	// uid.ImplementationVersionName).
	ImplementationClassUID, ImplementationVersionName string
}

// Server accepts associations (the association-acceptor role).
type Server struct {
	opt ServerOptions
	log hclog.Logger

	mu       sync.Mutex
	lns      []net.Listener // those of Serve calls, in order
	assocs   map[*Association]struct{}
	closing  bool
	shutdown chan struct{}
	wg       sync.WaitGroup
	active   atomic.Int64
	perAE    map[string]int // associations per calling AE title, when limited
}

// NewServer returns a server; it starts with Serve or ListenAndServe.
func NewServer(opt ServerOptions) *Server {
	log := opt.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if opt.ImplementationClassUID == "" {
		opt.ImplementationClassUID = uid.ImplementationClassUID
	}
	if opt.ImplementationVersionName == "" {
		opt.ImplementationVersionName = uid.ImplementationVersionName
	}
	return &Server{opt: opt, log: log.Named("ul"), assocs: map[*Association]struct{}{}, shutdown: make(chan struct{})}
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve accepts connections on ln, one goroutine per association, until ctx
// is done (running associations are then aborted, and ctx's error
// returned once their goroutines ended) or Shutdown is called
// (ErrServerClosed). It closes ln.
//
// Serve may run on several listeners at once, a plain one and one for
// DICOM over TLS say: their associations share the server's limits, and
// Shutdown closes them all. For TLS, ln is a tls.NewListener: the
// handshake runs at the association's first read, bounded by the ARTIM
// timeout as the A-ASSOCIATE-RQ is.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns = append(s.lns, ln)
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	s.log.Info("accepting associations", "addr", ln.Addr(), "ae_title", s.opt.Policy.AETitle)
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				return ErrServerClosed
			default:
			}
			if ctx.Err() != nil {
				s.abortAll(ctx.Err())
				s.wg.Wait()
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed; retrying", "error", err, "delay", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		delay = 0
		s.wg.Add(1)
		go s.serveConn(ctx, conn)
	}
}

// Addr returns the address of the first listener given to Serve, or nil
// before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

// Active returns the number of connections being served: negotiating,
// established or closing.
func (s *Server) Active() int { return int(s.active.Load()) }

// Shutdown stops accepting connections and waits for running associations
// to finish until ctx is done; then it aborts them (A-ABORT, source 0),
// waits for their goroutines, which requires handlers to return once their
// association has ended, and returns ctx's error. Safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.shutdown)
		for _, ln := range s.lns {
			ln.Close()
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.abortAll(ErrServerClosed)
	<-done
	return ctx.Err()
}

// abortAll aborts every association and closes its connection at once.
func (s *Server) abortAll(cause error) {
	s.mu.Lock()
	list := make([]*Association, 0, len(s.assocs))
	for a := range s.assocs {
		list = append(list, a)
	}
	s.mu.Unlock()
	for _, a := range list {
		a.abort(&AbortError{Source: SourceServiceUser, Local: true, Cause: cause})
		a.forceClose(cause)
	}
}

// serveConn runs one association from the transport connection to its end.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer s.wg.Done()
	n := s.active.Add(1)
	defer s.active.Add(-1)
	a := newAssociation(conn, false, s.log, s.opt.AssociateTimeout, s.opt.IdleTimeout)
	a.dimse = s.opt.DIMSETimeout
	if s.opt.ReleaseTimeout > 0 {
		a.lingerTimeout = s.opt.ReleaseTimeout
	}
	s.mu.Lock()
	s.assocs[a] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.assocs, a)
		s.mu.Unlock()
	}()
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("association failed", "panic", r, "stack", string(debug.Stack()))
			a.abort(&AbortError{Source: SourceServiceProvider, Local: true, Cause: fmt.Errorf("panic: %v", r)})
		}
		a.Close()
	}()
	a.setState(sta2) // Evt5 in Sta1: AE-5, ARTIM started
	over := s.opt.MaxAssociations > 0 && n > int64(s.opt.MaxAssociations)
	var admitted *string // the calling AE title counted against its limit
	defer func() {
		if admitted != nil {
			s.leaveAE(*admitted)
		}
	}()
	admit := func(ae string) bool {
		if s.opt.MaxAssociationsPerAE <= 0 {
			return true
		}
		if !s.joinAE(ae) {
			return false
		}
		admitted = &ae
		return true
	}
	if !a.acceptRQ(ctx, &s.opt, over, admit) {
		return
	}
	hctx, cancel := context.WithCancelCause(ctx)
	defer cancel(ErrReleased)
	a.onEnd = func(err error) { cancel(err) }
	if s.opt.Handler != nil {
		s.opt.Handler(hctx, a)
	} else {
		defaultHandler(hctx, a)
	}
	if a.currentState() == sta8 {
		a.ReleaseResponse()
	}
}

// joinAE counts one more association of the calling AE title ae, unless
// that would exceed MaxAssociationsPerAE.
func (s *Server) joinAE(ae string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perAE == nil {
		s.perAE = map[string]int{}
	}
	if s.perAE[ae] >= s.opt.MaxAssociationsPerAE {
		return false
	}
	s.perAE[ae]++
	return true
}

// leaveAE counts one association of ae less.
func (s *Server) leaveAE(ae string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perAE[ae]--; s.perAE[ae] <= 0 {
		delete(s.perAE, ae)
	}
}

// defaultHandler discards PDVs and answers a release request.
func defaultHandler(ctx context.Context, a *Association) {
	for {
		_, err := a.ReadPDV(ctx)
		if errors.Is(err, ErrReleaseRequested) {
			a.ReleaseResponse()
			return
		}
		if err != nil {
			return
		}
	}
}

// acceptRQ waits for the A-ASSOCIATE-RQ in Sta2 and answers it (AE-6, then
// AE-7 or AE-8). over rejects it as over the association limit; so does
// admit, given the calling AE title, when it returns false (it counts the
// association against that AE's limit otherwise). It reports whether the
// association is established.
func (a *Association) acceptRQ(ctx context.Context, opt *ServerOptions, over bool, admit func(callingAE string) bool) bool {
	p, ev, cause := a.receive(ctx)
	if lookup(ev, sta2) != ae6 {
		_, err := a.dispatch(ev, p, cause)
		if st := a.TLS(); st != nil && !st.HandshakeComplete && !errors.Is(cause, io.EOF) {
			// A peer without a trusted certificate, or not speaking
			// TLS: the site wants to know. (A connection closed before
			// any byte, a port probe, is not worth it.)
			a.log.Info("TLS handshake failed", "error", cause)
			return false
		}
		a.log.Debug("no association", "error", err)
		return false
	}
	if st := a.TLS(); st != nil {
		a.log = a.log.With("tls", tls.VersionName(st.Version))
		if len(st.PeerCertificates) > 0 {
			a.log = a.log.With("tls_peer", st.PeerCertificates[0].Subject.String())
		}
	}
	rq := p.(*AssociateRQ)
	a.callingAE, a.calledAE = rq.CallingAE, rq.CalledAE
	a.peerMax = rq.UserInfo.MaxLength
	a.peerClassUID, a.peerVersion = rq.UserInfo.ImplementationClassUID, rq.UserInfo.ImplementationVersionName
	a.log = a.log.With("calling_ae", rq.CallingAE, "called_ae", rq.CalledAE)
	a.setState(sta3) // AE-6: ARTIM stopped, A-ASSOCIATE indication
	var n negotiation
	switch {
	case over:
		n = reject(RejectTransient, RejectSourceProviderPresentation, RejectLocalLimitExceeded, errors.New("association limit reached"))
	case admit != nil && !admit(rq.CallingAE):
		n = reject(RejectTransient, RejectSourceProviderPresentation, RejectLocalLimitExceeded, errors.New("association limit of the calling AE title reached"))
	default:
		n = opt.Policy.negotiate(ctx, rq, a.RemoteAddr(), opt.ImplementationClassUID, opt.ImplementationVersionName)
	}
	if n.rj != nil { // Evt8: AE-8
		a.log.Info("association rejected", "result", n.rj.Result, "source", n.rj.Source, "reason", n.rj.Reason, "error", n.cause)
		rj := &RejectError{Result: n.rj.Result, Source: n.rj.Source, Reason: n.rj.Reason}
		a.mu.Lock()
		a.state, a.final = sta13, rj
		a.mu.Unlock()
		if err := a.writeControl(n.rj); err != nil {
			a.end(rj)
			return false
		}
		a.linger()
		return false
	}
	for i, pc := range n.contexts {
		a.byID[pc.ID] = i
	}
	a.contexts = n.contexts
	a.ourMax = n.ac.UserInfo.MaxLength
	a.asyncInvoked, a.asyncPerformed = n.async.Invoked, n.async.Performed
	a.identity = n.identity
	a.extended = n.ac.UserInfo.Extended
	if err := a.writeControl(n.ac); err != nil { // Evt7: AE-7
		a.end(&AbortError{Source: SourceServiceProvider, Local: true, Cause: err})
		return false
	}
	a.setState(sta6)
	accepted := 0
	for _, pc := range a.contexts {
		if pc.Accepted() {
			accepted++
		}
	}
	a.log.Info("association accepted", "contexts", len(a.contexts), "accepted", accepted, "max_pdu", a.ourMax, "peer_max_pdu", a.peerMax)
	return true
}
