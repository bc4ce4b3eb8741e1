package archive

import (
	"context"
	"errors"
	"maps"
	"time"

	"github.com/pacsforge/pacs/core/storage"
)

// Limits of the cleanup of puts whose outcome is unknown.
const (
	// pendingInterval is the period of the attempts to remove what such
	// puts may have left.
	pendingInterval = 2 * time.Second
	// pendingCloseTimeout bounds the last attempt, at Close.
	pendingCloseTimeout = 10 * time.Second
)

// uncertainPut reports whether a put that failed with err may still have
// written its object: the backend could not be asked (a plugin process
// that died, hung or timed out, an unreachable object store) while the
// put was under way, so the object may exist although the put failed.
func uncertainPut(err error) bool { return errors.Is(err, storage.ErrUnavailable) }

// keepPending keeps the journal intent id of a store whose put failed with
// an unknown outcome open: the cleanup loop removes the object it names
// once the backend answers again (and Recover at the next start if it
// never does).
func (a *Archive) keepPending(id uint64, in intent) {
	a.pendMu.Lock()
	a.pending[id] = in
	a.pendMu.Unlock()
}

// cleanupLoop retries the pending intents every pendingInterval until
// Close, then makes a last attempt bounded by pendingCloseTimeout.
func (a *Archive) cleanupLoop() {
	defer close(a.loopDone)
	t := time.NewTicker(pendingInterval)
	defer t.Stop()
	for {
		select {
		case <-a.stopLoop:
			ctx, cancel := context.WithTimeout(context.Background(), pendingCloseTimeout)
			a.cleanupPending(ctx)
			cancel()
			return
		case <-t.C:
			a.cleanupPending(context.Background())
		}
	}
}

// cleanupPending resolves the pending intents as Recover does (removing
// each object the index does not reference, under the instance's store
// lock), stopping at the first failure: the backend is still unavailable.
func (a *Archive) cleanupPending(ctx context.Context) {
	a.pendMu.Lock()
	pending := maps.Clone(a.pending)
	a.pendMu.Unlock()
	for id, in := range pending {
		if ctx.Err() != nil {
			return
		}
		unlock := a.lock(in.SOPInstanceUID)
		n, err := a.resolveIntent(ctx, in)
		unlock()
		if err != nil {
			a.log.Debug("object of a failed store not removed yet", "sop_instance", in.SOPInstanceUID, "error", err)
			return
		}
		if n > 0 {
			a.log.Info("removed the object a failed store left", "sop_instance", in.SOPInstanceUID, "objects", n)
		}
		a.journal.end(id)
		a.pendMu.Lock()
		delete(a.pending, id)
		a.pendMu.Unlock()
	}
}

// stopCleanup ends the cleanup loop after its last attempt; the intents
// still pending stay open in the journal for Recover.
func (a *Archive) stopCleanup() {
	a.stopOnce.Do(func() {
		close(a.stopLoop)
		<-a.loopDone
		<-a.logDone
	})
	a.pendMu.Lock()
	defer a.pendMu.Unlock()
	if len(a.pending) > 0 {
		a.log.Warn("objects of failed stores left for the next start's recovery", "stores", len(a.pending))
	}
}
