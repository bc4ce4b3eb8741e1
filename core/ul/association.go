package ul

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Limits and defaults of an association.
const (
	// DefaultAssociateTimeout is the ARTIM timeout when options leave it zero:
	// the time allowed for negotiation and for the peer to close the
	// connection after a final A-RELEASE-RP, A-ASSOCIATE-RJ or A-ABORT.
	DefaultAssociateTimeout = 30 * time.Second
	// abortWriteTimeout bounds the wait to send an A-ABORT behind a blocked writer.
	abortWriteTimeout = 2 * time.Second
	// maxPendingBytes bounds the PDV data kept for ReadPDV while Release
	// waits for A-RELEASE-RP; PDVs beyond it are dropped and logged.
	maxPendingBytes = 16 << 20
	// pdvSlack tolerates peers that count the maximum length as PDV data
	// rather than the P-DATA-TF variable field (PS3.8 D.1).
	pdvSlack = pdvHeaderLength
	// readBufferSize is the size of the buffered reader on the connection:
	// P-DATA-TF PDUs up to this length are read in place in its buffer
	// (dcmtk sends 16 KiB by default, we 64 KiB); larger ones are copied
	// out. It holds one of our PDUs with room to spare rather than several:
	// against 256 KiB, reads in smaller pieces took storescu's stores a
	// few per cent faster (bench/dimse), and each association holds less.
	readBufferSize = 96 << 10
)

// PresentationContext is a negotiated (accepted or rejected) presentation
// context. SCURole and SCPRole tell whether the association-requestor may
// act as SCU and as SCP for it (PS3.7 D.3.3.4); without role selection the
// requestor is SCU only.
type PresentationContext struct {
	ID             byte
	AbstractSyntax string
	TransferSyntax string // accepted transfer syntax ("" when rejected)
	Result         byte   // 0 acceptance, 1 user-rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported
	SCURole        bool
	SCPRole        bool
}

// Accepted reports whether the context was accepted (result 0).
func (pc PresentationContext) Accepted() bool { return pc.Result == 0 }

var assocIDs atomic.Uint64

// Association is an established DICOM association, on either side. Its
// accessors are safe for concurrent use; see each method for I/O.
type Association struct {
	id        uint64
	conn      net.Conn
	requestor bool
	log       hclog.Logger
	cr        countingReader
	io        connIO        // how conn is read and written
	artim     time.Duration // ARTIM timeout
	// lingerTimeout is the ARTIM timeout of Sta13.
	lingerTimeout time.Duration
	onEnd         func(error)   // called once when the association ends
	idle          time.Duration // 0: none
	dimse         time.Duration // 0: none (see ServerOptions.DIMSETimeout)

	callingAE, calledAE string
	contexts            []PresentationContext
	byID                map[byte]int
	ourMax, peerMax     uint32
	asyncInvoked        int
	asyncPerformed      int
	identity            *UserIdentity
	extended            []ExtendedNegotiation // of the A-ASSOCIATE-AC
	peerClassUID        string
	peerVersion         string

	mu    sync.Mutex // guards state, final
	state state
	final error // terminal error once ended (ErrReleased or *AbortError)

	done      chan struct{}
	closeOnce sync.Once

	rsem    chan struct{} // one reader at a time
	rbuf    []byte
	cur     []PDV // remaining PDVs of the last P-DATA-TF
	pending []PDV // copied PDVs received while Release read
	pendN   int
	// midMessage is set when the last PDV ReadPDV returned was not the
	// last fragment of its command or data set (under rsem).
	midMessage bool

	msem  chan struct{} // one message at a time
	sbufs [2][]byte     // data PDUs being built (under msem)
	psem  chan struct{} // one PDU write at a time
	wbuf  []byte
}

// countingReader counts the bytes consumed, to tell whether a cancelled
// read left the stream inside a PDU.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// peekBody implements bodyPeeker.
func (c *countingReader) peekBody(n int) ([]byte, bool, error) {
	if n > c.r.Size() {
		return nil, false, nil
	}
	b, err := c.r.Peek(n)
	if err != nil {
		m, _ := c.r.Discard(len(b))
		c.n += int64(m)
		return nil, true, err
	}
	m, _ := c.r.Discard(n)
	c.n += int64(m)
	return b, true, nil
}

func newAssociation(conn net.Conn, requestor bool, log hclog.Logger, artim, idle time.Duration) *Association {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if artim <= 0 {
		artim = DefaultAssociateTimeout
	}
	a := &Association{
		id: assocIDs.Add(1), conn: conn, requestor: requestor, artim: artim, idle: idle,
		state: sta1, done: make(chan struct{}), byID: map[byte]int{},
		rsem: make(chan struct{}, 1), msem: make(chan struct{}, 1), psem: make(chan struct{}, 1),
		asyncInvoked: 1, asyncPerformed: 1, lingerTimeout: artim,
	}
	a.io = newConnIO(conn)
	a.cr.r = bufio.NewReaderSize(a.io, readBufferSize)
	a.log = log.With("assoc", a.id, "peer", conn.RemoteAddr())
	return a
}

