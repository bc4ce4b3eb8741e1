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
	optimize(ctx, ix.writer)
	var n int
	if err := ix.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1").Scan(&n); err != nil {
		t.Fatalf("no sqlite_stat1 after optimize: %v", err)
	}
	if n == 0 {
		t.Error("sqlite_stat1 is empty after optimize")
	}
}

// TestStatisticsWhileFilling: an index opened empty has statistics of its
// tables once optimizeFirst instances are in, without being reopened.
func TestStatisticsWhileFilling(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{Synchronous: SyncOff})
	stat := func() (n int) {
		ix.writer.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'study'").Scan(&n)
		return n
	}
	if n := stat(); n != 0 {
		t.Fatalf("an empty index has %d statistics rows for study", n)
	}
	writes := 0
	for seed := uint64(1); writes < optimizeFirst+optimizeFirst/2; seed++ {
		for _, ds := range synthInstances(t, seed) {
			if _, err := ix.Add(ctx, record(ds, writes)); err != nil {
				t.Fatal(err)
			}
			writes++
		}
	}
	if n := stat(); n == 0 {
		t.Errorf("no statistics for study after %d writes", writes)
	}
}
