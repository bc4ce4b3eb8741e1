package dimse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/ul"
)

// MaxAsyncOps caps an asynchronous operations window negotiated as 0
// (unlimited, PS3.7 §D.3.3.3): at most this many operations are in flight in
// each direction.
const MaxAsyncOps = 256

// Errors of the message layer.
var (
	// ErrProtocol is wrapped by every violation of PS3.7 by the peer found
	// while assembling messages (a data PDV without a command, PDVs of two
	// messages interleaved, an undecodable command); the association is
	// aborted.
	ErrProtocol = errors.New("dimse: protocol violation")
	// ErrCancelled is the cause of an operation context cancelled by C-CANCEL.
	ErrCancelled = errors.New("dimse: operation cancelled by C-CANCEL")
	// ErrClosed is returned by calls on an association that has ended.
	ErrClosed = errors.New("dimse: association ended")
	// errHandlerDone closes a data reader its handler returned without draining.
	errHandlerDone = errors.New("dimse: handler returned")
)

// conn is what the message layer needs of an association; *ul.Association
// implements it, tests use a fake.
type conn interface {
	ID() uint64
	CallingAE() string
	CalledAE() string
	RemoteAddr() net.Addr
	Context(id byte) (ul.PresentationContext, bool)
	FindContext(abstractSyntax string, transferSyntaxes ...string) (ul.PresentationContext, bool)
	Contexts() []ul.PresentationContext
	AsyncOps() (invoked, performed int)
	ReadPDV(ctx context.Context) (ul.PDV, error)
	SendMessage(ctx context.Context, contextID byte, command []byte, data io.Reader) error
	ReleaseResponse() error
	Release(ctx context.Context) error
	Abort(source, reason byte) error
	Close() error
}

var _ conn = (*ul.Association)(nil)

// engine runs the DIMSE traffic of one association in both directions: the
// receive loop assembles messages, hands requests to the Mux (each in its own
// goroutine, within the window) and responses to the calls waiting for them.
type engine struct {
	c         conn
	mux       *Mux
	log       hclog.Logger
	requestor bool

	ctx    context.Context // the association's lifetime
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the receive loop has ended
	err    error         // why it ended; read after done

	mu     sync.Mutex
	calls  map[uint16]*call // requests we invoked, by Message ID
	nextID uint16
	ops    map[uint16]context.CancelCauseFunc // requests we perform, by Message ID

	invoke   chan struct{} // semaphore of our outstanding requests
	perform  chan struct{} // semaphore of the peer's requests we run
	inline   bool          // the peer's requests run one at a time: C-STORE and C-ECHO run on the receive loop
	handlers sync.WaitGroup

	// respTimeout bounds each wait for a response to a request we invoked
	// (the DIMSE timeout); 0 waits as long as the association lives.
	respTimeout time.Duration

	cur       *assembly // message being received (receive loop only)
	pendingEv *handback // an event read by a data set's consumer, handled next (receive loop only)
}

// assembly is the state of the message being received.
type assembly struct {
	pcID byte
	cmd  []byte
	msg  Message   // nil while the command is incomplete
	data *dataPipe // the data set's consumer; nil when discarded
}

// call is one request we invoked, waiting for its responses.
type call struct {
	ch   chan delivery
	gone chan struct{} // closed when the caller stops listening
}

// delivery is one response given to a waiting call; the receiver must read
// or close data.
type delivery struct {
	rsp  Response
	data *dataPipe
}

func window(n int) int {
	if n <= 0 || n > MaxAsyncOps {
		return MaxAsyncOps
	}
	return n
}

func newEngine(ctx context.Context, c conn, mux *Mux, log hclog.Logger, requestor bool) *engine {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if mux == nil {
		mux = NewMux(log)
	}
	invoked, performed := c.AsyncOps()
	e := &engine{c: c, mux: mux, log: log, requestor: requestor, done: make(chan struct{}),
		calls: make(map[uint16]*call), ops: make(map[uint16]context.CancelCauseFunc)}
	e.ctx, e.cancel = context.WithCancelCause(ctx)
	// The requestor invokes up to invoked operations and performs up to
	// performed; the acceptor the other way round (PS3.7 §D.3.3.3).
	if requestor {
		e.invoke, e.perform = make(chan struct{}, window(invoked)), make(chan struct{}, window(performed))
	} else {
		e.invoke, e.perform = make(chan struct{}, window(performed)), make(chan struct{}, window(invoked))
	}
	e.inline = cap(e.perform) == 1
	return e
}

