package archive

import "time"

// logSyncInterval is how long after a logged store the index's log (and,
// for a journaled object, the storage's file system) is synced and the
// store's intent ended (see intent): the window of stores that recovery
// re-checks after a power loss.
const logSyncInterval = 100 * time.Millisecond

// afterLogSync hands the journal id of a logged store to logLoop, which ends
// it once the index's log is synced, and the storage's file system too if
// the store journaled its object.
func (a *Archive) afterLogSync(id uint64, journaled bool) {
	if a.logFailed.Load() {
		return // left open for recovery
	}
	a.logMu.Lock()
	a.logged = append(a.logged, id)
	a.journaled = a.journaled || journaled
	first := len(a.logged) == 1
	a.logMu.Unlock()
	if first {
		select {
		case a.logKick <- struct{}{}:
		default:
		}
	}
}

// logLoop syncs the index's log logSyncInterval after a logged store found
// no other waiting, and ends the intents of the stores committed before,
// until Close, which makes it sync a last time.
func (a *Archive) logLoop() {
	defer close(a.logDone)
	for {
		select {
		case <-a.logKick:
		case <-a.stopLoop:
			a.syncIndexLog()
			return
		}
		select {
		case <-time.After(logSyncInterval):
		case <-a.stopLoop:
			a.syncIndexLog()
			return
		}
		a.syncIndexLog()
	}
}

// syncIndexLog syncs the storage's file system if a store journaled its
// object, then the index's log, and ends the intents of the logged stores
// that returned before. On failure they stay open for the next start's
// recovery.
func (a *Archive) syncIndexLog() {
	a.logMu.Lock()
	ids, journaled := a.logged, a.journaled
	a.logged, a.journaled = nil, false
	a.logMu.Unlock()
	if len(ids) == 0 {
		return
	}
	if a.logFailed.Load() {
		return
	}
	// What a failed sync did not write may never be, even if a later one
	// succeeds: these intents stay open for the next start's recovery,
	// and later stores sync their objects and the index's log themselves.
	if journaled {
		if err := a.syncFS(); err != nil {
			a.logFailed.Store(true)
			a.log.Error("cannot sync the storage's file system; recent stores are left for recovery at the next start, and stores now sync their objects themselves",
				"stores", len(ids), "error", err)
			return
		}
	}
	if err := a.syncLog(); err != nil {
		a.logFailed.Store(true)
		a.log.Error("cannot sync the index log; recent stores are left for recovery at the next start, and stores now sync the index log themselves",
			"stores", len(ids), "error", err)
		return
	}
	a.journal.end(ids...)
}
