package dimse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/ul"
)

type harness struct {
	client   *Client
	rq, ac   *fakeConn
	serveErr chan error
}

// start runs Serve with mux on the acceptor end of a fake association and a
// Client on the requestor end.
func start(t *testing.T, invoked, performed int, mux, clientMux *Mux) *harness {
	t.Helper()
	rq, ac := fakePair(invoked, performed, 1000)
	h := &harness{rq: rq, ac: ac, serveErr: make(chan error, 1)}
	go func() { h.serveErr <- serve(context.Background(), ac, mux) }()
	h.client = newClient(rq, ClientOptions{Mux: clientMux, CancelTimeout: 5 * time.Second})
	t.Cleanup(func() { h.client.Abort() })
	return h
}

// close releases the association and checks both sides ended cleanly.
func (h *harness) close(t *testing.T) {
	t.Helper()
	if err := h.client.Close(); err != nil {
		t.Errorf("Close() error = %v", err)
	}
	select {
	case err := <-h.serveErr:
		if err != nil {
			t.Errorf("serve() error = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after release")
	}
}

func TestEcho(t *testing.T) {
	h := start(t, 1, 1, nil, nil)
	for i := 0; i < 3; i++ {
		if err := h.client.Echo(context.Background()); err != nil {
			t.Fatalf("Echo() error = %v", err)
		}
	}
	h.close(t)
}

func TestEchoHandlerStatus(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCEcho(func(ctx context.Context, op *Op, rq *CEchoRequest) Status {
		return Status{Code: CodeProcessingFailure, ErrorComment: "no"}
	})
	h := start(t, 1, 1, mux, nil)
	var se *StatusError
	if err := h.client.Echo(context.Background()); !errors.As(err, &se) || se.Status.Code != CodeProcessingFailure || se.Status.ErrorComment != "no" {
		t.Fatalf("Echo() error = %v, want status 0110 \"no\"", err)
	}
	h.close(t)
}

// TestStoreStreams sends data sets of several sizes (PDVs of 1000 bytes) and
// checks the handler reads them exactly, from the op's context.
func TestStoreStreams(t *testing.T) {
	type got struct {
		sum  [32]byte
		n    int64
		inst string
		ts   string
	}
	recv := make(chan got, 1)
	mux := NewMux(nil)
	mux.HandleCStore(uid.CTImageStorage, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		hash := sha256.New()
		n, err := io.Copy(hash, data)
		if err != nil {
			return StatusProcessingFailure
		}
		var g got
		copy(g.sum[:], hash.Sum(nil))
		g.n, g.inst, g.ts = n, rq.AffectedSOPInstanceUID, op.Context.TransferSyntax
		recv <- g
		return StatusSuccess
	})
	h := start(t, 1, 1, mux, nil)
	for _, size := range []int{0, 1, 999, 1000, 1001, 250_000, 3 << 20} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rand.IntN(256))
		}
		st, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2.3", uid.ExplicitVRLittleEndian, bytes.NewReader(b), StoreOptions{})
		if err != nil || st.Code != CodeSuccess {
			t.Fatalf("Store(%d bytes) = %v, %v", size, st, err)
		}
		g := <-recv
		if g.n != int64(size) || g.sum != sha256.Sum256(b) || g.inst != "1.2.3" || g.ts != uid.ExplicitVRLittleEndian {
			t.Errorf("received %d bytes (%x) inst %s ts %s, want %d bytes", g.n, g.sum[:4], g.inst, g.ts, size)
		}
	}
	h.close(t)
}

func TestStoreNoContext(t *testing.T) {
	h := start(t, 1, 1, nil, nil)
	if _, err := h.client.Store(context.Background(), uid.MRImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader(nil), StoreOptions{}); !errors.Is(err, ErrNoContext) {
		t.Errorf("Store() on a rejected context: error = %v, want ErrNoContext", err)
	}
	if _, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ImplicitVRLittleEndian, bytes.NewReader(nil), StoreOptions{}); !errors.Is(err, ErrNoContext) {
		t.Errorf("Store() in another syntax: error = %v, want ErrNoContext", err)
	}
	h.close(t)
}

// TestStoreHandlerStopsReading: a handler that returns without reading its
// data set does not block the association.
func TestStoreHandlerStopsReading(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCStore(AnySOPClass, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		io.CopyN(io.Discard, data, 10)
		return StatusOutOfResources
	})
	h := start(t, 1, 1, mux, nil)
	for i := 0; i < 3; i++ {
		st, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 100_000)), StoreOptions{})
		var se *StatusError
		if !errors.As(err, &se) || st.Code != CodeOutOfResources {
			t.Fatalf("Store() = %v, %v; want A700", st, err)
		}
	}
	if err := h.client.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close(t)
}

