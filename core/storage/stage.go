package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Stager is implemented by backends whose objects are local files: an
// object can be written in place, as it arrives, into a staged file on the
// backend's own file system, then committed under its key by a rename,
// without the copy Put makes. The archive spools incoming data sets this
// way.
type Stager interface {
	// Stage creates a new, empty staged file, open for writing.
	Stage() (*os.File, error)
	// CommitStaged makes the staged file at path (written and closed by
	// the caller) the object under key, durably: the file is renamed over
	// key, and the file and key's directory are synced before it returns.
	// On an error after the rename the object is removed from key again;
	// the staged file may remain: the caller removes it.
	CommitStaged(ctx context.Context, path, key string) error
	// ClearStaged removes every staged file, for recovery at start-up
	// when nothing is being stored, and returns how many it removed.
	ClearStaged() (int, error)
}

// FileStager is a Stager that commits in this process, from the staged file
// still open.
type FileStager interface {
	Stager
	// CommitFile is CommitStaged for the staged file f, open as Stage
	// returned it, which it closes. Unless replace is set, it leaves
	// everything as it was and returns an error matching fs.ErrExist when
	// an object exists under key, or errors.ErrUnsupported when it cannot
	// tell in the same step.
	CommitFile(ctx context.Context, f *os.File, key string, replace bool) error
}

var _ FileStager = (*FS)(nil)

// stagePrefix starts the names of staged files, in the root: a temporary
// name (see IsTempName), which listings skip.
const stagePrefix = tempPrefix + "stage-"

// Stage creates a staged file in the root.
func (b *FS) Stage() (*os.File, error) {
	f, err := os.CreateTemp(b.root, stagePrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("stage on %s: %w", b.id, mapSpace(err))
	}
	return f, nil
}

// CommitStaged syncs the staged file, renames it under key and syncs the
// key's directory (see Stager).
func (b *FS) CommitStaged(ctx context.Context, path, key string) error {
	if err := b.checkStaged(path); err != nil {
		return fmt.Errorf("commit %s on %s: %w", key, b.id, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("commit %s on %s: %w", key, b.id, err)
	}
	return b.CommitFile(ctx, f, key, true)
}

// CommitFile renames the staged file f under key, syncs it and syncs the
// key's directory (see FileStager).
func (b *FS) CommitFile(ctx context.Context, f *os.File, key string, replace bool) (err error) {
	defer f.Close()
	defer func() {
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			err = fmt.Errorf("commit %s on %s: %w", key, b.id, mapSpace(err))
		}
	}()
	p, err := b.path(key)
	if err != nil {
		return err
	}
	path := f.Name()
	if err := b.checkStaged(path); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return context.Cause(ctx)
	}
	if !replace && b.noReplaceUnsupported.Load() {
		return errors.ErrUnsupported
	}
	dir := filepath.Dir(p)
	if err := b.mkdirAll(dir); err != nil {
		return err
	}
	// Renamed before the sync, not after: on a journalling file system the
	// file's sync then commits the new name too, and the directory's sync
	// finds little left to do (one device flush per object instead of
	// two). Nothing reads the object before the store is acknowledged,
	// which is after both syncs; an object left unsynced by a crash has no
	// index row and is the store's to clean up, as before.
	if replace {
		err = os.Rename(path, p)
	} else if err = renameNoReplace(path, p); errors.Is(err, errors.ErrUnsupported) {
		b.noReplaceUnsupported.Store(true)
	}
	if err != nil {
		return err
	}
	// The file and the directory are synced at the same time: the device
	// may serve both with one flush.
	dirDone := make(chan error, 1)
	go func() { dirDone <- b.dirs.sync(dir) }()
	serr := f.Sync()
	cerr := f.Close()
	derr := <-dirDone
	if err := cmp.Or(serr, cerr, derr); err != nil {
		os.Remove(p)
		return err
	}
	return nil
}

// checkStaged refuses a path that is not a staged file of b.
func (b *FS) checkStaged(path string) error {
	if filepath.Dir(path) != b.root || !strings.HasPrefix(filepath.Base(path), stagePrefix) {
		return fmt.Errorf("%s is not a staged file of this backend", path)
	}
	return nil
}

// ClearStaged removes the staged files left in the root.
func (b *FS) ClearStaged() (int, error) {
	names, err := filepath.Glob(filepath.Join(b.root, stagePrefix+"*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
			return n, err
		}
		n++
	}
	return n, nil
}
