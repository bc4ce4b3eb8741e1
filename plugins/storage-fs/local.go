package fsstorage

import (
	"context"
	"fmt"

	"github.com/pacsforge/pacs/sdk"
)

var _ sdk.LocalStager = (*Storage)(nil)

// StageLocal creates a staged file in the root for the archive to write
// the object into (the archive runs on this machine).
func (s *Storage) StageLocal(ctx context.Context) (string, error) {
	if err := context.Cause(ctx); err != nil {
		return "", err
	}
	f, err := s.fs.Stage()
	if err != nil {
		return "", mapErr(err)
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return "", mapErr(err)
	}
	return name, nil
}

// CommitLocal syncs the staged file at path, renames it under key and
// syncs the key's directory; a path that is not a staged file of this root
// is refused.
func (s *Storage) CommitLocal(ctx context.Context, path, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.fs.CommitStaged(ctx, path, key); err != nil {
		return fmt.Errorf("commit %s: %w", key, mapErr(err))
	}
	return nil
}
