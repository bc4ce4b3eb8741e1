package dimse

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/ul"
)

// DefaultCancelTimeout is how long a cancelled C-FIND, C-GET or C-MOVE waits
// for the peer's final response after sending C-CANCEL.
const DefaultCancelTimeout = 10 * time.Second

// DefaultReleaseTimeout bounds Close's wait for the peer's A-RELEASE-RP.
const DefaultReleaseTimeout = 10 * time.Second

// transcodeBulkThreshold is the value length above which StoreFile leaves
// values in the file while transcoding, so pixel data is streamed, not loaded.
const transcodeBulkThreshold = 64 << 10

// ErrNoContext is returned when the association has no accepted presentation
// context for the SOP class and transfer syntax of a request.
var ErrNoContext = errors.New("dimse: no accepted presentation context")

// ClientOptions configure a Client. The zero value is usable.
type ClientOptions struct {
	// Mux performs the requests the peer sends on this association (the
	// C-STORE sub-operations of a C-GET); nil answers only C-ECHO.
	Mux *Mux
	// Logger receives the client's log; nil logs nowhere.
	Logger hclog.Logger
	// CancelTimeout: see DefaultCancelTimeout (used when zero).
	CancelTimeout time.Duration
	// ResponseTimeout is the DIMSE timeout: the longest wait for each
	// response (pending or final) after a request is sent; when it expires
	// the association is aborted and the call returns ErrResponseTimeout.
	// Zero waits as long as the association lives.
	ResponseTimeout time.Duration
}

// Client is the SCU side of one association. Its methods are safe for
// concurrent use: when the association granted an asynchronous operations
// window of N invoked operations, up to N requests are in flight at once (the
// others wait for a slot) and responses are matched by message ID.
type Client struct {
	c       conn
	e       *engine
	opt     ClientOptions
	closing sync.Once
	err     error
}

// NewClient starts the receive loop of a (an association we requested) and
// returns its Client. The Client owns a from now on: Close releases it.
func NewClient(a *ul.Association, opt ClientOptions) *Client {
	return newClient(a, opt)
}

func newClient(c conn, opt ClientOptions) *Client {
	if opt.CancelTimeout <= 0 {
		opt.CancelTimeout = DefaultCancelTimeout
	}
	if opt.Logger == nil {
		opt.Logger = hclog.NewNullLogger()
	}
	cl := &Client{c: c, opt: opt}
	cl.e = newEngine(context.Background(), c, opt.Mux, opt.Logger, true)
	cl.e.respTimeout = opt.ResponseTimeout
	go func() { _ = cl.e.run() }()
	return cl
}

// Done is closed when the association has ended.
func (c *Client) Done() <-chan struct{} { return c.e.done }

// Close releases the association (A-RELEASE) once the requests in flight
// have been answered; if the release fails or takes longer than
// DefaultReleaseTimeout the association is aborted. It returns nil after an
// orderly release and is idempotent.
func (c *Client) Close() error {
	c.closing.Do(func() {
		select {
		case <-c.e.done:
			c.err = c.e.err
			_ = c.c.Close()
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), DefaultReleaseTimeout)
		defer cancel()
		c.e.idle(ctx)
		if err := c.c.Release(ctx); err != nil {
			_ = c.c.Close()
			c.err = err
		}
		<-c.e.done
	})
	return c.err
}

// Abort aborts the association (A-ABORT) without waiting for anything.
func (c *Client) Abort() error {
	err := c.c.Abort(ul.SourceServiceUser, 0)
	<-c.e.done
	return err
}

// roundTrip sends a request with a single response and waits for it.
func (e *engine) roundTrip(ctx context.Context, pcID byte, rq Request, data io.Reader) (Response, error) {
	cl, err := e.invokeRequest(ctx, pcID, rq, data)
	if err != nil {
		return nil, err
	}
	defer cl.release()
	for {
		d, err := e.next(ctx, cl)
		if err != nil {
			return nil, err
		}
		if d.data != nil {
			d.data.Close(nil)
		}
		if !d.rsp.Result().Pending() {
			return d.rsp, nil
		}
	}
}

