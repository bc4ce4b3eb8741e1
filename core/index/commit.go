package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// op is one write queued to the committer. run executes inside the batch's
// transaction, under a savepoint of its own: when it fails, only its changes
// are rolled back and the rest of the batch still commits.
type op struct {
	ctx  context.Context
	run  func(w *writeTx) error
	err  error
	done chan struct{}
	// ready, when not nil, is closed by the caller once what the write
	// refers to is durable (see AddAfter), with readyErr telling whether
	// it is: the batch commits only after that, and without the write if
	// readyErr is set. wrote is set by run when it changed the database
	// (only then is ready awaited).
	ready    chan struct{}
	readyErr error
	wrote    bool
	// logged marks a write whose caller keeps its own durable record of it
	// (see InstanceRecord.Logged): a batch of only such writes commits
	// without syncing the log.
	logged bool
}

// readyWait bounds how long a batch waits for the writes whose callers are
// still making their objects durable. Past it, the batch commits without
// them, and they are written again in a later batch, so that a slow sync
// (a very large object, a busy device) holds up its own store only.
const readyWait = 20 * time.Millisecond

// errNotReady is the error of a write left out because its caller reported
// that what it refers to could not be made durable.
var errNotReady = errors.New("index: write withdrawn by its caller")

// submit queues o and waits until its batch has committed (or failed). Once
// queued, o's outcome is always awaited, so that the caller learns whether it
// was written: a context cancelled before o's batch began skips o with the
// context's error.
func (ix *Index) submit(ctx context.Context, run func(w *writeTx) error) error {
	o := &op{ctx: ctx, run: run, done: make(chan struct{})}
	if err := ix.enqueue(ctx, o); err != nil {
		return err
	}
	<-o.done
	return noSpace(o.err)
}

// submitAfter is submit for a write that may commit only once ready has
// returned nil: o is queued first and ready runs meanwhile, in the calling
// goroutine. ready's error, if any, is returned as it is, and o is then
// not written. run reports whether it changed the database.
func (ix *Index) submitAfter(ctx context.Context, run func(w *writeTx) (bool, error), ready func() error, logged bool) error {
	o := &op{ctx: ctx, done: make(chan struct{}), ready: make(chan struct{}), logged: logged}
	o.run = func(w *writeTx) error {
		var err error
		o.wrote, err = run(w)
		return err
	}
	if err := ix.enqueue(ctx, o); err != nil {
		return err
	}
	o.readyErr = ready()
	close(o.ready)
	select {
	case ix.readied <- struct{}{}:
	default:
	}
	<-o.done
	if o.readyErr != nil {
		return o.readyErr
	}
	return noSpace(o.err)
}

// enqueue hands o to the committer, unless the index is closed or ctx is
// done first.
func (ix *Index) enqueue(ctx context.Context, o *op) error {
	ix.closeMu.RLock()
	if ix.closed {
		ix.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case ix.queue <- o:
	case <-ctx.Done():
		ix.closeMu.RUnlock()
		return context.Cause(ctx)
	}
	ix.closeMu.RUnlock()
	return nil
}

// ErrNoSpace is returned (wrapped) by writes that failed because the
// database's file system is full (SQLite's SQLITE_FULL): nothing of the
// write was committed, and it may succeed once space is freed.
var ErrNoSpace = errors.New("index: database or disk is full")

// sqliteFull is SQLite's primary result code SQLITE_FULL.
const sqliteFull = 13

// noSpace marks err with ErrNoSpace when SQLite reports a full disk.
func noSpace(err error) error {
	var coded interface{ Code() int }
	if err != nil && errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
		return fmt.Errorf("%w: %w", ErrNoSpace, err)
	}
	return err
}

// commitLoop is the committer goroutine: it takes queued writes in batches
// and commits each batch in one transaction, until Close.
func (ix *Index) commitLoop() {
	defer close(ix.done)
	defer ix.stmts.close()
	batch := make([]*op, 0, ix.opt.MaxBatch)
	// late are writes put off by earlier batches, their callers not ready
	// yet: each joins the next batch once it is ready, not before.
	var late []*op
	for {
		batch = batch[:0]
		waiting := late[:0]
		for _, o := range late {
			select {
			case <-o.ready:
				if len(batch) < ix.opt.MaxBatch {
					batch = append(batch, o)
					continue
				}
			default:
			}
			waiting = append(waiting, o)
		}
		clear(late[len(waiting):])
		late = waiting
		if len(batch) == 0 {
			select {
			case o := <-ix.queue:
				batch = append(batch, o)
			case <-ix.readied:
				continue
			case <-ix.stop:
				// Close has stopped new sends; write what is still
				// queued, waiting for every caller.
				rest := late
				for {
					select {
					case o := <-ix.queue:
						rest = append(rest, o)
						continue
					default:
					}
					break
				}
				for len(rest) > 0 {
					n := min(len(rest), ix.opt.MaxBatch)
					ix.commitBatch(rest[:n], false)
					rest = rest[n:]
				}
				return
			}
		}
		batch = ix.fill(batch)
		put := ix.commitBatch(batch, true)
		late = append(late, put...)
		n := len(batch)
		clear(batch) // the ops' records are not kept past their batch
		if ix.sinceOptimize += n - len(put); ix.sinceOptimize >= ix.optimizeAfter {
			ix.sinceOptimize = 0
			ix.optimizeAfter = min(2*ix.optimizeAfter, optimizeEvery)
			optimize(context.Background(), ix.writer)
			ix.refreshReaders()
		}
	}
}

