package index

import (
	"context"
	"errors"
	"testing"
)

// TestStatementsPreparedOnce checks that the writer prepares a statement in
// one batch only: later batches, failed writes and rolled-back savepoints
// included, bind the cached statements, and Close releases them.
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
