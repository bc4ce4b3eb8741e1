package index

import (
	"context"
	"testing"
)

// TestOptimizeGathersStatistics: the planner statistics are gathered on a
// filled index (sqlite_stat1 has rows for the match indexes).
func TestOptimizeGathersStatistics(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{Synchronous: SyncNormal})
	for i, ds := range synthInstances(t, 7) {
		if _, err := ix.Add(ctx, record(ds, i)); err != nil {
			t.Fatal(err)
		}
	}
	optimize(ctx, ix.writer, true)
	var n int
	if err := ix.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1").Scan(&n); err != nil {
		t.Fatalf("no sqlite_stat1 after optimize: %v", err)
	}
	if n == 0 {
		t.Error("sqlite_stat1 is empty after optimize")
	}
}