// run is the receive loop. It returns nil after an orderly release (having
// answered a peer's A-RELEASE-RQ once every running operation has finished),
// or the error that ended the association. Running operations are waited for
// before it returns.
func (e *engine) run() (err error) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("receive loop panic", "panic", v, "stack", string(debug.Stack()))
			_ = e.c.Abort(ul.SourceServiceUser, 0)
			err = fmt.Errorf("dimse: receive loop panic: %v", v)
		}
		e.finish(err)
	}()
	for {
		var p ul.PDV
		var err error
		if h := e.pendingEv; h != nil {
			e.pendingEv = nil
			p, err = h.pdv, h.err
		} else {
			p, err = e.c.ReadPDV(e.ctx)
		}
		if err != nil {
			if errors.Is(err, ul.ErrReleaseRequested) {
				e.handlers.Wait()
				if rerr := e.c.ReleaseResponse(); rerr != nil {
					return fmt.Errorf("release response: %w", rerr)
				}
				return nil
			}
			if errors.Is(err, ul.ErrReleased) {
				return nil
			}
			return err
		}
		if err := e.onPDV(p); err != nil {
			e.log.Warn("aborting association", "error", err)
			_ = e.c.Abort(ul.SourceServiceUser, 0)
			return err
		}
	}
}

// finish ends the association's context, stops every consumer and waits for
// the running operations.
func (e *engine) finish(err error) {
	cause := err
	if cause == nil {
		cause = ul.ErrReleased
	}
	e.cancel(cause)
	if e.cur != nil && e.cur.data != nil {
		e.cur.data.fail(fmt.Errorf("%w: %w", ErrClosed, cause))
	}
	e.cur = nil
	e.handlers.Wait()
	e.err = err
	close(e.done)
}

// onPDV adds one PDV to the message being assembled. Its Data is valid only
// during the call: the command is copied, data set fragments are copied
// into the consumer's pipe or handed to it in place, and then onPDV returns
// once the consumer has handed the association's reader back (see dataPipe).
func (e *engine) onPDV(p ul.PDV) error {
	cur := e.cur
	if cur == nil {
		if !p.Command {
			return fmt.Errorf("%w: data set fragment on context %d without a command", ErrProtocol, p.ContextID)
		}
		cur = &assembly{pcID: p.ContextID}
		e.cur = cur
	} else if p.ContextID != cur.pcID {
		return fmt.Errorf("%w: fragment on context %d while a message on context %d is incomplete", ErrProtocol, p.ContextID, cur.pcID)
	}
	if cur.msg == nil {
		if !p.Command {
			return fmt.Errorf("%w: data set fragment before the command set is complete", ErrProtocol)
		}
		if len(cur.cmd)+len(p.Data) > MaxCommandLength {
			return fmt.Errorf("%w: command set longer than %d bytes", ErrProtocol, MaxCommandLength)
		}
		cur.cmd = append(cur.cmd, p.Data...)
		if !p.Last {
			return nil
		}
		msg, hasData, err := DecodeCommand(cur.cmd)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		pc, ok := e.c.Context(cur.pcID)
		if !ok || !pc.Accepted() {
			return fmt.Errorf("%w: %s on presentation context %d, which is not accepted", ErrProtocol, msg.Command(), cur.pcID)
		}
		cur.msg = msg
		var pr *dataPipe
		if hasData {
			if x, ok := e.c.(interface{ ExpectFragments() }); ok {
				x.ExpectFragments() // the data set is part of the message
			}
			pr = newDataPipe(e.c, e.ctx, cur.pcID)
			cur.data = pr
		} else {
			e.cur = nil
		}
		if err := e.dispatch(msg, pc, pr); err != nil {
			return err
		}
		if pr != nil {
			e.await(pr)
		}
		return nil
	}
	if p.Command {
		return fmt.Errorf("%w: command fragment inside the data set of %s", ErrProtocol, cur.msg.Command())
	}
	if cur.data != nil {
		handover, ok := cur.data.Offer(e.ctx, p)
		if handover {
			e.await(cur.data)
			return nil
		}
		if !ok {
			cur.data = nil // the consumer stopped reading: discard the rest
		}
	}
	if p.Last {
		e.cur = nil
	}
	return nil
}