// ID returns a process-unique number identifying the association in logs.
func (a *Association) ID() uint64 { return a.id }

// CallingAE returns the requestor's AE title.
func (a *Association) CallingAE() string { return a.callingAE }

// CalledAE returns the AE title the requestor called.
func (a *Association) CalledAE() string { return a.calledAE }

// RemoteAddr returns the peer's network address.
func (a *Association) RemoteAddr() net.Addr { return a.conn.RemoteAddr() }

// TLS returns the state of the association's TLS connection (its
// version, cipher suite and the peer's verified certificates), or nil
// when it runs over plain TCP.
func (a *Association) TLS() *tls.ConnectionState {
	tc, ok := a.conn.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	return &st
}

// Contexts returns a copy of all presentation contexts, accepted and rejected,
// in the order proposed.
func (a *Association) Contexts() []PresentationContext {
	return append([]PresentationContext(nil), a.contexts...)
}

// Context returns the presentation context with the given ID.
func (a *Association) Context(id byte) (PresentationContext, bool) {
	i, ok := a.byID[id]
	if !ok {
		return PresentationContext{}, false
	}
	return a.contexts[i], true
}

// FindContext returns an accepted context for abstractSyntax. With transfer
// syntaxes given, it returns the first context whose accepted syntax is the
// earliest in that list; otherwise the first accepted context.
func (a *Association) FindContext(abstractSyntax string, transferSyntaxes ...string) (PresentationContext, bool) {
	if len(transferSyntaxes) == 0 {
		for _, pc := range a.contexts {
			if pc.Accepted() && pc.AbstractSyntax == abstractSyntax {
				return pc, true
			}
		}
		return PresentationContext{}, false
	}
	for _, ts := range transferSyntaxes {
		for _, pc := range a.contexts {
			if pc.Accepted() && pc.AbstractSyntax == abstractSyntax && pc.TransferSyntax == ts {
				return pc, true
			}
		}
	}
	return PresentationContext{}, false
}

// PeerMaxPDULength returns the peer's maximum P-DATA-TF length: what this
// side may send (0: unlimited).
func (a *Association) PeerMaxPDULength() uint32 { return a.peerMax }

// MaxPDULength returns this side's maximum P-DATA-TF length, as announced.
func (a *Association) MaxPDULength() uint32 { return a.ourMax }

// AsyncOps returns the negotiated asynchronous operations window as in the
// A-ASSOCIATE-AC (operations the requestor may invoke and perform
// outstanding; 0 unlimited), or 1, 1 when it was not negotiated.
func (a *Association) AsyncOps() (invoked, performed int) {
	return a.asyncInvoked, a.asyncPerformed
}

// UserIdentity returns, on the acceptor side, the identity the requestor
// sent (already accepted by Policy.Authenticate), or nil if none. On the
// requestor side it returns the identity proposed.
func (a *Association) UserIdentity() *UserIdentity { return a.identity }

// PeerImplementation returns the peer's implementation class UID and
// version name (PS3.7 D.3.3.2).
func (a *Association) PeerImplementation() (classUID, versionName string) {
	return a.peerClassUID, a.peerVersion
}

// Done returns a channel closed when the association has ended and its
// connection is closed.
func (a *Association) Done() <-chan struct{} { return a.done }

// Err returns the terminal error once the association has ended
// (ErrReleased, or an *AbortError), else nil.
func (a *Association) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.final
}

// currentState returns the state machine's state.
func (a *Association) currentState() state {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// lock acquires a semaphore, or fails with ctx's error.
func lock(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func unlock(sem chan struct{}) { <-sem }

// watch sets the read or write deadline to the past when ctx is done; the
// returned stop waits until a deadline being set has been set.
func (a *Association) watch(ctx context.Context, write bool) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	cancel := context.AfterFunc(ctx, func() {
		if write {
			a.conn.SetWriteDeadline(time.Unix(1, 0))
		} else {
			a.conn.SetReadDeadline(time.Unix(1, 0))
		}
		close(fired)
	})
	return func() {
		if !cancel() {
			<-fired
		}
	}
}

// writePDU encodes and sends one PDU under the PDU write lock.
func (a *Association) writePDU(ctx context.Context, p PDU) error {
	if err := lock(ctx, a.psem); err != nil {
		return err
	}
	defer unlock(a.psem)
	b, err := AppendPDU(a.wbuf[:0], p)
	if err != nil {
		return err
	}
	a.wbuf = b[:0]
	return a.write(ctx, b)
}

// writeControl sends a PDU that is not part of a message, bounded by the
// ARTIM timeout.
func (a *Association) writeControl(p PDU) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.artim)
	defer cancel()
	return a.writePDU(ctx, p)
}

