package index

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Planner statistics: SQLite chooses among the match columns' indexes by
// the statistics of ANALYZE; without them a query combining, say, a name
// wildcard and a date range can start from the wrong index and read every
// study of the date range (3.5 ms instead of 0.24 ms at 1,000,000
// instances). PRAGMA optimize gathers them where the tables changed enough,
// sampling at most analysisLimit rows per index so that it stays cheap on
// any size of database.
const (
	// analysisLimit bounds the rows ANALYZE reads per index.
	analysisLimit = 1000
	// optimizeFirst is the number of writes after Open before the
	// committer first runs PRAGMA optimize; the interval then doubles up to
	// optimizeEvery, so that an index filled from empty has statistics
	// soon (a query planned without them can be several times slower).
	optimizeFirst = 1000
	// optimizeEvery is the largest number of writes between two PRAGMA
	// optimize runs of the committer.
	optimizeEvery = 20000
)

// optimize updates the planner statistics where needed (at Open, then
// after optimizeFirst writes, and at doubling intervals up to every
// optimizeEvery writes), checking every table, those never analysed
// included (flag 0x10000): tables that were empty at Open get statistics
// once they have rows. A failure is not an error of the index: queries
// still work, perhaps with worse plans.
func optimize(ctx context.Context, w execer) {
	w.ExecContext(ctx, fmt.Sprintf("PRAGMA analysis_limit=%d", analysisLimit))
	w.ExecContext(ctx, "PRAGMA optimize=0x10002")
}

// execer is what optimize runs its statements on: the writer's pool at Open,
// its held connection afterwards.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// readerLifetime bounds how long a reader connection is reused: one in use
// while refreshReaders ran keeps the statistics it loaded until it is
// replaced.
const readerLifetime = 10 * time.Minute

// refreshReaders makes the readers plan with the statistics the writer has
// just gathered. SQLite loads them when a connection reads the schema, and
// ANALYZE on one connection does not make the others read it again: a
// reader opened while the index was empty would plan every query without
// statistics for as long as it lives (a C-FIND starting from the wrong
// index, several times slower). Idle reader connections are closed, so
// that new ones load the statistics, and the statements prepared on them
// are dropped.
func (ix *Index) refreshReaders() {
	ix.reads.close()
	ix.reader.SetMaxIdleConns(0)
	ix.reader.SetMaxIdleConns(ix.opt.Readers)
}