func TestUnhandled(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCStore(uid.MRImageStorage, func(context.Context, *Op, *CStoreRequest, io.Reader) Status { return StatusSuccess })
	h := start(t, 1, 1, mux, nil)
	st, _ := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader([]byte{1, 2}), StoreOptions{})
	if st.Code != CodeSOPClassNotSupported {
		t.Errorf("store of a class without handler: status %v, want 0122", st)
	}
	st, _ = h.client.Find(context.Background(), uid.StudyRootQueryRetrieveInformationModelFind, dicom.NewDataset(0), func(*dicom.Dataset) error { return nil })
	if st.Code != CodeUnrecognizedOperation {
		t.Errorf("find without handler: status %v, want 0211", st)
	}
	h.close(t)
}

func TestHandlerPanic(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCStore(AnySOPClass, func(context.Context, *Op, *CStoreRequest, io.Reader) Status { panic("boom") })
	h := start(t, 1, 1, mux, nil)
	st, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 5000)), StoreOptions{})
	if st.Code != CodeProcessingFailure || err == nil {
		t.Errorf("Store() with panicking handler = %v, %v; want 0110", st, err)
	}
	if err := h.client.Echo(context.Background()); err != nil {
		t.Fatalf("association unusable after a handler panic: %v", err)
	}
	h.close(t)
}

// TestAsyncWindow: with N invoked operations granted, N stores of one
// association run at once (each handler blocks until N are in), never more;
// with N=1 they are strictly sequential.
func TestAsyncWindow(t *testing.T) {
	for _, n := range []int{1, 4} {
		var inFlight, maxSeen atomic.Int32
		all := make(chan struct{})
		var once sync.Once
		mux := NewMux(nil)
		mux.HandleCStore(AnySOPClass, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
			io.Copy(io.Discard, data)
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxSeen.Load()
				if cur <= m || maxSeen.CompareAndSwap(m, cur) {
					break
				}
			}
			if cur == int32(n) {
				once.Do(func() { close(all) })
			}
			select {
			case <-all:
			case <-time.After(5 * time.Second):
				return StatusOutOfResources // the window was not filled
			}
			return StatusSuccess
		})
		h := start(t, n, 1, mux, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 3*n)
		for i := 0; i < 3*n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 3000)), StoreOptions{})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("N=%d: Store() error = %v", n, err)
			}
		}
		if got := maxSeen.Load(); got != int32(n) {
			t.Errorf("N=%d: at most %d stores ran at once, want %d", n, got, n)
		}
		h.close(t)
	}
}

