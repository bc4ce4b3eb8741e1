package index

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStmts bounds the reader's prepared statements: the fixed look-ups
// plus the shapes of C-FIND queries a site's viewers send (a query's SQL
// depends on which keys it has, not on their values).
const maxReadStmts = 256

// readStmts caches the reader pool's prepared statements by query text, so
// that a query parsed once runs without SQLite parsing and planning it
// again. database/sql prepares a cached statement on each pooled
// connection as it is used there. Safe for concurrent use.
type readStmts struct {
	db *sql.DB

	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns the prepared statement of q, preparing it on first use; when
// the cache is full, q is prepared anyway and the cache emptied first (the
// shapes of queries in use soon come back).
func (c *readStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	s := c.m[q]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[q]; old != nil {
		s.Close() // prepared meanwhile by another caller
		return old, nil
	}
	if c.m == nil || len(c.m) >= maxReadStmts {
		// Closing a statement in use by another query is safe: database/sql
		// closes it once that query has released it.
		for _, old := range c.m {
			old.Close()
		}
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[q] = s
	return s, nil
}

// queryRow runs q, prepared once, and returns its row.
func (c *readStmts) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := c.stmt(ctx, q)
	if err != nil {
		return c.db.QueryRowContext(ctx, q, args...) // reports the error
	}
	return s.QueryRowContext(ctx, args...)
}

// query runs q, prepared once.
func (c *readStmts) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// close closes every cached statement; later calls prepare them again.
func (c *readStmts) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = nil
}