// await waits until the consumer of the data set being received hands the
// association's reader back, and takes over what is left of the message.
// A consumer that stops reading for reclaimInterval loses the reader.
func (e *engine) await(p *dataPipe) {
	var h handback
	select {
	case h = <-p.back: // an inline operation has ended
		e.handBack(h)
		return
	default:
	}
	t := time.NewTicker(reclaimInterval)
	defer t.Stop()
	seen := p.activity()
wait:
	for {
		select {
		case h = <-p.back:
			break wait
		case <-t.C:
			if a := p.activity(); a != seen {
				seen = a
				continue
			}
			if done, ok := p.reclaim(); ok {
				if done {
					e.cur = nil
				}
				return
			}
		case <-e.ctx.Done():
			p.Close(fmt.Errorf("%w: %w", ErrClosed, context.Cause(e.ctx)))
			h = <-p.back
			break wait
		}
	}
	e.handBack(h)
}

// handBack takes over what is left of the message being received from its
// data set's consumer.
func (e *engine) handBack(h handback) {
	if h.done {
		e.cur = nil
	} else if e.cur != nil {
		e.cur.data = nil
	}
	if h.event {
		e.pendingEv = &h
	}
}

// dispatch routes a complete command: responses to their call, C-CANCEL to
// its operation, requests to the Mux in a new goroutine. With a window of
// one operation (e.inline) C-STORE and C-ECHO run on the receive loop's
// goroutine instead, which saves two goroutine switches per operation: the
// peer cannot send another request before the response, the store handler
// reads its data set from the association itself (an abort ends its Read
// and cancels its context), and C-CANCEL does not apply to them.
func (e *engine) dispatch(msg Message, pc ul.PresentationContext, data *dataPipe) error {
	switch m := msg.(type) {
	case Response:
		e.deliver(m, data)
		return nil
	case *CCancelRequest:
		e.mu.Lock()
		cancel := e.ops[m.MessageIDBeingRespondedTo]
		e.mu.Unlock()
		if cancel != nil {
			cancel(ErrCancelled)
		}
		if data != nil {
			data.Close(nil)
		}
		return nil
	case Request:
		select {
		case e.perform <- struct{}{}:
		case <-e.ctx.Done():
			return context.Cause(e.ctx)
		}
		opCtx, cancel := context.WithCancelCause(e.ctx)
		id := m.ID()
		e.mu.Lock()
		if _, dup := e.ops[id]; dup {
			e.log.Warn("request reuses the message id of a running operation", "message_id", id)
		}
		e.ops[id] = cancel
		e.mu.Unlock()
		e.handlers.Add(1)
		if c := m.Command(); e.inline && (c == CStoreRQ || c == CEchoRQ) {
			if data != nil {
				// The handler reads on this goroutine: a failed read
				// (abort, e.ctx done) cancels its context.
				data.onFail = cancel
			}
			e.perform1(opCtx, cancel, nil, m, pc, data)
			return nil
		}
		var stop func() bool
		if data != nil {
			stop = context.AfterFunc(opCtx, func() { data.Close(context.Cause(opCtx)) })
		}
		go e.perform1(opCtx, cancel, stop, m, pc, data)
		return nil
	}
	return fmt.Errorf("%w: unexpected %s", ErrProtocol, msg.Command())
}

// deliver hands a response to the call waiting for it.
func (e *engine) deliver(rsp Response, data *dataPipe) {
	id := rsp.RespondsTo()
	final := !rsp.Result().Pending()
	e.mu.Lock()
	c := e.calls[id]
	if c != nil && final {
		delete(e.calls, id)
	}
	e.mu.Unlock()
	if c == nil {
		e.log.Warn("response to no outstanding request", "command", rsp.Command(), "message_id", id)
		if data != nil {
			data.Close(nil)
		}
		return
	}
	select {
	case c.ch <- delivery{rsp: rsp, data: data}:
	case <-c.gone:
		if data != nil {
			data.Close(nil)
		}
	case <-e.ctx.Done():
		if data != nil {
			data.Close(nil)
		}
	}
	if final {
		<-e.invoke
	}
}

