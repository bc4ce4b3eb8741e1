package dimse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/ul"
)

// MaxIdentifierLength bounds the identifier of a C-FIND, C-GET or C-MOVE
// request (and of a C-FIND pending response) decoded into memory.
const MaxIdentifierLength = 4 << 20

// AnySOPClass registers a handler for every SOP class without its own.
const AnySOPClass = "*"

// Op describes the request being performed: where it came from and on which
// presentation context (whose transfer syntax encodes its data set).
type Op struct {
	MessageID     uint16
	Context       ul.PresentationContext
	CallingAE     string
	CalledAE      string
	RemoteAddr    net.Addr
	AssociationID uint64
	e             *engine
}

// Handler types, one per service. Each runs in its own goroutine, except
// C-STORE and C-ECHO handlers on an association whose window allows one
// operation at a time (no asynchronous operations negotiated): these run on
// the association's receive goroutine, which does not read the association
// meanwhile but through a store handler's reads of data; an abort is then
// seen by the handler's next Read (which fails, and ctx is cancelled). ctx
// is cancelled when the association ends or, for C-FIND, C-GET and C-MOVE,
// when the peer sends C-CANCEL (context.Cause(ctx) is then ErrCancelled). A
// panicking handler is answered with 0110 (processing failure). A handler
// need not read data to its end: the rest is discarded.
type (
	// EchoHandler answers C-ECHO (Verification, PS3.4 Annex A).
	EchoHandler func(ctx context.Context, op *Op, rq *CEchoRequest) Status
	// StoreHandler stores the data set read from data, encoded in
	// op.Context.TransferSyntax and streamed as it arrives (PS3.4 Annex B).
	StoreHandler func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status
	// FindHandler sends each match with w.Pending and returns the final status
	// (success, cancel or a failure).
	FindHandler func(ctx context.Context, op *Op, rq *CFindRequest, identifier *dicom.Dataset, w *FindWriter) Status
	// GetHandler sends the matches with w.Store, reports progress with
	// w.Pending and returns the final status and counts.
	GetHandler func(ctx context.Context, op *Op, rq *CGetRequest, identifier *dicom.Dataset, w *SubOpWriter) (Status, SubOperations)
	// MoveHandler stores the matches on rq.MoveDestination, reports progress
	// with w.Pending and returns the final status and counts.
	MoveHandler func(ctx context.Context, op *Op, rq *CMoveRequest, identifier *dicom.Dataset, w *SubOpWriter) (Status, SubOperations)
	// NHandler performs an N-service request (*NGetRequest, *NSetRequest,
	// *NActionRequest, *NCreateRequest, *NDeleteRequest or
	// *NEventReportRequest); data is its data set or nil.
	NHandler func(ctx context.Context, op *Op, rq Request, data io.Reader) NResult
)

// NResult is the outcome of an N-service request: its status, the SOP
// instance (N-CREATE: the one the SCP assigned) and an optional data set for
// the response, encoded in the context's transfer syntax.
type NResult struct {
	Status                 Status
	AffectedSOPInstanceUID string
	Data                   *dicom.Dataset
}

type muxKey struct {
	cmd      CommandField
	sopClass string
}

// Mux routes requests to handlers by command and SOP class. C-ECHO is
// answered with success unless HandleCEcho sets another handler. A request
// without a handler for its SOP class (nor AnySOPClass) is answered with 0122
// (SOP class not supported), or 0211 (unrecognized operation) when the command
// has no handler at all. Register handlers before serving; Mux is then safe
// for concurrent use.
type Mux struct {
	log      hclog.Logger
	mu       sync.RWMutex
	handlers map[muxKey]any
	commands map[CommandField]bool
	// respTimeout is the DIMSE timeout of the requests an operation
	// invokes on its own association (see SetResponseTimeout).
	respTimeout atomic.Int64
}

