package ul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// state is a state of the association state machine (PS3.8 Table 9-1).
type state uint8

const (
	sta1  state = iota + 1 // idle
	sta2                   // transport connection open, awaiting A-ASSOCIATE-RQ
	sta3                   // awaiting local A-ASSOCIATE response primitive
	sta4                   // awaiting transport connection opening to complete
	sta5                   // awaiting A-ASSOCIATE-AC or -RJ
	sta6                   // association established, ready for data transfer
	sta7                   // awaiting A-RELEASE-RP
	sta8                   // awaiting local A-RELEASE response primitive
	sta9                   // release collision requestor side, awaiting local A-RELEASE response
	sta10                  // release collision acceptor side, awaiting A-RELEASE-RP
	sta11                  // release collision requestor side, awaiting A-RELEASE-RP
	sta12                  // release collision acceptor side, awaiting local A-RELEASE response
	sta13                  // awaiting transport connection close indication
)

func (s state) String() string { return fmt.Sprintf("Sta%d", s) }

// event is an event of the state machine (PS3.8 Table 9-2).
type event uint8

const (
	evt1  event = iota + 1 // A-ASSOCIATE request (local user)
	evt2                   // transport connection confirm
	evt3                   // A-ASSOCIATE-AC PDU received
	evt4                   // A-ASSOCIATE-RJ PDU received
	evt5                   // transport connection indication
	evt6                   // A-ASSOCIATE-RQ PDU received
	evt7                   // A-ASSOCIATE response primitive (accept)
	evt8                   // A-ASSOCIATE response primitive (reject)
	evt9                   // P-DATA request primitive
	evt10                  // P-DATA-TF PDU received
	evt11                  // A-RELEASE request primitive
	evt12                  // A-RELEASE-RQ PDU received
	evt13                  // A-RELEASE-RP PDU received
	evt14                  // A-RELEASE response primitive
	evt15                  // A-ABORT request primitive
	evt16                  // A-ABORT PDU received
	evt17                  // transport connection closed indication
	evt18                  // ARTIM timer expired
	evt19                  // unrecognized or invalid PDU received
)

func (e event) String() string { return fmt.Sprintf("Evt%d", e) }

// action is an action of the state machine (PS3.8 Tables 9-6 to 9-9).
type action uint8

const (
	none action = iota // not applicable in this state
	ae1                // issue transport connect → Sta4
	ae2                // send A-ASSOCIATE-RQ → Sta5
	ae3                // A-ASSOCIATE confirmation (accept) → Sta6
	ae4                // A-ASSOCIATE confirmation (reject), close → Sta1
	ae5                // transport connection response, start ARTIM → Sta2
	ae6                // stop ARTIM; indication → Sta3, or A-ASSOCIATE-RJ and ARTIM → Sta13
	ae7                // send A-ASSOCIATE-AC → Sta6
	ae8                // send A-ASSOCIATE-RJ, start ARTIM → Sta13
	dt1                // send P-DATA-TF → Sta6
	dt2                // P-DATA indication → Sta6
	ar1                // send A-RELEASE-RQ → Sta7
	ar2                // A-RELEASE indication → Sta8
	ar3                // A-RELEASE confirmation, close → Sta1
	ar4                // send A-RELEASE-RP, start ARTIM → Sta13
	ar5                // stop ARTIM → Sta1
	ar6                // P-DATA indication → Sta7
	ar7                // send P-DATA-TF → Sta8
	ar8                // A-RELEASE indication (collision) → Sta9 (requestor) or Sta10
	ar9                // send A-RELEASE-RP → Sta11
	ar10               // A-RELEASE confirmation → Sta12
	aa1                // send A-ABORT, start ARTIM → Sta13
	aa2                // stop ARTIM, close → Sta1
	aa3                // A-ABORT or A-P-ABORT indication, close → Sta1
	aa4                // A-P-ABORT indication → Sta1
	aa5                // stop ARTIM → Sta1
	aa6                // ignore PDU → Sta13
	aa7                // send A-ABORT → Sta13
	aa8                // send A-ABORT (service-provider), A-P-ABORT indication, start ARTIM → Sta13
)

var actionNames = [...]string{"none", "AE-1", "AE-2", "AE-3", "AE-4", "AE-5", "AE-6", "AE-7", "AE-8",
	"DT-1", "DT-2", "AR-1", "AR-2", "AR-3", "AR-4", "AR-5", "AR-6", "AR-7", "AR-8", "AR-9", "AR-10",
	"AA-1", "AA-2", "AA-3", "AA-4", "AA-5", "AA-6", "AA-7", "AA-8"}

func (a action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("action(%d)", a)
}