// fill adds queued writes to batch until it is full or the queue is empty
// (and, with a BatchDelay, stays empty for that long).
func (ix *Index) fill(batch []*op) []*op {
	var timer <-chan time.Time
	for len(batch) < ix.opt.MaxBatch {
		select {
		case o := <-ix.queue:
			batch = append(batch, o)
			continue
		default:
		}
		if ix.opt.BatchDelay <= 0 {
			return batch
		}
		if timer == nil {
			timer = time.After(ix.opt.BatchDelay)
		}
		select {
		case o := <-ix.queue:
			batch = append(batch, o)
		case <-timer:
			return batch
		case <-ix.stop:
			return batch
		}
	}
	return batch
}

// commitBatch runs every op of batch in one transaction and reports each
// op's outcome after COMMIT has returned (durable, with synchronous=FULL,
// unless every op of the batch is logged).
// With bounded set, the ops whose callers are not ready within readyWait
// are left out and returned, not done, for a later batch.
func (ix *Index) commitBatch(batch []*op, bounded bool) (late []*op) {
	for rest := batch; len(rest) > 0; {
		var l []*op
		rest, l = ix.runBatch(rest, bounded)
		late = append(late, l...)
	}
	for _, o := range batch {
		if !slices.Contains(late, o) {
			close(o.done)
		}
	}
	return late
}

// runBatch runs every op of batch in one transaction and commits it, once
// the ops that wrote and have a ready channel are ready. If one of those is
// withdrawn, or (with bounded) not ready in time, the transaction is rolled
// back instead: the late ops are returned in late, and the others, to be
// run again in another transaction, in retry.
func (ix *Index) runBatch(batch []*op, bounded bool) (retry, late []*op) {
	ctx := context.Background()
	fail := func(err error) {
		for _, o := range batch {
			if o.err == nil {
				o.err = err
			}
		}
	}
	if err := ix.setSync(ctx, batch); err != nil {
		fail(err)
		return nil, nil
	}
	w := &writeTx{ctx: ctx, ix: ix}
	if err := w.begin(); err != nil {
		fail(fmt.Errorf("index: begin batch: %w", err))
		return nil, nil
	}
	// A batch of one write needs no savepoint: if the write fails, the
	// transaction is rolled back instead, which leaves the same database.
	alone := len(batch) == 1
	for _, o := range batch {
		if err := o.ctx.Err(); err != nil {
			o.err = context.Cause(o.ctx)
			continue
		}
		if o.ready != nil {
			select {
			case <-o.ready:
				if o.readyErr != nil {
					// Withdrawn already: not run at all.
					o.err = errNotReady
					continue
				}
			default:
			}
		}
		if alone {
			if o.err = o.run(w); o.err != nil {
				w.rollback()
				ix.batches.Add(1)
				ix.writes.Add(1)
				return nil, nil
			}
			continue
		}
		if _, err := w.exec(`SAVEPOINT op`); err != nil {
			o.err = fmt.Errorf("index: savepoint: %w", err)
			continue
		}
		if o.err = o.run(w); o.err != nil {
			if _, err := w.exec(`ROLLBACK TO SAVEPOINT op`); err != nil {
				w.rollback()
				fail(fmt.Errorf("index: roll back a failed write: %w", err))
				return nil, nil
			}
		}
		if _, err := w.exec(`RELEASE SAVEPOINT op`); err != nil {
			w.rollback()
			fail(fmt.Errorf("index: release savepoint: %w", err))
			return nil, nil
		}
	}
	// The writes that wait for their callers (AddAfter) were run while
	// the callers made their objects durable; the batch commits once they
	// all are.
	withdrawn, expired := false, false
	var timer *time.Timer
	for _, o := range batch {
		if o.ready == nil || o.err != nil || !o.wrote {
			continue
		}
		select {
		case <-o.ready:
		default:
			switch {
			case !bounded:
				<-o.ready
			case expired:
				late = append(late, o)
				continue
			default:
				if timer == nil {
					timer = time.NewTimer(readyWait)
					defer timer.Stop()
				}
				select {
				case <-o.ready:
				case <-timer.C:
					expired = true
					late = append(late, o)
					continue
				}
			}
		}
		if o.readyErr != nil {
			o.err = errNotReady
			withdrawn = true
		}
	}
	if withdrawn || len(late) > 0 {
		w.rollback()
		if len(late) > 0 {
			ix.lateBatches.Add(1)
		}
		for _, o := range batch {
			switch {
			case o.err == errNotReady, slices.Contains(late, o):
			default:
				// Run again, also if it failed: it may have failed
				// because of a write now left out.
				o.err = nil
				retry = append(retry, o)
			}
		}
		return retry, late
	}
	if _, err := ix.writer.ExecContext(ctx, "COMMIT"); err != nil {
		// A COMMIT that failed may have left the transaction open.
		w.rollback()
		fail(fmt.Errorf("index: commit batch of %d: %w", len(batch), err))
		return nil, nil
	}
	ix.batches.Add(1)
	ix.writes.Add(int64(len(batch)))
	return nil, nil
}