// statusErr returns nil for success and warnings, a *StatusError otherwise.
func statusErr(st Status) error {
	if st.OK() {
		return nil
	}
	return &StatusError{Status: st}
}

// Echo sends C-ECHO on the Verification context and returns nil on success,
// a *StatusError for another status.
func (c *Client) Echo(ctx context.Context) error {
	pc, ok := c.c.FindContext(uid.Verification)
	if !ok {
		return fmt.Errorf("%w for Verification", ErrNoContext)
	}
	rsp, err := c.e.roundTrip(ctx, pc.ID, &CEchoRequest{AffectedSOPClassUID: uid.Verification}, nil)
	if err != nil {
		return fmt.Errorf("c-echo: %w", err)
	}
	return statusErr(rsp.Result())
}

// StoreOptions are the optional fields of a C-STORE request.
type StoreOptions struct {
	Priority                Priority
	MoveOriginatorAETitle   string
	MoveOriginatorMessageID uint16
}

// Store sends one C-STORE: data is the data set (without File Meta
// Information) encoded in transfer syntax ts, streamed to the peer on an
// accepted context for sopClass and ts. It returns the peer's status, and an
// error when the store failed: a *StatusError for a failure status (warnings
// are not errors), ErrNoContext, or the association's error.
func (c *Client) Store(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader, opt StoreOptions) (Status, error) {
	return storeOn(ctx, c.e, sopClass, sopInstance, ts, data, opt)
}

func storeOn(ctx context.Context, e *engine, sopClass, sopInstance, ts string, data io.Reader, opt StoreOptions) (Status, error) {
	pc, ok := e.c.FindContext(sopClass, ts)
	if !ok {
		return Status{}, fmt.Errorf("%w for %s in %s", ErrNoContext, sopClass, ts)
	}
	data = orEmpty(data)
	if ts == uid.DeflatedExplicitVRLittleEndian {
		data = &evenReader{r: data} // PS3.5 A.5: the deflated stream is padded to even length
	}
	rq := &CStoreRequest{AffectedSOPClassUID: sopClass, AffectedSOPInstanceUID: sopInstance, Priority: opt.Priority,
		MoveOriginatorAETitle: opt.MoveOriginatorAETitle, MoveOriginatorMessageID: opt.MoveOriginatorMessageID}
	rsp, err := e.roundTrip(ctx, pc.ID, rq, data)
	if err != nil {
		return Status{}, fmt.Errorf("c-store: %w", err)
	}
	st := rsp.Result()
	return st, statusErr(st)
}

// nativeSyntaxes are the targets StoreFile may transcode to, by preference.
var nativeSyntaxes = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.DeflatedExplicitVRLittleEndian, uid.ExplicitVRBigEndian}