func TestFindAndCancel(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCFind(AnySOPClass, func(ctx context.Context, op *Op, rq *CFindRequest, id *dicom.Dataset, w *FindWriter) Status {
		want := id.String(dicom.PatientID)
		for i := 0; ; i++ {
			if i == 5 && want != "forever" {
				return StatusSuccess
			}
			m := dicom.NewDataset(2)
			m.SetString(dicom.PatientID, want)
			m.SetInts(dicom.NumberOfStudyRelatedInstances, int64(i))
			if err := w.Pending(ctx, m); err != nil {
				if errors.Is(err, ErrCancelled) {
					return StatusCancel
				}
				return StatusProcessingFailure
			}
			time.Sleep(time.Millisecond)
		}
	})
	h := start(t, 1, 1, mux, nil)
	q := dicom.NewDataset(1)
	q.SetString(dicom.PatientID, "P1")
	var got []string
	st, err := h.client.Find(context.Background(), uid.StudyRootQueryRetrieveInformationModelFind, q, func(m *dicom.Dataset) error {
		got = append(got, m.String(dicom.PatientID))
		return nil
	})
	if err != nil || st.Code != CodeSuccess || len(got) != 5 || got[4] != "P1" {
		t.Fatalf("Find() = %v, %v, matches %q", st, err, got)
	}

	q.SetString(dicom.PatientID, "forever")
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	st, err = h.client.Find(ctx, uid.StudyRootQueryRetrieveInformationModelFind, q, func(m *dicom.Dataset) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || st.Code != CodeCancel {
		t.Fatalf("cancelled Find() = %v, %v; want FE00 and context.Canceled", st, err)
	}
	if err := h.client.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close(t)
}

// TestGetSubOperations: a C-GET handler stores back on the same association
// (SCP role) and reports progress; the client's Mux receives the stores.
func TestGetSubOperations(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCGet(AnySOPClass, func(ctx context.Context, op *Op, rq *CGetRequest, id *dicom.Dataset, w *SubOpWriter) (Status, SubOperations) {
		var n SubOperations
		for i := 0; i < 3; i++ {
			st, err := w.Store(ctx, uid.CTImageStorage, "1.2."+string(rune('0'+i)), uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 2500)))
			if err != nil || !st.OK() {
				n.Failed++
			} else {
				n.Completed++
			}
			n.Remaining = uint16(2 - i)
			if i < 2 {
				w.Pending(ctx, n)
			}
		}
		n.Remaining = 0
		return StatusSuccess, n
	})
	var stored atomic.Int32
	cmux := NewMux(nil)
	cmux.HandleCStore(uid.CTImageStorage, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		if n, _ := io.Copy(io.Discard, data); n == 2500 {
			stored.Add(1)
		}
		return StatusSuccess
	})
	h := start(t, 1, 1, mux, cmux)
	var pend []SubOperations
	st, n, err := h.client.Get(context.Background(), uid.StudyRootQueryRetrieveInformationModelGet, dicom.NewDataset(0), func(s SubOperations) error {
		pend = append(pend, s)
		return nil
	})
	if err != nil || st.Code != CodeSuccess || n.Completed != 3 || stored.Load() != 3 || len(pend) != 2 || pend[1].Remaining != 1 {
		t.Fatalf("Get() = %v, %+v, %v; stored %d, pending %+v", st, n, err, stored.Load(), pend)
	}
	h.close(t)
}

