package ul

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ReadPDV returns the next PDV received (PS3.8 P-DATA indication). Its Data
// is valid until the next ReadPDV call. It returns
//   - ErrReleaseRequested when the peer sent A-RELEASE-RQ: the caller
//     finishes its work and calls ReleaseResponse (again on later calls);
//   - ErrReleased after an orderly release completed (a release collision
//     is handled inside);
//   - an *AbortError (errors.Is ErrAborted) when the peer aborted, the
//     connection failed, or this side aborted because of an invalid or
//     unexpected PDU or the idle timeout (then errors.Is ErrTimeout);
//   - ctx's error when ctx is done: if the read had begun a PDU, the
//     association is aborted (source 0), else it goes on.
//
// Not safe for concurrent use: one receive loop per association.
func (a *Association) ReadPDV(ctx context.Context) (PDV, error) {
	if err := lock(ctx, a.rsem); err != nil {
		return PDV{}, err
	}
	defer unlock(a.rsem)
	for {
		if len(a.pending) > 0 {
			v := a.pending[0]
			a.pending = a.pending[1:]
			a.pendN -= len(v.Data)
			return v, nil
		}
		if len(a.cur) > 0 {
			v := a.cur[0]
			a.cur = a.cur[1:]
			return v, nil
		}
		switch a.currentState() {
		case sta8:
			return PDV{}, ErrReleaseRequested
		case sta1, sta13:
			return PDV{}, a.terminal()
		}
		p, ev, cause := a.receive(ctx)
		if st := a.currentState(); st == sta13 || st == sta1 {
			return PDV{}, a.terminal() // aborted while reading; linger owns the rest
		}
		sig, err := a.dispatch(ev, p, cause)
		if sig == sigError {
			return PDV{}, err
		}
	}
}

// SendMessage sends one DIMSE message on presentation context contextID:
// command as command PDVs, then, when data is not nil, the data set read
// from data as data PDVs, one PDV per P-DATA-TF of at most
// PeerMaxPDULength bytes (DefaultMaxPDULength when the peer's is
// unlimited). The data set is streamed, never buffered whole. Messages are
// never interleaved: concurrent callers are serialised per message, so it
// is safe for concurrent use. When ctx is done or data fails after part of
// the message was sent, the association is aborted (the peer cannot
// resynchronise); before, it goes on.
func (a *Association) SendMessage(ctx context.Context, contextID byte, command []byte, data io.Reader) error {
	if pc, ok := a.Context(contextID); !ok || !pc.Accepted() {
		return fmt.Errorf("send on presentation context %d: not accepted", contextID)
	}
	if err := lock(ctx, a.msem); err != nil {
		return err
	}
	defer unlock(a.msem)
	frag := int(DefaultMaxPDULength)
	if a.peerMax != 0 {
		frag = int(a.peerMax)
	}
	frag -= pdvHeaderLength
	if frag < 1 {
		frag = 1
	}
	s := sender{a: a, ctx: ctx, id: contextID}
	for off := 0; off < len(command) || off == 0; off += frag {
		end := min(off+frag, len(command))
		if err := s.send(true, end == len(command), command[off:end]); err != nil {
			return err
		}
		if end == len(command) {
			break
		}
	}
	if data == nil {
		return nil
	}
	bufs := [2][]byte{make([]byte, frag), make([]byte, frag)}
	n, rerr := io.ReadFull(data, bufs[0])
	for i := 0; ; i ^= 1 {
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			a.localAbort(rerr)
			return fmt.Errorf("read data set: %w", rerr)
		}
		if rerr != nil { // short or empty read: this is the last fragment
			return s.send(false, true, bufs[i][:n])
		}
		m, rerr2 := io.ReadFull(data, bufs[i^1])
		if m == 0 && errors.Is(rerr2, io.EOF) {
			return s.send(false, true, bufs[i][:n])
		}
		if err := s.send(false, false, bufs[i][:n]); err != nil {
			return err
		}
		n, rerr = m, rerr2
	}
}

// sender writes the PDUs of one message.
type sender struct {
	a     *Association
	ctx   context.Context
	id    byte
	sent  bool
	frame []byte
}

// send writes one P-DATA-TF holding one PDV (DT-1 or AR-7).
func (s *sender) send(command, last bool, data []byte) error {
	a := s.a
	a.mu.Lock()
	act := lookup(evt9, a.state)
	a.mu.Unlock()
	if act != dt1 && act != ar7 {
		if err := a.terminal(); err != ErrInvalidState {
			return err
		}
		return fmt.Errorf("send p-data in %s: %w", a.currentState(), ErrInvalidState)
	}
	if err := lock(s.ctx, a.psem); err != nil {
		return s.fail(err)
	}
	defer unlock(a.psem)
	n := len(data) + pdvHeaderLength
	f := s.frame[:0]
	f = append(f, byte(TypePDataTF), 0)
	f = binary.BigEndian.AppendUint32(f, uint32(n))
	f = binary.BigEndian.AppendUint32(f, uint32(len(data)+2))
	f = append(f, s.id, controlHeader(command, last))
	s.frame = f
	// Header and data go out together (writev on TCP).
	if err := a.write(s.ctx, f, data); err != nil {
		s.sent = true // part of the PDU may be out: the stream is lost
		return s.fail(err)
	}
	s.sent = true
	return nil
}

// fail ends a message that could not be completed.
func (s *sender) fail(err error) error {
	if s.ctx.Err() != nil && !s.sent {
		return err
	}
	if s.ctx.Err() != nil {
		s.a.localAbort(err)
	} else {
		s.a.end(&AbortError{Source: SourceServiceProvider, Local: true, Cause: err})
	}
	return fmt.Errorf("send p-data: %w", err)
}