// SetResponseTimeout bounds each wait for the response to a request that an
// operation invokes on the association it serves (the C-STORE
// sub-operations of a C-GET): when none arrives in time, the association is
// aborted. 0, the default, waits as long as the association lives. It
// applies to the associations served from then on.
func (m *Mux) SetResponseTimeout(d time.Duration) { m.respTimeout.Store(int64(max(d, 0))) }

// NewMux returns a Mux logging to log (nil: nowhere).
func NewMux(log hclog.Logger) *Mux {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Mux{log: log, handlers: make(map[muxKey]any), commands: make(map[CommandField]bool)}
}

func (m *Mux) handle(cmd CommandField, sopClass string, h any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers[muxKey{cmd, sopClass}] = h
	m.commands[cmd] = true
}

// HandleCEcho sets the C-ECHO handler for every SOP class.
func (m *Mux) HandleCEcho(h EchoHandler) { m.handle(CEchoRQ, AnySOPClass, h) }

// HandleCStore sets the C-STORE handler of sopClass (or AnySOPClass).
func (m *Mux) HandleCStore(sopClass string, h StoreHandler) { m.handle(CStoreRQ, sopClass, h) }

// HandleCFind sets the C-FIND handler of sopClass (or AnySOPClass).
func (m *Mux) HandleCFind(sopClass string, h FindHandler) { m.handle(CFindRQ, sopClass, h) }

// HandleCGet sets the C-GET handler of sopClass (or AnySOPClass).
func (m *Mux) HandleCGet(sopClass string, h GetHandler) { m.handle(CGetRQ, sopClass, h) }

// HandleCMove sets the C-MOVE handler of sopClass (or AnySOPClass).
func (m *Mux) HandleCMove(sopClass string, h MoveHandler) { m.handle(CMoveRQ, sopClass, h) }

// HandleN sets the handler of an N-service request command (NGetRQ, NSetRQ,
// NActionRQ, NCreateRQ, NDeleteRQ, NEventReportRQ) for sopClass (or
// AnySOPClass).
func (m *Mux) HandleN(cmd CommandField, sopClass string, h NHandler) { m.handle(cmd, sopClass, h) }

// lookup returns the handler of a command and SOP class, or nil with the
// status to answer.
func (m *Mux) lookup(cmd CommandField, sopClass string) (any, Status) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if h, ok := m.handlers[muxKey{cmd, sopClass}]; ok {
		return h, StatusSuccess
	}
	if h, ok := m.handlers[muxKey{cmd, AnySOPClass}]; ok {
		return h, StatusSuccess
	}
	if m.commands[cmd] {
		return nil, StatusSOPClassNotSupported
	}
	return nil, StatusUnrecognizedOperation
}

// serve runs the handler of rq and returns the final response and its data
// set (nil when none).
func (m *Mux) serve(ctx context.Context, op *Op, rq Request, data io.Reader) (Response, io.Reader) {
	h, st := m.lookup(rq.Command(), sopClass(rq))
	if rq.Command() == CEchoRQ && h == nil {
		h, st = EchoHandler(func(context.Context, *Op, *CEchoRequest) Status { return StatusSuccess }), StatusSuccess
	}
	if h == nil {
		m.log.Debug("request without handler", "command", rq.Command(), "sop_class", sopClass(rq), "status", st)
	}
	rsp := responseFor(rq, NResult{})
	var rspData io.Reader
	if h != nil {
		func() {
			defer op.e.recoverStatus(&st, rq.Command())
			st, rsp, rspData = m.call(ctx, h, op, rq, data, rsp)
		}()
	}
	if st.Pending() {
		st = StatusSuccess // a final response is never pending
	}
	rsp.setRespondsTo(rq.ID())
	rsp.setResult(st)
	return rsp, rspData
}