// write writes bufs with the idle timeout and ctx, in one writev where the
// connection supports it; the caller holds psem.
func (a *Association) write(ctx context.Context, bufs ...[]byte) error {
	stop := a.watch(ctx, true)
	defer stop()
	if a.idle > 0 {
		a.conn.SetWriteDeadline(time.Now().Add(a.idle))
	} else {
		a.conn.SetWriteDeadline(time.Time{})
	}
	err := a.io.writeAll(bufs)
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// end records the terminal error, moves to Sta1, closes the connection and
// Done; only the first call has an effect.
func (a *Association) end(final error) {
	a.mu.Lock()
	if a.final == nil {
		a.final = final
	}
	a.state = sta1
	a.mu.Unlock()
	a.closeOnce.Do(func() {
		a.conn.Close()
		close(a.done)
		if a.onEnd != nil {
			a.onEnd(a.Err())
		}
	})
}

// terminal returns the terminal error, or ErrInvalidState if the
// association has not ended.
func (a *Association) terminal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.final != nil {
		return a.final
	}
	return ErrInvalidState
}

// Close aborts the association if it is still established (A-ABORT,
// service-user source) and waits until its connection is closed: at most
// the ARTIM timeout when a final A-RELEASE-RP or A-ABORT is being delivered.
// Idempotent; safe for concurrent use.
func (a *Association) Close() error {
	switch a.currentState() {
	case sta1, sta13:
	default:
		a.Abort(SourceServiceUser, 0)
	}
	t := time.NewTimer(a.lingerTimeout + abortWriteTimeout)
	defer t.Stop()
	select {
	case <-a.done:
	case <-t.C:
		a.end(&AbortError{Source: SourceServiceUser, Local: true, Cause: ErrTimeout})
	}
	return nil
}

// forceClose closes the connection at once, skipping the wait for the peer.
func (a *Association) forceClose(cause error) {
	a.end(&AbortError{Source: SourceServiceUser, Local: true, Cause: cause})
}

// Abort sends A-ABORT with the given source and reason (PS3.8 §9.3.8; the
// reason is significant for source 2 only) and closes the connection after
// the peer has closed or the ARTIM timer expired. It does not wait for an
// operation in progress: a SendMessage blocked on the network fails. It
// returns nil if the association has already ended. Safe for concurrent use.
func (a *Association) Abort(source, reason byte) error {
	a.abort(&AbortError{Source: source, Reason: reason, Local: true})
	return nil
}

// abort performs the local A-ABORT request (Evt15) with err as the terminal error.
func (a *Association) abort(err *AbortError) {
	switch lookup(evt15, a.currentState()) {
	case aa1:
		a.sendAbortAndLinger(err)
	case aa2:
		a.end(err)
	}
}

// sendAbortAndLinger is AA-1, AA-7 and AA-8: A-ABORT, then Sta13 with the
// ARTIM timer. Only the first caller sends.
func (a *Association) sendAbortAndLinger(err *AbortError) {
	a.mu.Lock()
	if a.state == sta13 || a.state == sta1 {
		a.mu.Unlock()
		return
	}
	a.state = sta13
	if a.final == nil {
		a.final = err
	}
	a.mu.Unlock()
	a.sendAbort(err.Source, err.Reason)
	a.linger()
}

// sendAbort writes an A-ABORT, waiting at most abortWriteTimeout for the
// write lock held by a blocked writer.
func (a *Association) sendAbort(source, reason byte) {
	ctx, cancel := context.WithTimeout(context.Background(), abortWriteTimeout)
	defer cancel()
	if err := lock(ctx, a.psem); err != nil {
		a.conn.SetWriteDeadline(time.Unix(1, 0)) // unblock the writer; the A-ABORT is lost
		return
	}
	defer unlock(a.psem)
	b, _ := AppendPDU(nil, &Abort{Source: source, Reason: reason})
	a.write(ctx, b)
}

// linger runs Sta13 in the background: it half-closes the connection and
// reads until the peer closes or the ARTIM timer expires (PS3.8 AA-6, AA-7,
// AR-5, AA-2), so the last PDU sent is not lost to a reset; then it ends.
func (a *Association) linger() {
	go func() {
		if cw, ok := a.conn.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		a.conn.SetReadDeadline(time.Now().Add(a.lingerTimeout))
		a.rsem <- struct{}{} // a running ReadPDV returns once the connection fails
		defer unlock(a.rsem)
		for {
			p, _, err := readPDU(&a.cr, a.readLimit(), a.rbuf[:0])
			ev := evt19
			switch {
			case err == nil:
				ev = pduEvent(p)
			case errors.Is(err, ErrMalformedPDU), errors.Is(err, ErrPDUTooLarge):
			default:
				ev = evt17 // closed or ARTIM expired: either way Sta1
			}
			switch lookup(ev, sta13) {
			case aa6:
				continue
			case aa7: // the write side is closed; nothing more can be sent
				continue
			}
			a.end(ErrReleased)
			return
		}
	}()
}

// readLimit is the largest PDU accepted in the current state.
func (a *Association) readLimit() uint32 {
	switch a.currentState() {
	case sta2, sta5:
		return MaxAssociatePDULength
	}
	if a.ourMax == 0 {
		return UnlimitedPDULength
	}
	return max(a.ourMax+pdvSlack, 256)
}
