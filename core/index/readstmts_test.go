package index

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestReadStmts: statements are prepared once per query text, concurrent
// callers share them, and a full cache is emptied without failing the
// queries that still use its statements.
func TestReadStmts(t *testing.T) {
	ix := openTest(t, Options{})
	ctx := context.Background()
	c := &ix.reads
	a, err := c.stmt(ctx, `SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.stmt(ctx, `SELECT 1`); b != a {
		t.Error("the same query text was prepared twice")
	}
	// A query in progress on a statement the cache drops goes on.
	rows, err := c.query(ctx, `SELECT value FROM json_each('[1,2,3]')`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range maxReadStmts {
				var n int
				if err := c.queryRow(ctx, fmt.Sprintf(`SELECT %d + ?`, g*maxReadStmts+i), 1).Scan(&n); err != nil || n != g*maxReadStmts+i+1 {
					t.Errorf("query %d/%d = %d, %v", g, i, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Close(); err != nil || n != 3 {
		t.Errorf("query across the cache's flush read %d rows, %v; want 3", n, err)
	}
	if err := c.queryRow(ctx, `SELECT * FROM no_such_table`).Scan(new(int)); err == nil {
		t.Error("a query that does not prepare gave no error")
	}
}
