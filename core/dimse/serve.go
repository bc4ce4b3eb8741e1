package dimse

import (
	"context"
	"time"

	"github.com/pacsforge/pacs/core/ul"
)

// Serve performs the requests of an accepted association with mux until the
// association ends; it is what a ul.ServerOptions.Handler calls. Requests run
// concurrently within the asynchronous operations window the association
// granted (one at a time when none was negotiated: C-STORE and C-ECHO then
// run on the receive goroutine, see the handler types); responses are sent
// as their handlers finish. On A-RELEASE-RQ it waits for the running operations,
// answers A-RELEASE-RP and returns nil; on abort or a protocol violation by
// the peer (answered with A-ABORT) it cancels the operations' contexts, waits
// for them and returns the error. ctx bounds the association: when it is
// cancelled the receive loop stops and the error is returned.
func Serve(ctx context.Context, a *ul.Association, mux *Mux) error {
	return serve(ctx, a, mux)
}

func serve(ctx context.Context, c conn, mux *Mux) error {
	if mux == nil {
		mux = NewMux(nil)
	}
	log := mux.log.With("assoc", c.ID(), "calling_ae", c.CallingAE(), "peer", c.RemoteAddr())
	e := newEngine(ctx, c, mux, log, false)
	e.respTimeout = time.Duration(mux.respTimeout.Load())
	return e.run()
}