// StoreFile sends the DICOM file at path with C-STORE, streaming its data
// set. When the association accepted the file's transfer syntax for its SOP
// class, the data set is sent as it is in the file; otherwise a file in a
// native (uncompressed) syntax is transcoded on the fly to an accepted native
// one. An encapsulated file whose syntax was not accepted yields ErrNoContext.
func (c *Client) StoreFile(ctx context.Context, path string, opt StoreOptions) (Status, error) {
	f, err := os.Open(path)
	if err != nil {
		return Status{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Status{}, err
	}
	r, err := part10.NewReader(f, part10.WithStopAtPixelData(), part10.WithoutCharset())
	if err != nil {
		return Status{}, fmt.Errorf("store %s: %w", path, err)
	}
	meta, syn := r.Meta(), r.Syntax()
	class, inst := meta.String(dicom.MediaStorageSOPClassUID), meta.String(dicom.MediaStorageSOPInstanceUID)
	if class == "" || inst == "" {
		ds, err := r.ReadDataset()
		if err != nil {
			return Status{}, fmt.Errorf("store %s: %w", path, err)
		}
		class, inst = ds.String(dicom.SOPClassUID), ds.String(dicom.SOPInstanceUID)
	}
	if class == "" || inst == "" {
		return Status{}, fmt.Errorf("store %s: no SOP class or instance UID", path)
	}
	off := r.File().DatasetOffset
	if _, ok := c.c.FindContext(class, syn.UID); ok {
		return c.Store(ctx, class, inst, syn.UID, io.NewSectionReader(f, off, fi.Size()-off), opt)
	}
	pc, ok := c.c.FindContext(class, nativeSyntaxes...)
	if syn.Encapsulated || !ok {
		return Status{}, fmt.Errorf("store %s: %w for %s in %s", path, ErrNoContext, class, syn.UID)
	}
	target, _ := codec.LookupSyntax(pc.TransferSyntax)
	file, err := part10.ReadFile(path, part10.WithBulkThreshold(transcodeBulkThreshold), part10.WithoutCharset())
	if err != nil {
		return Status{}, fmt.Errorf("store %s: %w", path, err)
	}
	pr, pw := io.Pipe()
	go func() {
		w := codec.NewWriter(pw, target, codec.WithBulkLoader(part10.BulkLoader(f)))
		err := w.WriteDataset(file.Dataset)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	return c.Store(ctx, class, inst, pc.TransferSyntax, pr, opt)
}

// multi sends a C-FIND, C-GET or C-MOVE request and calls onPending for each
// pending response (with its data set reader, or nil) until the final one,
// which it returns. When ctx is cancelled (or onPending fails) it sends
// C-CANCEL and waits up to CancelTimeout for the final response; it then
// returns that response with the cause.
func (c *Client) multi(ctx context.Context, pcID byte, rq Request, data io.Reader, onPending func(Response, io.Reader) error, onFinal func(io.Reader)) (Response, error) {
	cl, err := c.e.invokeRequest(ctx, pcID, rq, data)
	if err != nil {
		return nil, err
	}
	defer cl.release()
	wait := ctx
	var cause error
	var stop context.CancelFunc = func() {}
	defer func() { stop() }()
	cancelOp := func(why error) {
		if cause != nil {
			return
		}
		cause = why
		var cctx context.Context
		cctx, stop = context.WithTimeout(context.Background(), c.opt.CancelTimeout)
		wait = cctx
		if err := c.e.send(cctx, pcID, &CCancelRequest{MessageIDBeingRespondedTo: rq.ID()}, nil); err != nil {
			c.opt.Logger.Warn("sending C-CANCEL failed", "error", err)
		}
	}
	for {
		d, err := c.e.next(wait, cl)
		if err != nil {
			if cause == nil && ctx.Err() != nil {
				cancelOp(context.Cause(ctx))
				continue
			}
			if cause != nil {
				return nil, cause
			}
			return nil, err
		}
		if !d.rsp.Result().Pending() {
			if d.data != nil {
				if onFinal != nil {
					onFinal(d.data)
				}
				d.data.Close(nil)
			}
			return d.rsp, cause
		}
		if cause == nil {
			var r io.Reader
			if d.data != nil {
				r = d.data
			}
			if err := onPending(d.rsp, r); err != nil {
				cancelOp(err)
			}
		}
		if d.data != nil {
			d.data.Close(nil)
		}
	}
}

// Find sends C-FIND with identifier (encoded in the accepted context's
// transfer syntax) and calls fn with each match. Cancelling ctx, or fn
// returning an error, sends C-CANCEL. It returns the final status, with an
// error when the query failed (a *StatusError), was cancelled (the cause) or
// the association failed.
func (c *Client) Find(ctx context.Context, sopClass string, identifier *dicom.Dataset, fn func(match *dicom.Dataset) error) (Status, error) {
	pc, ok := c.c.FindContext(sopClass)
	if !ok {
		return Status{}, fmt.Errorf("%w for %s", ErrNoContext, sopClass)
	}
	b, err := codec.AppendDataset(nil, identifier, contextSyntax(pc))
	if err != nil {
		return Status{}, fmt.Errorf("c-find: encode identifier: %w", err)
	}
	rq := &CFindRequest{AffectedSOPClassUID: sopClass}
	rsp, err := c.multi(ctx, pc.ID, rq, bytes.NewReader(b), func(_ Response, data io.Reader) error {
		if data == nil {
			return nil
		}
		ds, err := ReadDataset(data, pc, MaxIdentifierLength)
		if err != nil {
			return fmt.Errorf("c-find: decode match: %w", err)
		}
		return fn(ds)
	}, nil)
	return finalStatus("c-find", rsp, err)
}

// Get sends C-GET with identifier; the peer's C-STORE sub-operations are
// performed by ClientOptions.Mux (with contexts proposed with the SCP role).
// fn, when not nil, receives the counts of each pending response. Errors and
// cancellation are those of Find.
func (c *Client) Get(ctx context.Context, sopClass string, identifier *dicom.Dataset, fn func(SubOperations) error) (Status, SubOperations, error) {
	r, err := c.retrieve(ctx, sopClass, identifier, &CGetRequest{AffectedSOPClassUID: sopClass}, fn)
	return r.Status, r.SubOperations, err
}

// Move sends C-MOVE of the matches of identifier to the AE destination; fn,
// when not nil, receives the counts of each pending response. Errors and
// cancellation are those of Find.
func (c *Client) Move(ctx context.Context, sopClass, destination string, identifier *dicom.Dataset, fn func(SubOperations) error) (Status, SubOperations, error) {
	r, err := c.retrieve(ctx, sopClass, identifier, &CMoveRequest{AffectedSOPClassUID: sopClass, MoveDestination: destination}, fn)
	return r.Status, r.SubOperations, err
}

// RetrieveResult is the outcome of a C-GET or C-MOVE.
type RetrieveResult struct {
	// Status and SubOperations are those of the final response.
	Status        Status
	SubOperations SubOperations
	// FailedSOPInstanceUIDs is the Failed SOP Instance UID List (0008,0058)
	// of the final response's identifier, when the peer sent one.
	FailedSOPInstanceUIDs []string
}

// GetResult is Get returning the final response's Failed SOP Instance UID
// List as well.
func (c *Client) GetResult(ctx context.Context, sopClass string, identifier *dicom.Dataset, fn func(SubOperations) error) (RetrieveResult, error) {
	return c.retrieve(ctx, sopClass, identifier, &CGetRequest{AffectedSOPClassUID: sopClass}, fn)
}

// MoveResult is Move returning the final response's Failed SOP Instance
// UID List as well.
func (c *Client) MoveResult(ctx context.Context, sopClass, destination string, identifier *dicom.Dataset, fn func(SubOperations) error) (RetrieveResult, error) {
	return c.retrieve(ctx, sopClass, identifier, &CMoveRequest{AffectedSOPClassUID: sopClass, MoveDestination: destination}, fn)
}

func (c *Client) retrieve(ctx context.Context, sopClass string, identifier *dicom.Dataset, rq Request, fn func(SubOperations) error) (RetrieveResult, error) {
	name := "c-get"
	if rq.Command() == CMoveRQ {
		name = "c-move"
	}
	pc, ok := c.c.FindContext(sopClass)
	if !ok {
		return RetrieveResult{}, fmt.Errorf("%w for %s", ErrNoContext, sopClass)
	}
	b, err := codec.AppendDataset(nil, identifier, contextSyntax(pc))
	if err != nil {
		return RetrieveResult{}, fmt.Errorf("%s: encode identifier: %w", name, err)
	}
	var failed []string
	rsp, err := c.multi(ctx, pc.ID, rq, bytes.NewReader(b), func(r Response, _ io.Reader) error {
		if fn == nil {
			return nil
		}
		return fn(subOps(r))
	}, func(data io.Reader) {
		// The identifier of a final response is informative: one that
		// cannot be read loses the list, not the outcome.
		if ds, err := ReadDataset(data, pc, MaxIdentifierLength); err == nil {
			failed = ds.Strings(dicom.FailedSOPInstanceUIDList)
		}
	})
	st, err := finalStatus(name, rsp, err)
	return RetrieveResult{Status: st, SubOperations: subOps(rsp), FailedSOPInstanceUIDs: failed}, err
}

func subOps(r Response) SubOperations {
	switch r := r.(type) {
	case *CGetResponse:
		return r.SubOperations
	case *CMoveResponse:
		return r.SubOperations
	}
	return SubOperations{}
}

func finalStatus(name string, rsp Response, err error) (Status, error) {
	var st Status
	if rsp != nil {
		st = rsp.Result()
	}
	if err != nil {
		return st, fmt.Errorf("%s: %w", name, err)
	}
	return st, statusErr(st)
}

// Do sends any request (the N-services in particular) on an accepted context
// of its SOP class, with data (when not nil) encoded in the context's transfer
// syntax, and returns the final response. onData, when not nil, is called with
// the response's data set, if it has one, before Do returns. The response's
// status is not turned into an error: check rsp.Result().
func (c *Client) Do(ctx context.Context, rq Request, data *dicom.Dataset, onData func(io.Reader) error) (Response, error) {
	pc, ok := c.c.FindContext(sopClass(rq))
	if !ok {
		return nil, fmt.Errorf("%w for %s", ErrNoContext, sopClass(rq))
	}
	var body io.Reader
	if data != nil {
		b, err := codec.AppendDataset(nil, data, contextSyntax(pc))
		if err != nil {
			return nil, fmt.Errorf("%s: encode data set: %w", rq.Command(), err)
		}
		body = bytes.NewReader(b)
	}
	cl, err := c.e.invokeRequest(ctx, pc.ID, rq, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rq.Command(), err)
	}
	defer cl.release()
	for {
		d, err := c.e.next(ctx, cl)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rq.Command(), err)
		}
		var derr error
		if d.data != nil {
			if onData != nil {
				derr = onData(d.data)
			}
			d.data.Close(nil)
		}
		if !d.rsp.Result().Pending() {
			return d.rsp, derr
		}
	}
}