// perform1 runs one request of the peer and sends its final response; stop,
// when not nil, unregisters the context.AfterFunc closing data.
func (e *engine) perform1(ctx context.Context, cancel context.CancelCauseFunc, stop func() bool, rq Request, pc ul.PresentationContext, data *dataPipe) {
	defer e.handlers.Done()
	defer func() { <-e.perform }()
	defer func() {
		e.mu.Lock()
		delete(e.ops, rq.ID())
		e.mu.Unlock()
		if stop != nil {
			stop() // data is closed: no goroutine for the AfterFunc
		}
		cancel(errHandlerDone)
	}()
	op := &Op{MessageID: rq.ID(), Context: pc, CallingAE: e.c.CallingAE(), CalledAE: e.c.CalledAE(),
		RemoteAddr: e.c.RemoteAddr(), AssociationID: e.c.ID(), e: e}
	var body io.Reader
	if data != nil {
		body = data
		defer data.Close(errHandlerDone)
	}
	rsp, rspData := e.mux.serve(ctx, op, rq, body)
	if rsp == nil {
		return
	}
	if err := e.send(e.ctx, pc.ID, rsp, rspData); err != nil {
		e.log.Warn("sending response failed", "command", rsp.Command(), "error", err)
	}
}

// send encodes and sends one message.
func (e *engine) send(ctx context.Context, pcID byte, m Message, data io.Reader) error {
	cmd, err := EncodeCommand(m, data != nil)
	if err != nil {
		return err
	}
	return e.c.SendMessage(ctx, pcID, cmd, data)
}

// invokeRequest sends rq (with its data set, if any) on context pcID within
// the window and returns the call whose channel yields the responses; the
// caller must call release when it stops listening.
func (e *engine) invokeRequest(ctx context.Context, pcID byte, rq Request, data io.Reader) (*call, error) {
	if e.ctx.Err() != nil {
		return nil, fmt.Errorf("%w: %w", ErrClosed, context.Cause(e.ctx))
	}
	select {
	case e.invoke <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	case <-e.ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrClosed, context.Cause(e.ctx))
	case <-e.done:
		return nil, e.closedErr()
	}
	c := &call{ch: make(chan delivery), gone: make(chan struct{})}
	e.mu.Lock()
	for i := 0; ; i++ {
		e.nextID++
		if e.nextID == 0 {
			e.nextID = 1
		}
		if e.calls[e.nextID] == nil || i > 1<<16 {
			break
		}
	}
	id := e.nextID
	e.calls[id] = c
	e.mu.Unlock()
	rq.setID(id)
	if err := e.send(ctx, pcID, rq, data); err != nil {
		e.mu.Lock()
		delete(e.calls, id)
		e.mu.Unlock()
		<-e.invoke
		return nil, err
	}
	return c, nil
}

// idle waits until no request we invoked is outstanding, the loop has
// ended or ctx is done.
func (e *engine) idle(ctx context.Context) {
	for {
		e.mu.Lock()
		n := len(e.calls)
		e.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-e.done:
			return
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// release tells the receive loop that nobody listens to c any more.
func (c *call) release() { close(c.gone) }

// next waits for the next response of c.
func (e *engine) next(ctx context.Context, c *call) (delivery, error) {
	var expired <-chan time.Time
	if e.respTimeout > 0 {
		t := time.NewTimer(e.respTimeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case d := <-c.ch:
		return d, nil
	case <-ctx.Done():
		return delivery{}, context.Cause(ctx)
	case <-e.done:
		return delivery{}, e.closedErr()
	case <-expired:
		// The peer is not answering: the association cannot be trusted to
		// carry later responses in order, so it is aborted (as dcmtk does
		// when its DIMSE timeout expires).
		e.log.Warn("no DIMSE response in time; aborting the association", "timeout", e.respTimeout)
		err := fmt.Errorf("%w: no response within %v", ErrResponseTimeout, e.respTimeout)
		e.cancel(err)
		_ = e.c.Abort(ul.SourceServiceUser, 0)
		return delivery{}, err
	}
}

// ErrResponseTimeout is returned by Client calls when the peer sent no
// response (final or pending) within ClientOptions.ResponseTimeout; the
// association is aborted. It matches ul.ErrTimeout with errors.Is.
var ErrResponseTimeout = fmt.Errorf("dimse: response timeout: %w", ul.ErrTimeout)

func (e *engine) closedErr() error {
	<-e.done
	if e.err != nil {
		return fmt.Errorf("%w: %w", ErrClosed, e.err)
	}
	return ErrClosed
}

// recoverStatus turns a handler panic into a processing failure.
func (e *engine) recoverStatus(st *Status, cmd CommandField) {
	if v := recover(); v != nil {
		e.log.Error("handler panic", "command", cmd, "panic", v, "stack", string(debug.Stack()))
		*st = Status{Code: CodeProcessingFailure, ErrorComment: "internal error"}
	}
}