// call runs handler h of rq.
func (m *Mux) call(ctx context.Context, h any, op *Op, rq Request, data io.Reader, rsp Response) (Status, Response, io.Reader) {
	switch rq := rq.(type) {
	case *CEchoRequest:
		return h.(EchoHandler)(ctx, op, rq), rsp, nil
	case *CStoreRequest:
		return h.(StoreHandler)(ctx, op, rq, orEmpty(data)), rsp, nil
	case *CFindRequest:
		id, st := readIdentifier(data, op.Context)
		if st.Code != CodeSuccess {
			return st, rsp, nil
		}
		return h.(FindHandler)(ctx, op, rq, id, &FindWriter{op: op, rq: rq}), rsp, nil
	case *CGetRequest:
		id, st := readIdentifier(data, op.Context)
		if st.Code != CodeSuccess {
			return st, rsp, nil
		}
		w := &SubOpWriter{op: op, pending: func() Response { return &CGetResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID} }}
		st, n := h.(GetHandler)(ctx, op, rq, id, w)
		rsp.(*CGetResponse).SubOperations = n
		return st, rsp, w.finalData()
	case *CMoveRequest:
		id, st := readIdentifier(data, op.Context)
		if st.Code != CodeSuccess {
			return st, rsp, nil
		}
		w := &SubOpWriter{op: op, pending: func() Response { return &CMoveResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID} }}
		st, n := h.(MoveHandler)(ctx, op, rq, id, w)
		rsp.(*CMoveResponse).SubOperations = n
		return st, rsp, w.finalData()
	}
	res := h.(NHandler)(ctx, op, rq, data)
	var rspData io.Reader
	if res.Data != nil {
		rspData = encodeReader(res.Data, op.Context)
	}
	return res.Status, responseFor(rq, res), rspData
}

// responseFor builds the (empty) response of a request; for N-services with
// the instance of res.
func responseFor(rq Request, res NResult) Response {
	switch rq := rq.(type) {
	case *CEchoRequest:
		return &CEchoResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID}
	case *CStoreRequest:
		return &CStoreResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID, AffectedSOPInstanceUID: rq.AffectedSOPInstanceUID}
	case *CFindRequest:
		return &CFindResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID}
	case *CGetRequest:
		return &CGetResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID}
	case *CMoveRequest:
		return &CMoveResponse{AffectedSOPClassUID: rq.AffectedSOPClassUID}
	}
	return nResponseFor(rq, res)
}

// nResponseFor builds the response of an N-service request.
func nResponseFor(rq Request, res NResult) Response {
	inst := res.AffectedSOPInstanceUID
	base := func(class, reqInst string) nResponse {
		if inst == "" {
			inst = reqInst
		}
		return nResponse{AffectedSOPClassUID: class, AffectedSOPInstanceUID: inst}
	}
	switch rq := rq.(type) {
	case *NGetRequest:
		return &NGetResponse{base(rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID)}
	case *NSetRequest:
		return &NSetResponse{base(rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID)}
	case *NCreateRequest:
		return &NCreateResponse{base(rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID)}
	case *NDeleteRequest:
		return &NDeleteResponse{base(rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID)}
	case *NActionRequest:
		b := base(rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID)
		return &NActionResponse{AffectedSOPClassUID: b.AffectedSOPClassUID, AffectedSOPInstanceUID: b.AffectedSOPInstanceUID, ActionTypeID: rq.ActionTypeID}
	case *NEventReportRequest:
		b := base(rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID)
		return &NEventReportResponse{AffectedSOPClassUID: b.AffectedSOPClassUID, AffectedSOPInstanceUID: b.AffectedSOPInstanceUID, EventTypeID: rq.EventTypeID}
	}
	return &NGetResponse{}
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return bytes.NewReader(nil)
	}
	return r
}

// contextSyntax returns the encoding of a context's transfer syntax.
func contextSyntax(pc ul.PresentationContext) codec.Syntax {
	s, ok := codec.LookupSyntax(pc.TransferSyntax)
	if !ok {
		return codec.ExplicitVRLittleEndian
	}
	return s
}

