package dimse

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/ul"
)

// The fake association: two ends joined by channels of events, each
// SendMessage fragmenting into PDVs of at most maxPDV bytes. It honours the
// contract's rules that matter here: PDV data valid until the next ReadPDV
// (the buffer is reused), messages never interleaved, release and abort.

type evKind int

const (
	evPDV evKind = iota
	evReleaseRQ
	evReleaseRP
)

type event struct {
	kind evKind
	pdv  ul.PDV
}

type fakeLink struct {
	aborted   chan struct{}
	abortOnce sync.Once
	abortErr  error
}

type fakeConn struct {
	link      *fakeLink
	in, out   chan event
	sendMu    sync.Mutex
	maxPDV    int
	pcs       []ul.PresentationContext
	invoked   int
	performed int
	requestor bool
	buf       []byte
	released  chan struct{} // closed when A-RELEASE-RP arrived
	relOnce   sync.Once
	pdvs      int // PDVs read (receive loop only)
	// inject, when set, replaces the fragments of the next message sent.
	inject []ul.PDV
}

// testContexts are the presentation contexts of the fake associations.
var testContexts = []ul.PresentationContext{
	{ID: 1, AbstractSyntax: uid.Verification, TransferSyntax: uid.ImplicitVRLittleEndian},
	{ID: 3, AbstractSyntax: uid.CTImageStorage, TransferSyntax: uid.ExplicitVRLittleEndian, SCPRole: true, SCURole: true},
	{ID: 5, AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelFind, TransferSyntax: uid.ExplicitVRLittleEndian},
	{ID: 7, AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelGet, TransferSyntax: uid.ImplicitVRLittleEndian},
	{ID: 9, AbstractSyntax: uid.StudyRootQueryRetrieveInformationModelMove, TransferSyntax: uid.ExplicitVRLittleEndian},
	{ID: 11, AbstractSyntax: uid.ModalityPerformedProcedureStep, TransferSyntax: uid.ExplicitVRLittleEndian},
	{ID: 13, AbstractSyntax: uid.MRImageStorage, Result: 3},
}

// fakePair returns the requestor's and the acceptor's end of an association
// granting the given window.
func fakePair(invoked, performed, maxPDV int) (rq, ac *fakeConn) {
	link := &fakeLink{aborted: make(chan struct{})}
	a2b, b2a := make(chan event, 16), make(chan event, 16)
	mk := func(in, out chan event, requestor bool) *fakeConn {
		return &fakeConn{link: link, in: in, out: out, maxPDV: maxPDV, pcs: testContexts, invoked: invoked,
			performed: performed, requestor: requestor, released: make(chan struct{})}
	}
	return mk(b2a, a2b, true), mk(a2b, b2a, false)
}

func (f *fakeConn) ID() uint64           { return 1 }
func (f *fakeConn) CallingAE() string    { return "SCU" }
func (f *fakeConn) CalledAE() string     { return "SCP" }
func (f *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (f *fakeConn) Contexts() []ul.PresentationContext {
	return f.pcs
}
func (f *fakeConn) AsyncOps() (int, int) { return f.invoked, f.performed }

func (f *fakeConn) Context(id byte) (ul.PresentationContext, bool) {
	for _, pc := range f.pcs {
		if pc.ID == id {
			return pc, true
		}
	}
	return ul.PresentationContext{}, false
}

func (f *fakeConn) FindContext(as string, ts ...string) (ul.PresentationContext, bool) {
	for _, pc := range f.pcs {
		if pc.AbstractSyntax != as || !pc.Accepted() {
			continue
		}
		if len(ts) == 0 {
			return pc, true
		}
		for _, t := range ts {
			if t == pc.TransferSyntax {
				return pc, true
			}
		}
	}
	return ul.PresentationContext{}, false
}

func (f *fakeConn) abortError() error {
	return &ul.AbortError{Source: ul.SourceServiceUser}
}

func (f *fakeConn) ReadPDV(ctx context.Context) (ul.PDV, error) {
	select {
	case ev := <-f.in:
		switch ev.kind {
		case evReleaseRQ:
			return ul.PDV{}, ul.ErrReleaseRequested
		case evReleaseRP:
			f.relOnce.Do(func() { close(f.released) })
			return ul.PDV{}, ul.ErrReleased
		}
		f.pdvs++
		f.buf = append(f.buf[:0], ev.pdv.Data...)
		for i := range ev.pdv.Data {
			ev.pdv.Data[i] = 0xEE // the sender's copy is garbage now
		}
		ev.pdv.Data = f.buf
		return ev.pdv, nil
	case <-f.link.aborted:
		return ul.PDV{}, f.abortError()
	case <-ctx.Done():
		return ul.PDV{}, ctx.Err()
	}
}

func (f *fakeConn) put(ctx context.Context, ev event) error {
	select {
	case f.out <- ev:
		return nil
	case <-f.link.aborted:
		return f.abortError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeConn) SendMessage(ctx context.Context, pcID byte, cmd []byte, data io.Reader) error {
	f.sendMu.Lock()
	defer f.sendMu.Unlock()
	if f.inject != nil {
		pdvs := f.inject
		f.inject = nil
		for _, p := range pdvs {
			if err := f.put(ctx, event{pdv: p}); err != nil {
				return err
			}
		}
		return nil
	}
	for len(cmd) > 0 {
		n := min(len(cmd), f.maxPDV)
		p := ul.PDV{ContextID: pcID, Command: true, Last: n == len(cmd), Data: append([]byte(nil), cmd[:n]...)}
		cmd = cmd[n:]
		if err := f.put(ctx, event{pdv: p}); err != nil {
			return err
		}
	}
	if data == nil {
		return nil
	}
	chunk := func() ([]byte, error) {
		b := make([]byte, f.maxPDV)
		n, err := io.ReadFull(data, b)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = nil
		}
		return b[:n], err
	}
	cur, err := chunk()
	if err != nil {
		return err
	}
	for {
		next, err := chunk()
		if err != nil {
			return err
		}
		last := len(next) == 0
		if err := f.put(ctx, event{pdv: ul.PDV{ContextID: pcID, Last: last, Data: cur}}); err != nil {
			return err
		}
		if last {
			return nil
		}
		cur = next
	}
}

func (f *fakeConn) ReleaseResponse() error {
	return f.put(context.Background(), event{kind: evReleaseRP})
}

func (f *fakeConn) Release(ctx context.Context) error {
	if err := f.put(ctx, event{kind: evReleaseRQ}); err != nil {
		return err
	}
	select {
	case <-f.released:
		return nil
	case <-f.link.aborted:
		return f.abortError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeConn) Abort(source, reason byte) error {
	f.link.abortOnce.Do(func() { close(f.link.aborted) })
	return nil
}

func (f *fakeConn) Close() error { return f.Abort(0, 0) }

var errNotAborted = errors.New("not aborted")

// wasAborted reports whether the link was aborted.
func (f *fakeConn) wasAborted() error {
	select {
	case <-f.link.aborted:
		return nil
	default:
		return errNotAborted
	}
}
