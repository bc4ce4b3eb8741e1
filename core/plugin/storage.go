package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// storageBackend adapts the sdk.Storage of a plugin's storage instance to
// storage.Backend and storage.Lister.
type storageBackend struct {
	s        *supervisor
	instance string
	noStage  atomic.Bool // the plugin cannot stage local files (see Stage)
}

var (
	_ storage.Backend = (*storageBackend)(nil)
	_ storage.Lister  = (*storageBackend)(nil)
)

// listPageSize is the page size the adapter asks List for.
const listPageSize = 1000

// ID returns the storage block's name.
func (b *storageBackend) ID() string { return b.instance }

// Put streams r to the plugin; the size and digest are the plugin's, not
// computed again here. The deadline is an idle timeout: it runs while no
// chunk is read from r and while the plugin commits.
func (b *storageBackend) Put(ctx context.Context, key string, r io.Reader) (int64, string, error) {
	if err := storage.ValidKey(key); err != nil {
		return 0, "", err
	}
	c, err := b.s.begin(ctx, b.s.timeout, true)
	if err != nil {
		return 0, "", b.mapErr("put", key, err)
	}
	info, err := c.g.proc.client.Storage(b.instance).Put(c.ctx, key, &touchReader{r: r, c: c}, -1)
	if err = c.end(err); err != nil {
		return 0, "", b.mapErr("put", key, err)
	}
	return info.Size, info.SHA256, nil
}

// Get opens the object; the reader keeps a slot of the plugin's
// concurrency until closed, and fails with an unavailable error if the
// plugin sends nothing for the call timeout or dies.
func (b *storageBackend) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.ValidKey(key); err != nil {
		return nil, err
	}
	c, err := b.s.begin(ctx, b.s.timeout, true)
	if err != nil {
		return nil, b.mapErr("get", key, err)
	}
	rc, err := c.g.proc.client.Storage(b.instance).Get(c.ctx, key, 0, -1)
	if err != nil {
		return nil, b.mapErr("get", key, c.end(err))
	}
	c.touch()
	return &callReader{rc: rc, c: c, b: b, key: key}, nil
}

// Stat describes the object under key.
func (b *storageBackend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := storage.ValidKey(key); err != nil {
		return storage.ObjectInfo{}, err
	}
	var info sdk.ObjectInfo
	err := b.s.do(ctx, b.s.timeout, func(ctx context.Context, cl client) error {
		var err error
		info, err = cl.Storage(b.instance).Stat(ctx, key)
		return err
	})
	if err != nil {
		return storage.ObjectInfo{}, b.mapErr("stat", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: info.Size, ModTime: info.ModTime}, nil
}

// Delete removes the object under key.
func (b *storageBackend) Delete(ctx context.Context, key string) error {
	if err := storage.ValidKey(key); err != nil {
		return err
	}
	err := b.s.do(ctx, b.s.timeout, func(ctx context.Context, cl client) error {
		return cl.Storage(b.instance).Delete(ctx, key)
	})
	if err != nil {
		return b.mapErr("delete", key, err)
	}
	return nil
}

// List yields the objects under prefix, page by page.
func (b *storageBackend) List(ctx context.Context, prefix string) iter.Seq2[storage.ObjectInfo, error] {
	return func(yield func(storage.ObjectInfo, error) bool) {
		token := ""
		for {
			var page sdk.ListPage
			err := b.s.do(ctx, b.s.timeout, func(ctx context.Context, cl client) error {
				var err error
				page, err = cl.Storage(b.instance).List(ctx, prefix, token, listPageSize)
				return err
			})
			if err != nil {
				yield(storage.ObjectInfo{}, b.mapErr("list", prefix, err))
				return
			}
			for _, o := range page.Objects {
				if !yield(storage.ObjectInfo{Key: o.Key, Size: o.Size, ModTime: o.ModTime}, nil) {
					return
				}
			}
			if page.NextPageToken == "" || page.NextPageToken == token {
				return
			}
			token = page.NextPageToken
		}
	}
}

// mapErr maps a plugin's error to core/storage's: not found, out of
// space, and unavailable (the plugin down, hung or reporting an outage).
func (b *storageBackend) mapErr(op, key string, err error) error {
	switch {
	case errors.Is(err, sdk.ErrNotFound):
		return fmt.Errorf("%s %s on %s: %w", op, key, b.instance, storage.ErrNotFound)
	case errors.Is(err, sdk.ErrInsufficientSpace):
		return fmt.Errorf("%s %s on %s: %w: %v", op, key, b.instance, storage.ErrInsufficientSpace, err)
	case errors.Is(err, ErrPluginDown), errors.Is(err, ErrCallTimeout), errors.Is(err, sdk.ErrUnavailable):
		return fmt.Errorf("%s %s: %w", op, key, &storage.UnavailableError{Backend: b.instance, Err: err})
	}
	return fmt.Errorf("%s %s on %s: %w", op, key, b.instance, err)
}

// touchReader marks progress of a Put's call at each read.
type touchReader struct {
	r io.Reader
	c *call
}

func (t *touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.c.touch()
	return n, err
}

// callReader is the body of a Get: it marks progress at each read and
// ends the call at EOF, on an error or at Close.
type callReader struct {
	rc  io.ReadCloser
	c   *call
	b   *storageBackend
	key string

	once sync.Once
	err  error
}

func (r *callReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.c.touch()
	if err != nil && err != io.EOF {
		return n, r.finish(err)
	}
	return n, err
}

// finish ends the call once, mapping err.
func (r *callReader) finish(err error) error {
	r.once.Do(func() {
		if e := r.c.end(err); e != nil {
			r.err = r.b.mapErr("get", r.key, e)
		}
	})
	if err == nil {
		return nil
	}
	return r.err
}

func (r *callReader) Close() error {
	err := r.rc.Close()
	r.finish(nil)
	return err
}