// readIdentifier decodes a request's identifier; a missing or undecodable one
// yields C000 (unable to process).
func readIdentifier(data io.Reader, pc ul.PresentationContext) (*dicom.Dataset, Status) {
	if p, ok := data.(*dataPipe); ok {
		// The association's reader goes back to the receive loop at once:
		// the operation's sub-operations and C-CANCEL need it.
		defer p.Close(nil)
	}
	if data == nil {
		return nil, Status{Code: CodeCannotUnderstand, ErrorComment: "identifier missing"}
	}
	ds, err := ReadDataset(data, pc, MaxIdentifierLength)
	if err != nil {
		return nil, Status{Code: CodeCannotUnderstand, ErrorComment: "identifier cannot be decoded"}
	}
	return ds, StatusSuccess
}

// ErrTooLarge is returned by ReadDataset for a data set longer than its limit.
var ErrTooLarge = errors.New("dimse: data set too large")

// ReadDataset decodes a data set received on pc (identifiers, N-service
// attribute lists) into memory, reading at most max bytes: longer input
// yields ErrTooLarge. It is meant for small data sets; stream large ones.
func ReadDataset(data io.Reader, pc ul.PresentationContext, max int64) (*dicom.Dataset, error) {
	b, err := io.ReadAll(io.LimitReader(data, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return codec.ReadDataset(b, contextSyntax(pc), codec.WithCharset(part10.TextCodec))
}

// encodeReader returns a reader of ds encoded in pc's transfer syntax (a
// response's small data set, encoded in memory: nothing is left running
// when the response is never sent); an encoding failure is its Read's error.
func encodeReader(ds *dicom.Dataset, pc ul.PresentationContext) io.Reader {
	b, err := codec.AppendDataset(nil, ds, contextSyntax(pc))
	if err != nil {
		return errReader{err}
	}
	return bytes.NewReader(b)
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// FindWriter sends the pending responses of a C-FIND operation.
type FindWriter struct {
	op *Op
	rq *CFindRequest
}

// Pending sends one match (status FF00) with its identifier, encoded in the
// context's transfer syntax. It returns the association's error, or the
// cause of ctx when the operation was cancelled.
func (w *FindWriter) Pending(ctx context.Context, identifier *dicom.Dataset) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	r := &CFindResponse{AffectedSOPClassUID: w.rq.AffectedSOPClassUID}
	r.MessageIDBeingRespondedTo, r.Status = w.rq.MessageID, StatusPending
	b, err := codec.AppendDataset(nil, identifier, contextSyntax(w.op.Context))
	if err != nil {
		return fmt.Errorf("encode identifier: %w", err)
	}
	return w.op.e.send(w.op.e.ctx, w.op.Context.ID, r, bytes.NewReader(b))
}

// SubOpWriter reports the progress of a C-GET or C-MOVE operation and, for
// C-GET, performs its C-STORE sub-operations on the same association.
type SubOpWriter struct {
	op      *Op
	pending func() Response
	final   *dicom.Dataset // see SetFinalIdentifier
}

// Pending sends a pending response (FF00) with the sub-operation counts.
func (w *SubOpWriter) Pending(ctx context.Context, n SubOperations) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	r := w.pending()
	switch r := r.(type) {
	case *CGetResponse:
		r.SubOperations = n
	case *CMoveResponse:
		r.SubOperations = n
	}
	r.setRespondsTo(w.op.MessageID)
	r.setResult(StatusPending)
	return w.op.e.send(w.op.e.ctx, w.op.Context.ID, r, nil)
}

// Store performs a C-STORE sub-operation of a C-GET on the association the
// request came on: it needs a context for sopClass and ts on which the peer
// accepted the SCP role. The status is the peer's; err reports a failure to
// send or receive.
func (w *SubOpWriter) Store(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader) (Status, error) {
	return storeOn(ctx, w.op.e, sopClass, sopInstance, ts, data, StoreOptions{})
}
