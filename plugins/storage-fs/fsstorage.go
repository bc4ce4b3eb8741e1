package fsstorage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"syscall"
	"time"

	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// Config is an instance's config { } body.
type Config struct {
	// Root is the directory of the objects, created with its parents if
	// missing. A relative root is relative to the plugin process's working
	// directory.
	Root string `hcl:"root"`
	// Layout is the archive's key scheme for the instance ("uid", the
	// default, or "date"; see core/storage.Layout). The host makes the keys;
	// the backend checks the name and stores keys as given.
	Layout string `hcl:"layout,optional"`
}

// Validate checks cfg and returns a *sdk.ConfigError naming the first
// attribute in error.
func (cfg *Config) Validate() error {
	if cfg == nil || cfg.Root == "" {
		return &sdk.ConfigError{Path: "root", Message: "the storage root directory is required"}
	}
	if _, err := storage.ParseLayout(cfg.Layout); err != nil {
		return &sdk.ConfigError{Path: "layout", Message: err.Error()}
	}
	return nil
}

// Storage is an instance of the filesystem backend. Safe for concurrent
// use.
type Storage struct {
	fs *storage.FS
}

var _ sdk.Storage = (*Storage)(nil)

// New validates cfg and returns the instance named instance, creating its
// root if needed. Its signature is an sdk.StorageFactory[Config].
func New(ctx context.Context, instance string, cfg *Config) (sdk.Storage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, err := storage.NewFS(instance, cfg.Root)
	if err != nil {
		return nil, &sdk.ConfigError{Path: "root", Message: err.Error()}
	}
	// Staged files left by an archive that stopped (or by this process,
	// killed) before committing them are never committed now.
	if _, err := b.ClearStaged(); err != nil {
		return nil, mapErr(err)
	}
	return &Storage{fs: b}, nil
}

// Root returns the absolute directory of the objects.
func (s *Storage) Root() string { return s.fs.Root() }

// checkKey refuses keys core/storage refuses and keys whose last element
// is a temporary file's name (they could never be listed).
func checkKey(key string) error {
	if err := storage.ValidKey(key); err != nil {
		return err
	}
	if storage.IsTempName(path.Base(key)) {
		return fmt.Errorf("%w: %q ends in a name reserved for temporary files", storage.ErrInvalidKey, key)
	}
	return nil
}

// Put stores everything read from r under key atomically and durably (see
// sdk.Storage.Put). A reader that yields other than size bytes (size >= 0)
// fails the Put; so does ctx being done, even after r's last byte.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return sdk.ObjectInfo{}, err
	}
	if err := context.Cause(ctx); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	n, sum, err := s.fs.Put(ctx, key, &putReader{ctx: ctx, r: r, left: size})
	if err != nil {
		return sdk.ObjectInfo{}, mapErr(err)
	}
	return sdk.ObjectInfo{Key: key, Size: n, SHA256: sum, ModTime: time.Now()}, nil
}

// putReader feeds a Put: it checks the size announced and the context at
// the end of the stream, so that FS renames only a whole object.
type putReader struct {
	ctx  context.Context
	r    io.Reader
	left int64 // bytes still due; < 0: unknown
}

func (p *putReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		// Everything announced arrived: the stream must end here.
		var one [1]byte
		n, err := io.ReadFull(p.r, one[:])
		if n > 0 {
			return 0, errors.New("the reader yields more bytes than the size given")
		}
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
		return 0, p.eof()
	}
	if p.left > 0 && int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, err := p.r.Read(b)
	if p.left > 0 {
		p.left -= int64(n)
	}
	if err == io.EOF {
		if p.left > 0 {
			return n, fmt.Errorf("the reader ends %d bytes before the size given: %w", p.left, io.ErrUnexpectedEOF)
		}
		err = p.eof()
	}
	return n, err
}

// eof returns io.EOF, or the context's cause if it is done.
func (p *putReader) eof() error {
	if err := context.Cause(p.ctx); err != nil {
		return err
	}
	return io.EOF
}

// Get opens the object under key from offset for length bytes (length < 0:
// to the end), cut at its end (see sdk.Storage.Get).
func (s *Storage) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if offset < 0 {
		return nil, fmt.Errorf("get %s: negative offset %d", key, offset)
	}
	rc, err := s.fs.Get(ctx, key)
	if err != nil {
		return nil, mapErr(err)
	}
	f, ok := rc.(interface {
		io.ReaderAt
		Stat() (fs.FileInfo, error)
	})
	if !ok {
		rc.Close()
		return nil, fmt.Errorf("get %s: the filesystem backend returned a %T", key, rc)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: a directory", sdk.ErrNotFound)
	}
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	lo := min(offset, fi.Size())
	n := fi.Size() - lo
	if length >= 0 && length < n {
		n = length
	}
	return rangeReader{io.NewSectionReader(f, lo, n), rc}, nil
}

// rangeReader reads a section of an open file and closes the file.
type rangeReader struct {
	*io.SectionReader
	io.Closer
}

// Stat describes the object under key; SHA256 is empty.
func (s *Storage) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return sdk.ObjectInfo{}, err
	}
	if err := context.Cause(ctx); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	oi, err := s.fs.Stat(ctx, key)
	if err != nil {
		return sdk.ObjectInfo{}, mapErr(err)
	}
	return sdk.ObjectInfo{Key: oi.Key, Size: oi.Size, ModTime: oi.ModTime}, nil
}

// Delete removes the object under key durably. A key naming a directory
// is not an object: it gives sdk.ErrNotFound and removes nothing.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	// Stat first: os.Remove would remove an empty directory.
	if _, err := s.fs.Stat(ctx, key); err != nil {
		return mapErr(err)
	}
	return mapErr(s.fs.Delete(ctx, key))
}

// mapErr turns core/storage's sentinels (and a path through a file,
// ENOTDIR) into the sdk's.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %w", sdk.ErrNotFound, err)
	case errors.Is(err, storage.ErrInsufficientSpace):
		return fmt.Errorf("%w: %w", sdk.ErrInsufficientSpace, err)
	}
	return err
}

// isNotExist reports whether err means a path is gone (or never was).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
