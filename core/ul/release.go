package ul

import (
	"context"
	"errors"
)

// Release requests an orderly release (A-RELEASE-RQ, AR-1) and waits for
// A-RELEASE-RP. A release collision (both sides sent A-RELEASE-RQ, PS3.8
// §9.2 Sta9–Sta12) is resolved inside. When another goroutine is in
// ReadPDV, that call observes the reply and returns ErrReleased; PDVs that
// arrive while Release reads itself are kept for ReadPDV (up to 16 MiB).
// It returns nil once released; when ctx is done first, the association is
// aborted and ctx's error returned.
func (a *Association) Release(ctx context.Context) error {
	a.mu.Lock()
	act := lookup(evt11, a.state)
	if act == ar1 {
		a.state = sta7
	}
	a.mu.Unlock()
	if act != ar1 {
		if err := a.terminal(); err != ErrInvalidState {
			return err
		}
		return ErrInvalidState
	}
	if err := a.writePDU(ctx, &ReleaseRQ{}); err != nil {
		a.end(&AbortError{Source: SourceServiceProvider, Local: true, Cause: err})
		return err
	}
	for {
		if err := lock(ctx, a.rsem); err != nil {
			a.localAbort(err)
			return err
		}
		err := a.releaseStep(ctx)
		unlock(a.rsem)
		switch {
		case err == nil:
			continue
		case errors.Is(err, ErrReleased):
			return nil
		case ctx.Err() != nil:
			a.localAbort(err)
			return err
		}
		return err
	}
}

// releaseStep reads one PDU for Release; the caller holds rsem. It returns
// nil to read on.
func (a *Association) releaseStep(ctx context.Context) error {
	switch a.currentState() {
	case sta1, sta13:
		return a.terminal()
	}
	p, ev, cause := a.receive(ctx)
	if st := a.currentState(); st == sta13 || st == sta1 {
		return a.terminal()
	}
	if ev == 0 {
		return cause
	}
	sig, err := a.dispatch(ev, p, cause)
	switch sig {
	case sigData:
		for _, v := range a.cur {
			if a.pendN+len(v.Data) > maxPendingBytes {
				a.log.Warn("pdv dropped while awaiting release", "context", v.ContextID)
				continue
			}
			v.Data = append([]byte(nil), v.Data...)
			a.pending = append(a.pending, v)
			a.pendN += len(v.Data)
		}
		a.cur = nil
		return nil
	case sigError:
		return err
	}
	return nil
}

// ReleaseResponse answers a release request with A-RELEASE-RP (AR-4) after
// ReadPDV returned ErrReleaseRequested; the connection is closed once the
// peer has closed it or the ARTIM timer expired (see Done). It returns
// ErrInvalidState when no release request is pending. Safe for concurrent use.
func (a *Association) ReleaseResponse() error {
	return a.releaseResponse()
}

// releaseResponse is the local A-RELEASE response (Evt14): AR-4 in Sta8 or
// Sta12, AR-9 in Sta9.
func (a *Association) releaseResponse() error {
	a.mu.Lock()
	act := lookup(evt14, a.state)
	switch act {
	case ar4:
		a.state = sta13
		if a.final == nil {
			a.final = ErrReleased
		}
	case ar9:
		a.state = sta11
	}
	a.mu.Unlock()
	switch act {
	case ar4:
		if err := a.writeControl(&ReleaseRP{}); err != nil {
			a.end(&AbortError{Source: SourceServiceProvider, Local: true, Cause: err})
			return err
		}
		a.linger()
		return nil
	case ar9:
		return a.writeControl(&ReleaseRP{})
	}
	if err := a.terminal(); err != ErrInvalidState {
		return err
	}
	return ErrInvalidState
}
