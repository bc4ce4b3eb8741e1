package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
// still open, in two steps: the object is placed under its key first, then
// made durable, so that a caller can do other work in between or meanwhile.
type FileStager interface {
	Stager
	// PlaceFile renames the staged file f, open as Stage returned it,
	// under key. The object is there but not durable yet: SyncPlaced must
	// follow. Unless replace is set, PlaceFile leaves everything as it
	// was and returns an error matching fs.ErrExist when an object exists
	// under key, or errors.ErrUnsupported when it cannot tell in the same
	// step. f stays open in every case.
	PlaceFile(ctx context.Context, f *os.File, key string, replace bool) error
	// SyncPlaced makes the object that f was placed as under key durable:
	// it syncs f and key's directory, and closes f. alongside, if not nil,
	// is run meanwhile, for another sync the caller needs before its
	// object counts as stored (its error is returned as it is). On any
	// error the object is removed from key.
	SyncPlaced(f *os.File, key string, alongside func() error) error
}

// FSSyncer is a FileStager whose whole file system can be synced at once,
// so that a caller who keeps its own durable copy of an object (a journal
// holding its bytes) can leave the object unsynced, place it with
// ClosePlaced instead of SyncPlaced, and make many such objects durable in
// one SyncFS later.
type FSSyncer interface {
	FileStager
	// ClosePlaced closes f, placed under key by PlaceFile, without
	// syncing it or its directory, after running alongside if not nil.
	// On any error the object is removed from key.
	ClosePlaced(f *os.File, key string, alongside func() error) error
	// SyncFS makes everything written to the backend's file system so
	// far durable: files, their directories and their names, including
	// the objects of ClosePlaced.
	SyncFS() error
}

var _ FileStager = (*FS)(nil)

// stagePrefix starts the names of staged files, in the root: a temporary
// name (see IsTempName), which listings skip.
const stagePrefix = tempPrefix + "stage-"

// Stage creates a staged file in the root.
func (b *FS) Stage() (*os.File, error) {
	f, err := createTemp(b.root, stagePrefix)
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
	f, err := openFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("commit %s on %s: %w", key, b.id, err)
	}
	if err := b.PlaceFile(ctx, f, key, true); err != nil {
		f.Close()
		return err
	}
	return b.SyncPlaced(f, key, nil)
}

// PlaceFile renames the staged file f under key (see FileStager).
//
// The rename comes before the sync, not after: on a journalling file system
// the file's sync then commits the new name too, and the directory's sync
// finds little left to do. Nothing reads the object before the store is
// acknowledged, which is after both syncs; an object left unsynced by a crash
// has no index row and is the store's to clean up.
func (b *FS) PlaceFile(ctx context.Context, f *os.File, key string, replace bool) (err error) {
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
	if err := b.mkdirAll(filepath.Dir(p)); err != nil {
		return err
	}
	if replace {
		return os.Rename(path, p)
	}
	err = renameNoReplace(path, p)
	if errors.Is(err, errors.ErrUnsupported) {
		b.noReplaceUnsupported.Store(true)
	}
	return err
}

// SyncPlaced syncs the object f was placed as under key, and key's
// directory, and runs alongside (see FileStager).
func (b *FS) SyncPlaced(f *os.File, key string, alongside func() error) error {
	return b.endPlaced(f, key, alongside, true)
}

// ClosePlaced closes the object f was placed as under key, unsynced, once
// alongside has run (see FSSyncer).
func (b *FS) ClosePlaced(f *os.File, key string, alongside func() error) error {
	return b.endPlaced(f, key, alongside, false)
}

// endPlaced closes f, placed under key, runs alongside, and with durable
// syncs f and key's directory first. On any error the object is removed.
func (b *FS) endPlaced(f *os.File, key string, alongside func() error, durable bool) error {
	p, err := b.path(key)
	if err != nil {
		f.Close()
		return fmt.Errorf("commit %s on %s: %w", key, b.id, err)
	}
	// The file is synced here while two other goroutines sync the
	// directory and run alongside: the three syncs wait on the device
	// at the same time. (Run in turn in one goroutine, the directory's
	// sync and alongside's took longer than the file's: with alongside
	// an fdatasync of the archive's intent journal, three at once stored
	// small objects over one association 4–10% faster on 2 CPUs.)
	var aerr, serr, derr error
	var wg sync.WaitGroup
	switch {
	case alongside == nil:
	case durable:
		wg.Go(func() { aerr = alongside() })
	default:
		aerr = alongside()
	}
	if durable {
		wg.Go(func() { derr = b.dirs.sync(filepath.Dir(p)) })
		if serr = f.Sync(); serr == nil {
			dropCached(f)
		}
	}
	cerr := f.Close()
	wg.Wait()
	if err := cmp.Or(serr, cerr, derr); err != nil {
		os.Remove(p)
		return fmt.Errorf("commit %s on %s: %w", key, b.id, mapSpace(err))
	}
	if aerr != nil {
		os.Remove(p)
		return aerr
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
