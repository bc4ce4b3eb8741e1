package index

import (
	"context"
	"errors"
	"runtime/metrics"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// TestStatementsPreparedOnce checks that the writer prepares a statement in
// one batch only: later batches, failed writes and rolled-back savepoints
// included, use the cached statements, and Close releases them.
func TestStatementsPreparedOnce(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 1), 1)); err != nil {
		t.Fatal(err)
	}
	warm := ix.stmts.misses
	if warm == 0 || len(ix.stmts.m) != int(warm) {
		t.Fatalf("after the first Add: %d statements prepared in the batch, %d cached; want the same, > 0", warm, len(ix.stmts.m))
	}
	// A failed write rolls back to its savepoint; the cache is untouched.
	rec := record(smallInstance(t, 1, 1, 1, 1), 1)
	rec.Duplicate = DuplicateReject
	if _, err := ix.Add(ctx, rec); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("Add() of a duplicate error = %v, want ErrDuplicate", err)
	}
	for n := 2; n < 5; n++ {
		if _, err := ix.Add(ctx, record(smallInstance(t, n%2, n, 1, n), n)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ix.stmts.misses; got != warm {
		t.Errorf("statements prepared in batches = %d after more Adds of the same shape, want %d", got, warm)
	}
	// Delete's statements join the cache once, and the Adds still use theirs.
	if _, err := ix.Delete(ctx, "1.2.3.0.2.1.2"); err != nil {
		t.Fatal(err)
	}
	afterDelete := ix.stmts.misses
	if _, err := ix.Delete(ctx, "1.2.3.1.3.1.3"); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(ctx, record(smallInstance(t, 7, 7, 7, 7), 7)); err != nil {
		t.Fatal(err)
	}
	if got := ix.stmts.misses; got != afterDelete {
		t.Errorf("statements prepared in batches = %d after a second Delete and an Add, want %d", got, afterDelete)
	}
	if got := count(t, ix, "instance"); got != 3 {
		t.Errorf("instances = %d, want 3", got)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if len(ix.stmts.m) != 0 {
		t.Errorf("cached statements after Close = %d, want 0", len(ix.stmts.m))
	}
}

// TestFailedWriteAloneLeavesNothing checks that a write committed alone
// (without a savepoint) that fails after inserting rows leaves none of them.
func TestFailedWriteAloneLeavesNothing(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 1), 1)); err != nil {
		t.Fatal(err)
	}
	// Series 1.2.3.1.1.1 under a new patient and study: the patient and study
	// rows are inserted before the series is found in another study.
	ds := smallInstance(t, 2, 2, 2, 2)
	mustSet(t, ds, dicom.SeriesInstanceUID, "1.2.3.1.1.1")
	if _, err := ix.Add(ctx, record(ds, 2)); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("Add() of a series in another study error = %v, want ErrInvalidRecord", err)
	}
	for _, tbl := range []string{"patient", "study", "series", "instance"} {
		if got := count(t, ix, tbl); got != 1 {
			t.Errorf("%s rows = %d, want 1", tbl, got)
		}
	}
	if _, err := ix.Add(ctx, record(smallInstance(t, 2, 2, 2, 3), 3)); err != nil {
		t.Fatalf("Add() after a failed write error = %v", err)
	}
	if got := count(t, ix, "instance"); got != 2 {
		t.Errorf("instances = %d, want 2", got)
	}
}

// TestAddStartsNoGoroutine checks that a write starts no goroutine once the
// writer's statements are prepared: the committer's transactions are its
// own BEGIN and COMMIT, not database/sql's, which start one per
// transaction and per query in it.
func TestAddStartsNoGoroutine(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 1), 1)); err != nil {
		t.Fatal(err)
	}
	created := func() uint64 {
		s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(s)
		if s[0].Value.Kind() != metrics.KindUint64 {
			t.Skip("this Go does not count the goroutines it creates")
		}
		return s[0].Value.Uint64()
	}
	const n = 50
	before := created()
	for i := 2; i < 2+n; i++ {
		if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, i), i)); err != nil {
			t.Fatal(err)
		}
	}
	// Other tests' goroutines may be counted too: a loose bound, far
	// below the 3 per Add of database/sql's transactions.
	if got := created() - before; got > n/2 {
		t.Errorf("%d goroutines created by %d Adds, want almost none", got, n)
	}
}

// TestTransactionLeftOpen checks that a transaction left open on the
// writer's connection (as a ROLLBACK that failed would leave it) does not
// make the writes after it fail.
func TestTransactionLeftOpen(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 1), 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.writer.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 2), 2)); err != nil {
		t.Fatalf("Add() after a transaction left open error = %v", err)
	}
	if got := count(t, ix, "instance"); got != 2 {
		t.Errorf("instances = %d, want 2", got)
	}
}
