package web

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Cached returns a Check that runs c at most once per ttl and otherwise
// returns c's last result, for checks that touch a disk or a network. A
// caller arriving while c runs waits for that run (or for its own context).
func Cached(ttl time.Duration, c Check) Check {
	var (
		mu   = make(chan struct{}, 1) // a lock that a waiter can give up on
		at   time.Time
		last error
	)
	return func(ctx context.Context) error {
		select {
		case mu <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-mu }()
		if !at.IsZero() && time.Since(at) < ttl {
			return last
		}
		last = c(ctx)
		at = time.Now()
		return last
	}
}

// WritableDir returns a Check that dir accepts new data: it creates a file
// named by pattern (as os.CreateTemp does) in dir, writes a few bytes to it
// and removes it. The write is not synced, so the check is cheap; wrap it
// in Cached for a busy probe.
func WritableDir(dir, pattern string) Check {
	return func(ctx context.Context) error {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return fmt.Errorf("cannot create a file: %w", err)
		}
		defer os.Remove(f.Name())
		_, err = f.Write([]byte("ready\n"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cannot write a file: %w", err)
		}
		return nil
	}
}
