package archive

import "time"

// logSyncInterval is how long after a logged store the index's log is
// synced and the store's intent ended (see intent): the window of stores
// that recovery re-checks after a power loss.
const logSyncInterval = 100 * time.Millisecond

// afterLogSync hands the journal id of a logged store to logLoop, which ends
// it once the index's log is synced.
func (a *Archive) afterLogSync(id uint64) {
	if a.logFailed.Load() {
		return // left open for recovery
	}
	a.logMu.Lock()
	a.logged = append(a.logged, id)
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

// syncIndexLog syncs the index's log and ends the intents of the logged
// stores that returned before. On failure they stay open, to be tried again.
func (a *Archive) syncIndexLog() {
	a.logMu.Lock()
	ids := a.logged
	a.logged = nil
	a.logMu.Unlock()
	if len(ids) == 0 {
		return
	}
	if a.logFailed.Load() {
		return
	}
	if err := a.syncLog(); err != nil {
		// What the failed sync did not write may never be, even if a
		// later one succeeds: these intents stay open for the next start's
		// recovery, and later stores sync the index's log themselves.
		a.logFailed.Store(true)
		a.log.Error("cannot sync the index log; recent stores are left for recovery at the next start, and stores now sync the index log themselves",
			"stores", len(ids), "error", err)
		return
	}
	a.journal.end(ids...)
}