// VerificationSyntaxes are the transfer syntaxes of Verification: the two
// little-endian native ones, explicit first.
var VerificationSyntaxes = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}

// VerificationContext returns a context proposing Verification (C-ECHO) in
// VerificationSyntaxes.
func VerificationContext() ul.ProposedContext {
	return ul.ProposedContext{AbstractSyntax: uid.Verification, TransferSyntaxes: VerificationSyntaxes}
}

// StorageContexts returns one proposed context per SOP class, each offering
// the transfer syntaxes ts (the native little-endian ones when none).
func StorageContexts(sopClasses []string, ts ...string) []ul.ProposedContext {
	if len(ts) == 0 {
		ts = []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}
	}
	pcs := make([]ul.ProposedContext, 0, len(sopClasses))
	for _, c := range sopClasses {
		pcs = append(pcs, ul.ProposedContext{AbstractSyntax: c, TransferSyntaxes: ts})
	}
	return pcs
}

// evenReader reads r and, if it held an odd number of bytes, one NUL more:
// PDV fragments must have even length.
type evenReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (e *evenReader) Read(p []byte) (int, error) {
	if e.eof {
		if e.n%2 == 1 && len(p) > 0 {
			p[0] = 0
			e.n++
			return 1, io.EOF
		}
		return 0, io.EOF
	}
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err == io.EOF {
		e.eof = true
		if n == 0 {
			return e.Read(p)
		}
		err = nil
	}
	return n, err
}
