package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

var _ storage.Stager = (*storageBackend)(nil)

// Stage asks the plugin for a staged file on its file system (the
// filesystem backend run out of process; see sdk.LocalStager) and opens it
// for writing: the object is then written once, by the archive, and never
// crosses the plugin connection. A plugin whose storage cannot stage gives
// an error matching errors.ErrUnsupported, remembered so that it is asked
// once.
func (b *storageBackend) Stage() (*os.File, error) {
	if b.noStage.Load() {
		return nil, fmt.Errorf("storage %s: %w", b.instance, errors.ErrUnsupported)
	}
	var path string
	err := b.s.do(context.Background(), b.s.timeout, func(ctx context.Context, cl client) error {
		ls, ok := cl.Storage(b.instance).(sdk.LocalStager)
		if !ok {
			return errors.ErrUnsupported
		}
		var err error
		path, err = ls.StageLocal(ctx)
		return err
	})
	if errors.Is(err, errors.ErrUnsupported) {
		b.noStage.Store(true)
		return nil, fmt.Errorf("storage %s: %w", b.instance, errors.ErrUnsupported)
	}
	if err != nil {
		return nil, b.mapErr("stage", "", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return nil, fmt.Errorf("storage %s: open staged file: %w", b.instance, err)
	}
	return f, nil
}

// CommitStaged asks the plugin to commit the staged file under key.
func (b *storageBackend) CommitStaged(ctx context.Context, path, key string) error {
	if err := storage.ValidKey(key); err != nil {
		return err
	}
	err := b.s.do(ctx, b.s.timeout, func(ctx context.Context, cl client) error {
		ls, ok := cl.Storage(b.instance).(sdk.LocalStager)
		if !ok {
			return errors.ErrUnsupported
		}
		return ls.CommitLocal(ctx, path, key)
	})
	if err != nil {
		return b.mapErr("commit", key, err)
	}
	return nil
}

// ClearStaged removes nothing: the plugin removes its staged files when
// it configures its storage.
func (b *storageBackend) ClearStaged() (int, error) { return 0, nil }