// transitions is the state table of PS3.8 Table 9-10: transitions[event][state].
// Columns are Sta1 … Sta13; none marks a combination the standard leaves
// undefined (a local request there is refused with ErrInvalidState).
var transitions = [evt19 + 1][sta13 + 1]action{
	//       Sta1 Sta2 Sta3 Sta4  Sta5 Sta6 Sta7 Sta8 Sta9 Sta10 Sta11 Sta12 Sta13
	evt1:  {0, ae1, none, none, none, none, none, none, none, none, none, none, none, none},
	evt2:  {0, none, none, none, ae2, none, none, none, none, none, none, none, none, none},
	evt3:  {0, none, aa1, aa8, none, ae3, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa6},
	evt4:  {0, none, aa1, aa8, none, ae4, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa6},
	evt5:  {0, ae5, none, none, none, none, none, none, none, none, none, none, none, none},
	evt6:  {0, none, ae6, aa8, none, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa7},
	evt7:  {0, none, none, ae7, none, none, none, none, none, none, none, none, none, none},
	evt8:  {0, none, none, ae8, none, none, none, none, none, none, none, none, none, none},
	evt9:  {0, none, none, none, none, none, dt1, none, ar7, none, none, none, none, none},
	evt10: {0, none, aa1, aa8, none, aa8, dt2, ar6, aa8, aa8, aa8, aa8, aa8, aa6},
	evt11: {0, none, none, none, none, none, ar1, none, none, none, none, none, none, none},
	evt12: {0, none, aa1, aa8, none, aa8, ar2, ar8, aa8, aa8, aa8, aa8, aa8, aa6},
	evt13: {0, none, aa1, aa8, none, aa8, aa8, ar3, aa8, aa8, ar10, ar3, aa8, aa6},
	evt14: {0, none, none, none, none, none, none, none, ar4, ar9, none, none, ar4, none},
	evt15: {0, none, none, aa1, aa2, aa1, aa1, aa1, aa1, aa1, aa1, aa1, aa1, none},
	evt16: {0, none, aa2, aa3, none, aa3, aa3, aa3, aa3, aa3, aa3, aa3, aa3, aa2},
	evt17: {0, none, aa5, aa4, aa4, aa4, aa4, aa4, aa4, aa4, aa4, aa4, aa4, ar5},
	evt18: {0, none, aa2, none, none, none, none, none, none, none, none, none, none, aa2},
	evt19: {0, none, aa1, aa8, none, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa8, aa7},
}

// lookup returns the action for e in s.
func lookup(e event, s state) action {
	if e < evt1 || e > evt19 || s < sta1 || s > sta13 {
		return none
	}
	return transitions[e][s]
}

// pduEvent maps a received PDU to its event.
func pduEvent(p PDU) event {
	switch p.Type() {
	case TypeAssociateAC:
		return evt3
	case TypeAssociateRJ:
		return evt4
	case TypeAssociateRQ:
		return evt6
	case TypePDataTF:
		return evt10
	case TypeReleaseRQ:
		return evt12
	case TypeReleaseRP:
		return evt13
	case TypeAbort:
		return evt16
	}
	return evt19
}

// signal tells the reader what a dispatched event produced.
type signal uint8

const (
	sigContinue signal = iota // nothing for the caller; read on
	sigData                   // PDVs delivered (DT-2, AR-6)
	sigError                  // return the error
)

// receive reads one PDU in the current state and maps the outcome to an
// event. Timeouts in Sta2, Sta5 and Sta13 are the ARTIM timer (Evt18); in
// the other states the idle timeout, or in the middle of a message the
// DIMSE timeout if shorter, reported as cause.
func (a *Association) receive(ctx context.Context) (PDU, event, error) {
	st := a.currentState()
	wait := a.idle
	if a.midMessage && a.dimse > 0 && (wait <= 0 || a.dimse < wait) {
		wait = a.dimse
	}
	switch {
	case st == sta2 || st == sta5 || st == sta13:
		a.conn.SetReadDeadline(time.Now().Add(a.artim))
	case wait > 0:
		a.conn.SetReadDeadline(time.Now().Add(wait))
	default:
		a.conn.SetReadDeadline(time.Time{})
	}
	stop := a.watch(ctx, false)
	start := a.cr.n
	p, buf, err := readPDU(&a.cr, a.readLimit(), a.rbuf[:0])
	stop()
	a.rbuf = buf
	if err == nil {
		a.log.Trace("pdu received", "type", p.Type())
		return p, pduEvent(p), nil
	}
	var ne net.Error
	switch {
	case errors.Is(err, ErrMalformedPDU), errors.Is(err, ErrPDUTooLarge):
		return nil, evt19, err
	case ctx.Err() != nil:
		if a.cr.n == start {
			return nil, 0, context.Cause(ctx) // nothing consumed: the association goes on
		}
		return nil, evt15, context.Cause(ctx)
	case errors.As(err, &ne) && ne.Timeout():
		if st == sta2 || st == sta5 || st == sta13 {
			return nil, evt18, ErrTimeout
		}
		return nil, evt15, ErrTimeout
	}
	return nil, evt17, err
}