// TestGetResponseTimeout: a C-STORE sub-operation the requestor does not
// answer within the Mux's response timeout fails, and the association is
// aborted.
func TestGetResponseTimeout(t *testing.T) {
	mux := NewMux(nil)
	mux.SetResponseTimeout(100 * time.Millisecond)
	storeErr := make(chan error, 1)
	mux.HandleCGet(AnySOPClass, func(ctx context.Context, op *Op, rq *CGetRequest, id *dicom.Dataset, w *SubOpWriter) (Status, SubOperations) {
		_, err := w.Store(ctx, uid.CTImageStorage, "1.2.3", uid.ExplicitVRLittleEndian, bytes.NewReader(make([]byte, 100)))
		storeErr <- err
		return StatusSuccess, SubOperations{Failed: 1}
	})
	release := make(chan struct{})
	cmux := NewMux(nil)
	cmux.HandleCStore(uid.CTImageStorage, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		select { // never answers in time
		case <-release:
		case <-ctx.Done():
		}
		return StatusSuccess
	})
	h := start(t, 1, 1, mux, cmux)
	defer close(release)
	go h.client.Get(context.Background(), uid.StudyRootQueryRetrieveInformationModelGet, dicom.NewDataset(0), nil)
	select {
	case err := <-storeErr:
		if !errors.Is(err, ErrResponseTimeout) {
			t.Fatalf("sub-operation's Store() = %v, want ErrResponseTimeout", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("an unanswered sub-operation did not time out")
	}
	select {
	case <-h.serveErr:
	case <-time.After(time.Minute):
		t.Fatal("the association goes on after a sub-operation timed out")
	}
}

func TestMoveAndN(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCMove(AnySOPClass, func(ctx context.Context, op *Op, rq *CMoveRequest, id *dicom.Dataset, w *SubOpWriter) (Status, SubOperations) {
		if rq.MoveDestination != "DEST" {
			return StatusMoveDestinationUnknown, SubOperations{}
		}
		return Status{Code: CodeSubOperationsWarning}, SubOperations{Completed: 1, Failed: 1}
	})
	mux.HandleN(NCreateRQ, uid.ModalityPerformedProcedureStep, func(ctx context.Context, op *Op, rq Request, data io.Reader) NResult {
		ds, err := ReadDataset(data, op.Context, 1<<20)
		if err != nil || ds.String(dicom.PatientID) != "P9" {
			return NResult{Status: StatusCannotUnderstand}
		}
		reply := dicom.NewDataset(1)
		reply.SetString(dicom.PatientID, "P9")
		return NResult{Status: StatusSuccess, AffectedSOPInstanceUID: "1.2.9", Data: reply}
	})
	h := start(t, 1, 1, mux, nil)
	st, n, err := h.client.Move(context.Background(), uid.StudyRootQueryRetrieveInformationModelMove, "DEST", dicom.NewDataset(0), nil)
	if err != nil || st.Code != CodeSubOperationsWarning || n.Completed != 1 || n.Failed != 1 {
		t.Errorf("Move() = %v, %+v, %v", st, n, err)
	}
	st, _, err = h.client.Move(context.Background(), uid.StudyRootQueryRetrieveInformationModelMove, "ELSEWHERE", dicom.NewDataset(0), nil)
	if st.Code != CodeMoveDestinationUnknown || err == nil {
		t.Errorf("Move() to an unknown AE = %v, %v", st, err)
	}

	// N-CREATE through the generic exchange.
	attrs := dicom.NewDataset(1)
	attrs.SetString(dicom.PatientID, "P9")
	rq := &NCreateRequest{AffectedSOPClassUID: uid.ModalityPerformedProcedureStep}
	var reply *dicom.Dataset
	rsp, err := h.client.Do(context.Background(), rq, attrs, func(data io.Reader) error {
		var err error
		reply, err = ReadDataset(data, testContexts[5], 1<<20)
		return err
	})
	if err != nil || rsp.Result().Code != CodeSuccess || rsp.(*NCreateResponse).AffectedSOPInstanceUID != "1.2.9" || reply.String(dicom.PatientID) != "P9" {
		t.Errorf("N-CREATE = %+v, %v, reply %v", rsp, err, reply)
	}
	h.close(t)
}

func TestProtocolViolationsAbort(t *testing.T) {
	echo, _ := EncodeCommand(&CEchoRequest{AffectedSOPClassUID: uid.Verification}, false)
	tests := []struct {
		name string
		pdvs []ul.PDV
	}{
		{name: "data without command", pdvs: []ul.PDV{{ContextID: 1, Last: true, Data: []byte{1}}}},
		{name: "interleaved contexts", pdvs: []ul.PDV{{ContextID: 1, Command: true, Data: echo[:10]}, {ContextID: 3, Command: true, Last: true, Data: echo[10:]}}},
		{name: "data before command complete", pdvs: []ul.PDV{{ContextID: 1, Command: true, Data: echo[:10]}, {ContextID: 1, Last: true, Data: []byte{0}}}},
		{name: "rejected context", pdvs: []ul.PDV{{ContextID: 13, Command: true, Last: true, Data: echo}}},
		{name: "unknown context", pdvs: []ul.PDV{{ContextID: 99, Command: true, Last: true, Data: echo}}},
		{name: "bad command", pdvs: []ul.PDV{{ContextID: 1, Command: true, Last: true, Data: []byte{1, 2, 3}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rq, ac := fakePair(1, 1, 1000)
			errc := make(chan error, 1)
			go func() { errc <- serve(context.Background(), ac, nil) }()
			rq.inject = tc.pdvs
			rq.SendMessage(context.Background(), 1, nil, nil)
			select {
			case err := <-errc:
				if !errors.Is(err, ErrProtocol) {
					t.Errorf("serve() error = %v, want ErrProtocol", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("serve did not end")
			}
			if rq.wasAborted() != nil {
				t.Error("association not aborted")
			}
		})
	}
}

// TestAbortEndsHandlers: with a window of two operations the handlers run
// in their own goroutines, and an abort by the peer ends the association and
// the context of a handler that does not read its data set: right away, and
// after the receive loop has taken the connection back from it.
func TestAbortEndsHandlers(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		pause time.Duration // before the abort
	}{
		{name: "empty data set", data: nil},
		{name: "unread data set, connection taken back", data: randomBytes(3500), pause: 5 * reclaimInterval},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			mux := NewMux(nil)
			mux.HandleCStore(AnySOPClass, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
				close(started)
				<-ctx.Done()
				return StatusProcessingFailure
			})
			h := start(t, 2, 2, mux, nil)
			errc := make(chan error, 1)
			go func() {
				_, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, bytes.NewReader(tc.data), StoreOptions{})
				errc <- err
			}()
			<-started
			time.Sleep(tc.pause)
			h.client.Abort()
			if err := <-errc; !errors.Is(err, ErrClosed) {
				t.Errorf("Store() after abort: error = %v, want ErrClosed", err)
			}
			select {
			case err := <-h.serveErr:
				if !errors.Is(err, ul.ErrAborted) {
					t.Errorf("serve() error = %v, want ErrAborted", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("serve did not return after the abort")
			}
		})
	}
}
