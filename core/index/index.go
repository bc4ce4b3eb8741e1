package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrClosed is returned by operations on an Index after Close.
var ErrClosed = errors.New("index: closed")

// ErrNotFound is returned when no instance (or entity) has the given UID.
var ErrNotFound = errors.New("index: not found")

// Default values of Options.
const (
	DefaultMaxBatch    = 1000
	DefaultBusyTimeout = 5 * time.Second
	DefaultQueueLength = 4096
)

// Synchronous is the SQLite synchronous setting of the writer connection.
type Synchronous uint8

const (
	// SyncFull syncs the write-ahead log at every COMMIT: a committed batch
	// survives power loss. It is the default.
	SyncFull Synchronous = iota
	// SyncNormal syncs only at checkpoints: committed batches survive a crash of
	// the process but the last ones may be lost on power loss.
	SyncNormal
	// SyncOff never syncs; for tests and benchmarks of throwaway databases.
	SyncOff
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// MaxBatch is the largest number of writes committed in one transaction;
	// 0 means DefaultMaxBatch.
	MaxBatch int
	// BatchDelay, when positive, keeps a batch open that long for more writes
	// after the queue ran empty. 0 commits as soon as the queue is empty: under
	// load, writes that arrive during a COMMIT form the next batch anyway.
	BatchDelay time.Duration
	// Readers is the size of the pool of read connections; 0 means
	// max(4, GOMAXPROCS).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// Synchronous is the durability of commits; the zero value is SyncFull.
	Synchronous Synchronous
}

// Index is the archive's catalogue in one SQLite database. It is safe for
// concurrent use; Close it to stop its committer and release the database.
type Index struct {
	path   string
	opt    Options
	db     *sql.DB   // the writer's pool, of one connection
	writer *sql.Conn // that connection, held for the committer's use only
	stmts  stmtCache // the writer's prepared statements, the committer's own
	reader *sql.DB   // read-only pool
	reads  readStmts // the reader's prepared statements

	queue   chan *op
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the committer has exited
	closeMu sync.RWMutex  // held for reading while sending to queue
	closed  bool

	batches atomic.Int64 // transactions committed by the committer
	writes  atomic.Int64 // operations in them
	// readied is signalled (without blocking) when a write queued with
	// AddAfter becomes ready, for the committer holding it back; lateBatches
	// counts the batches rolled back because a write was not ready in time.
	readied     chan struct{}
	lateBatches atomic.Int64
	// syncMode is the writer's current synchronous setting; the
	// committer's own (see setSync).
	syncMode Synchronous
	// sinceOptimize counts the writes since the last planner statistics
	// update; the committer's own.
	sinceOptimize int
	optimizeAfter int // the writes between this run and the next
}

// Stats are counters of an Index since Open.
type Stats struct {
	Batches int64 // write transactions committed
	Writes  int64 // Add and Delete operations in them, failed ones included
}

// Stats returns the index's counters.
func (ix *Index) Stats() Stats {
	return Stats{Batches: ix.batches.Load(), Writes: ix.writes.Load()}
}

// dsn returns the connection string for path with the pragmas every
// connection of the index runs with.
func dsn(path string, opt Options, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "case_sensitive_like(1)")
	if write {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+[...]string{"FULL", "NORMAL", "OFF"}[opt.Synchronous]+")")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens (creating if needed) the index database at path, migrates its
// schema forward and starts the committer. A database migrated by a newer
// program is refused with ErrSchemaTooNew.
func Open(ctx context.Context, path string, opt Options) (*Index, error) {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = DefaultBusyTimeout
	}
	if opt.Readers <= 0 {
		opt.Readers = max(4, runtime.GOMAXPROCS(0))
	}
	if opt.Synchronous > SyncOff {
		return nil, fmt.Errorf("index: unknown synchronous setting %d", opt.Synchronous)
	}
	w, err := sql.Open("sqlite", dsn(path, opt, true))
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, err
	}
	optimize(ctx, w)
	// The committer runs its batches on the one connection, held, with
	// BEGIN and COMMIT of its own rather than database/sql's transactions:
	// those start a goroutine per transaction and per query in it (to
	// watch for a cancelled context the committer never cancels), three
	// goroutines and their wake-ups per store.
	wc, err := w.Conn(ctx)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(path, opt, false))
	if err != nil {
		wc.Close()
		w.Close()
		return nil, fmt.Errorf("index: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	r.SetConnMaxLifetime(readerLifetime)
	if err := r.PingContext(ctx); err != nil {
		wc.Close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("index: open %s for reading: %w", path, err)
	}
	ix := &Index{
		path:          path,
		opt:           opt,
		db:            w,
		writer:        wc,
		reader:        r,
		reads:         readStmts{db: r},
		optimizeAfter: optimizeFirst,
		syncMode:      opt.Synchronous,
		queue:         make(chan *op, DefaultQueueLength),
		readied:       make(chan struct{}, 1),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
	}
	go ix.commitLoop()
	return ix, nil
}

// Close stops accepting writes, lets the committer finish what was queued,
// and closes the database. Operations after Close return ErrClosed.
func (ix *Index) Close() error {
	ix.closeMu.Lock()
	if ix.closed {
		ix.closeMu.Unlock()
		return nil
	}
	ix.closed = true
	close(ix.stop)
	ix.closeMu.Unlock()
	<-ix.done
	ix.reads.close()
	return errors.Join(ix.reader.Close(), ix.writer.Close(), ix.db.Close())
}

// Path returns the file name the index was opened with.
func (ix *Index) Path() string { return ix.path }