// dispatch performs the action for an event received from the network
// (or a local abort for a timeout or a cancellation in the middle of a
// PDU, as evt15 with cause).
func (a *Association) dispatch(ev event, p PDU, cause error) (signal, error) {
	if ev == 0 {
		return sigError, cause
	}
	a.mu.Lock()
	st := a.state
	act := lookup(ev, st)
	a.mu.Unlock()
	a.log.Trace("state machine", "state", st, "event", ev, "action", act)
	switch act {
	case dt2, ar6:
		pd := p.(*PDataTF)
		for _, v := range pd.PDVs {
			if pc, ok := a.Context(v.ContextID); !ok || !pc.Accepted() {
				// PS3.8 §9.3.5 requires an accepted context: an invalid
				// parameter value, answered like an invalid PDU (AA-8).
				return a.providerAbort(AbortInvalidPDUParameterValue, &PDUError{Type: TypePDataTF, Reason: AbortInvalidPDUParameterValue,
					Msg: fmt.Sprintf("pdv for presentation context %d, which is not accepted", v.ContextID)})
			}
		}
		a.cur = pd.PDVs
		return sigData, nil
	case ar2: // A-RELEASE-RQ while established
		a.setState(sta8)
		return sigError, ErrReleaseRequested
	case ar3: // A-RELEASE-RP: confirmation, close
		a.end(ErrReleased)
		return sigError, ErrReleased
	case ar8: // release collision
		if !a.requestor {
			a.setState(sta10)
			return sigContinue, nil
		}
		a.setState(sta9)
		// The local user's release response is implied: it has asked for
		// the release itself (Evt14 in Sta9: AR-9).
		a.setState(sta11)
		if err := a.writeControl(&ReleaseRP{}); err != nil {
			a.end(&AbortError{Source: SourceServiceProvider, Cause: err})
			return sigError, a.terminal()
		}
		return sigContinue, nil
	case ar10: // acceptor in collision got its A-RELEASE-RP: answer (Evt14 in Sta12: AR-4)
		a.setState(sta12)
		if err := a.releaseResponse(); err != nil {
			return sigError, err
		}
		return sigError, ErrReleased
	case aa1, aa8:
		reason := AbortUnexpectedPDU
		var pe *PDUError
		switch {
		case errors.As(cause, &pe):
			reason = pe.Reason
		case errors.Is(cause, ErrPDUTooLarge):
			reason = AbortInvalidPDUParameterValue
		}
		if ev == evt15 { // local abort on a timeout or a cancellation
			return a.localAbort(cause)
		}
		if cause == nil {
			cause = fmt.Errorf("unexpected %s in %s", p.Type(), st)
		}
		return a.providerAbort(reason, cause)
	case aa2, aa5, ar5: // Sta2/Sta13: close without indication
		if ab, ok := p.(*Abort); ok {
			a.end(&AbortError{Source: ab.Source, Reason: ab.Reason})
		} else if cause != nil {
			a.end(&AbortError{Source: SourceServiceProvider, Cause: cause})
		} else {
			a.end(ErrReleased)
		}
		return sigError, a.terminal()
	case aa3: // A-ABORT received
		ab := p.(*Abort)
		a.log.Debug("peer aborted", "source", ab.Source, "reason", ab.Reason)
		a.end(&AbortError{Source: ab.Source, Reason: ab.Reason})
		return sigError, a.terminal()
	case aa4: // transport closed: A-P-ABORT
		a.end(&AbortError{Source: SourceServiceProvider, Cause: cause})
		return sigError, a.terminal()
	case aa6, aa7:
		return sigContinue, nil
	case ae3, ae4, ae6:
		return sigData, nil // the handshake code handles these
	}
	if ev == evt15 {
		return a.localAbort(cause)
	}
	return sigError, fmt.Errorf("%s in %s: %w", ev, st, ErrInvalidState)
}

// providerAbort is AA-8 (and AA-1 for a PDU in Sta2): A-ABORT with source 2
// and reason, then Sta13.
func (a *Association) providerAbort(reason byte, cause error) (signal, error) {
	a.log.Warn("aborting association", "reason", reason, "error", cause)
	a.sendAbortAndLinger(&AbortError{Source: SourceServiceProvider, Reason: reason, Local: true, Cause: cause})
	return sigError, a.terminal()
}

// localAbort aborts because of a timeout or a cancellation (Evt15).
func (a *Association) localAbort(cause error) (signal, error) {
	src := SourceServiceUser
	if errors.Is(cause, ErrTimeout) {
		src = SourceServiceProvider
	}
	a.log.Debug("aborting association", "error", cause)
	a.abort(&AbortError{Source: src, Local: true, Cause: cause})
	return sigError, a.terminal()
}

func (a *Association) setState(s state) {
	a.mu.Lock()
	a.state = s
	a.mu.Unlock()
}
