package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// tempPrefix starts the name of every file FS writes before renaming it;
// List skips such files.
const tempPrefix = ".put-"

// FS is the filesystem backend ("fs"): each object is a file under a root
// directory, its key the file's path relative to the root. Put writes a
// temporary file in the target directory, syncs it, renames it over the key
// and syncs the directory, so an object is either absent or whole, even
// after a crash. FS is safe for concurrent use.
//
// Once an object is synced, FS drops its pages from the page cache (on
// Linux; see dropCached): an archive writes far more than it reads back
// soon, and the cache is better kept for the index and for reads. New
// objects then reuse the pages just freed, which the kernel hands out
// again at once, rather than pages long free: in a virtual machine whose
// host takes back free memory (virtio-balloon free page reporting), a write
// into those made the copy into the page cache the largest cost of a CT
// slice's store, 2–3 ms of CPU per 0.5 MB file instead of 0.2.
type FS struct {
	id   string
	root string
	dirs dirSyncer // the syncs of the directories objects are renamed into
	// noReplaceUnsupported is set once the file system has refused a
	// rename that does not replace (see PlaceFile).
	noReplaceUnsupported atomic.Bool
}

var _ Backend = (*FS)(nil)
var _ Lister = (*FS)(nil)

// NewFS returns the filesystem backend named id storing under root, which is
// created (with its parents) if needed.
func NewFS(id, root string) (*FS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("storage root %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create storage root: %w", err)
	}
	return &FS{id: id, root: abs}, nil
}

// ID returns the backend's name.
func (b *FS) ID() string { return b.id }

// Root returns the absolute directory of the objects.
func (b *FS) Root() string { return b.root }

// path returns the file of key after checking it.
func (b *FS) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(b.root, filepath.FromSlash(key)), nil
}

// Put stores r under key atomically and durably (see FS).
func (b *FS) Put(ctx context.Context, key string, r io.Reader) (size int64, sum string, err error) {
	p, err := b.path(key)
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("put %s on %s: %w", key, b.id, mapSpace(err))
		}
	}()
	dir := filepath.Dir(p)
	if err := b.mkdirAll(dir); err != nil {
		return 0, "", err
	}
	f, err := createTemp(dir, tempPrefix)
	if err != nil {
		return 0, "", err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(NewWritebackWriter(f), h), ctxReader{ctx, r})
	if err != nil {
		return 0, "", err
	}
	if err = f.Sync(); err != nil {
		return 0, "", err
	}
	dropCached(f)
	if err = f.Close(); err != nil {
		return 0, "", err
	}
	if err = os.Rename(tmp, p); err != nil {
		return 0, "", err
	}
	if err = b.dirs.sync(dir); err != nil {
		return 0, "", err
	}
	return size, hex.EncodeToString(h.Sum(nil)), nil
}

// RemoveTemp removes the temporary files of interrupted puts in the
// directory of key (see TempRemover).
func (b *FS) RemoveTemp(ctx context.Context, key string) (int, error) {
	p, err := b.path(key)
	if err != nil {
		return 0, err
	}
	ents, err := os.ReadDir(filepath.Dir(p))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if e.Type().IsRegular() && IsTempName(e.Name()) {
			if err := os.Remove(filepath.Join(filepath.Dir(p), e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// mkdirAll creates dir and its missing parents under the root, syncing the
// parent of each directory it creates so the new entry is durable.
func (b *FS) mkdirAll(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if dir == b.root || !strings.HasPrefix(dir, b.root+string(filepath.Separator)) {
		return os.MkdirAll(dir, 0o755)
	}
	if err := b.mkdirAll(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// Get opens the object under key.
func (b *FS) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", key, b.id, mapNotFound(err))
	}
	return f, nil
}

// Stat describes the object under key.
func (b *FS) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	fi, err := os.Stat(p)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat %s on %s: %w", key, b.id, mapNotFound(err))
	}
	return ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete removes the object under key and syncs its directory. Emptied
// directories are left in place (a concurrent Put may be about to use them).
func (b *FS) Delete(ctx context.Context, key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete %s on %s: %w", key, b.id, mapNotFound(err))
	}
	if err := syncDir(filepath.Dir(p)); err != nil {
		return fmt.Errorf("delete %s on %s: %w", key, b.id, err)
	}
	return nil
}

// List yields every object under the root whose key starts with prefix,
// leaving out the temporary files of Puts in progress.
func (b *FS) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		stopped := errors.New("stop")
		err := filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() || IsTempName(d.Name()) {
				return nil
			}
			rel, err := filepath.Rel(b.root, p)
			if err != nil {
				return err
			}
			key := filepath.ToSlash(rel)
			if !strings.HasPrefix(key, prefix) {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if !yield(ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil) {
				return stopped
			}
			return nil
		})
		if err != nil && err != stopped {
			yield(ObjectInfo{}, fmt.Errorf("list %s: %w", b.id, err))
		}
	}
}

func mapNotFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}

func mapSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", ErrInsufficientSpace, err)
	}
	return err
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}
