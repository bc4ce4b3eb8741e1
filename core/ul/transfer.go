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
			a.midMessage = !v.Last
			return v, nil
		}
		if len(a.cur) > 0 {
			v := a.cur[0]
			a.cur = a.cur[1:]
			a.midMessage = !v.Last
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

// ExpectFragments notes that the message being received goes on although
// the last PDV returned ended its command: the command announced a data
// set. The wait for the next PDU is then bounded by the DIMSE timeout as in
// the middle of a command or data set (see ServerOptions.DIMSETimeout). It
// is called by the receive loop between two ReadPDV calls; while another
// goroutine is reading, it does nothing.
func (a *Association) ExpectFragments() {
	select {
	case a.rsem <- struct{}{}:
		a.midMessage = true
		unlock(a.rsem)
	default:
	}
}

// SendMessage sends one DIMSE message on presentation context contextID:
// command as command PDVs, then, when data is not nil, the data set read
// from data as data PDVs, one PDV per P-DATA-TF of at most
// PeerMaxPDULength bytes (DefaultMaxPDULength when the peer's is
// unlimited). The data set is streamed, never buffered whole: it is read
// straight into the PDUs' buffers, and each PDU goes out in one write (the
// last command PDU together with the first data PDU). Messages are never
// interleaved: concurrent callers are serialised per message, so it is safe
// for concurrent use. When ctx is done or data fails after part of the
// message was sent, the association is aborted (the peer cannot
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
		last := end == len(command)
		s.cmd = appendPDataHeader(s.cmd[:0], contextID, true, last, end-off)
		s.cmd = append(s.cmd, command[off:end]...)
		if last && data != nil {
			break // goes out with the first data PDU
		}
		if err := s.send(s.cmd); err != nil {
			return err
		}
		s.cmd = s.cmd[:0]
		if last {
			return nil
		}
	}
	bufs := a.sendBuffers(frag)
	n, rerr := io.ReadFull(data, bufs[0][pdataPrefix:])
	for i := 0; ; i ^= 1 {
		if rerr != nil && !errors.Is(rerr, io.EOF) && !errors.Is(rerr, io.ErrUnexpectedEOF) {
			if s.sent {
				a.localAbort(rerr)
			}
			return fmt.Errorf("read data set: %w", rerr)
		}
		if rerr != nil { // short or empty read: this is the last fragment
			return s.sendData(bufs[i], n, true)
		}
		m, rerr2 := io.ReadFull(data, bufs[i^1][pdataPrefix:])
		if m == 0 && errors.Is(rerr2, io.EOF) {
			return s.sendData(bufs[i], n, true)
		}
		if err := s.sendData(bufs[i], n, false); err != nil {
			return err
		}
		n, rerr = m, rerr2
	}
}

// pdataPrefix is the length of a P-DATA-TF header and its single PDV's
// header, which precede the PDV data in a send buffer.
const pdataPrefix = PDUHeaderLength + pdvHeaderLength

// appendPDataHeader appends the headers of a P-DATA-TF holding one PDV of
// n data bytes.
func appendPDataHeader(b []byte, id byte, command, last bool, n int) []byte {
	b = append(b, byte(TypePDataTF), 0)
	b = binary.BigEndian.AppendUint32(b, uint32(n+pdvHeaderLength))
	b = binary.BigEndian.AppendUint32(b, uint32(n+2))
	return append(b, id, controlHeader(command, last))
}

// sendBuffers returns the two buffers data PDUs are built in, each room
// for the headers and frag data bytes; they are kept for the association's
// next messages. The caller holds msem.
func (a *Association) sendBuffers(frag int) *[2][]byte {
	if len(a.sbufs[0]) != pdataPrefix+frag {
		a.sbufs = [2][]byte{make([]byte, pdataPrefix+frag), make([]byte, pdataPrefix+frag)}
	}
	return &a.sbufs
}

// sender writes the PDUs of one message.
type sender struct {
	a    *Association
	ctx  context.Context
	id   byte
	sent bool
	cmd  []byte // the command PDU not yet written
}

// sendData writes the data PDU built in buf around its n data bytes,
// preceded by the pending command PDU.
func (s *sender) sendData(buf []byte, n int, last bool) error {
	appendPDataHeader(buf[:0], s.id, false, last, n)
	if len(s.cmd) > 0 {
		err := s.send(s.cmd, buf[:pdataPrefix+n])
		s.cmd = s.cmd[:0]
		return err
	}
	return s.send(buf[:pdataPrefix+n])
}

// send writes P-DATA-TF PDUs (DT-1 or AR-7) in one write.
func (s *sender) send(pdus ...[]byte) error {
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
	if err := a.write(s.ctx, pdus...); err != nil {
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