// setSync sets the writer's synchronous mode for batch: under SyncFull, a
// batch of only logged writes commits with synchronous=NORMAL (the log is
// written but not synced; SyncLog syncs it later), any other with FULL.
func (ix *Index) setSync(ctx context.Context, batch []*op) error {
	if ix.opt.Synchronous != SyncFull {
		return nil
	}
	want := SyncNormal
	for _, o := range batch {
		if !o.logged {
			want = SyncFull
			break
		}
	}
	if want == ix.syncMode {
		return nil
	}
	if _, err := ix.writer.ExecContext(ctx, "PRAGMA synchronous = "+[...]string{"FULL", "NORMAL"}[want]); err != nil {
		return fmt.Errorf("index: set synchronous mode: %w", err)
	}
	ix.syncMode = want
	return nil
}

// SyncLog makes every write committed before it was called durable, also
// the logged ones (see InstanceRecord.Logged) that were committed without
// syncing the write-ahead log: it syncs the log file to stable storage.
func (ix *Index) SyncLog() error {
	if ix.opt.Synchronous == SyncOff {
		return nil
	}
	f, err := os.Open(ix.path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		// No log: every commit is in the database file, which SQLite
		// synced when it moved the log there.
		return nil
	}
	if err != nil {
		return fmt.Errorf("index: sync log: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("index: sync log: %w", err)
	}
	return nil
}

// writeTx is the transaction of one batch, on the writer's connection.
type writeTx struct {
	ctx context.Context
	ix  *Index
}

// begin starts the batch's transaction. A transaction left open on the
// connection (a ROLLBACK that failed) is rolled back first, so that one
// failure does not make every later batch fail.
func (w *writeTx) begin() error {
	if _, err := w.ix.writer.ExecContext(w.ctx, "BEGIN IMMEDIATE"); err == nil {
		return nil
	}
	w.rollback()
	_, err := w.ix.writer.ExecContext(w.ctx, "BEGIN IMMEDIATE")
	return err
}

// rollback ends the batch's transaction without its changes. An error is
// not reported: SQLite may have rolled the transaction back already, and
// the next batch's BEGIN fails if it has not.
func (w *writeTx) rollback() {
	w.ix.writer.ExecContext(w.ctx, "ROLLBACK")
}

// stmt returns the writer's statement for q, preparing it the first time.
func (w *writeTx) stmt(q string) (*sql.Stmt, error) {
	if s, ok := w.ix.stmts.m[q]; ok {
		return s, nil
	}
	s, err := w.ix.writer.PrepareContext(w.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("index: prepare %q: %w", firstWords(q), err)
	}
	if w.ix.stmts.m == nil {
		w.ix.stmts.m = make(map[string]*sql.Stmt)
	}
	w.ix.stmts.m[q] = s
	w.ix.stmts.misses++
	return s, nil
}

// stmtCache holds the writer's statements, prepared on its connection and
// kept across batches (a transaction's rollback does not affect them). Only
// the committer goroutine uses it.
type stmtCache struct {
	m      map[string]*sql.Stmt // by query text
	misses int64                // statements prepared
}

// close closes every cached statement.
func (c *stmtCache) close() {
	for _, s := range c.m {
		s.Close()
	}
	clear(c.m)
}

// exec runs a statement and returns the number of rows it changed.
func (w *writeTx) exec(q string, args ...any) (int64, error) {
	s, err := w.stmt(q)
	if err != nil {
		return 0, err
	}
	r, err := s.ExecContext(w.ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("index: %s: %w", firstWords(q), err)
	}
	return r.RowsAffected()
}

// queryRow scans the first row of a query into dest and reports whether
// there was one.
func (w *writeTx) queryRow(q string, args []any, dest ...any) (bool, error) {
	s, err := w.stmt(q)
	if err != nil {
		return false, err
	}
	err = s.QueryRowContext(w.ctx, args...).Scan(dest...)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("index: %s: %w", firstWords(q), err)
	}
	return true, nil
}

// firstWords shortens a statement for an error message.
func firstWords(q string) string {
	if len(q) > 48 {
		return q[:48] + "..."
	}
	return q
}
