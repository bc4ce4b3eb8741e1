package sdk

import (
	"context"
	"io"
	"time"
)

// Storage is a storage backend: objects (stored DICOM instances, Part 10
// files) under keys. The archive's keys are relative slash-separated paths
// of at most 1024 bytes without "." or ".." elements or a leading slash.
// Implementations are safe for concurrent use.
type Storage interface {
	// Put stores everything read from r under key and returns the stored
	// object's size and SHA-256. size is the number of bytes r will yield,
	// or -1 when unknown. Put is atomic: after it returns nil, Get returns
	// the whole object; after an error (including ctx being cancelled
	// half-way), nothing of it is visible under key and an object stored
	// before under key stays as it was. Put replaces an existing object.
	Put(ctx context.Context, key string, r io.Reader, size int64) (ObjectInfo, error)
	// Get opens the object under key from byte offset, for length bytes
	// (length < 0: to the end). A range past the end is cut at the end.
	// A missing key gives ErrNotFound. The caller closes the reader.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes the object under key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object under key, or returns ErrNotFound.
	Delete(ctx context.Context, key string) error
	// List returns a page of at most pageSize (0: the backend's choice)
	// objects whose keys start with prefix, in lexical key order, from
	// pageToken ("" for the first page). NextPageToken is "" on the last
	// page.
	List(ctx context.Context, prefix, pageToken string, pageSize int) (ListPage, error)
}

// ObjectInfo describes a stored object. SHA256 is the lower-case hex digest
// of its bytes; Stat and List may leave it empty when the backend does not
// keep it.
type ObjectInfo struct {
	Key     string
	Size    int64
	SHA256  string
	ModTime time.Time
}

// ListPage is a page of List.
type ListPage struct {
	Objects       []ObjectInfo
	NextPageToken string
}

// StorageFactory returns the Storage of one configured instance (a storage
// block), named instance, with its decoded config. It is called once per
// instance, at start-up or after a restart of the plugin process.
type StorageFactory[C any] func(ctx context.Context, instance string, cfg *C) (Storage, error)

// LocalStager is implemented by a Storage whose objects are files on the
// archive's own machine (the filesystem backend run as a plugin): the
// archive writes an incoming object straight into a staged file and the
// storage commits it under its key, so the bytes never cross the plugin
// connection and are written once. It is optional: the archive uses Put
// with any other Storage.
type LocalStager interface {
	// StageLocal creates an empty staged file, which the archive may
	// write, and returns its absolute path. Listings never show it.
	StageLocal(ctx context.Context) (string, error)
	// CommitLocal makes the staged file at path (written and closed by the
	// archive) the object under key, durably (sync, rename, sync of the
	// key's directory), replacing an object there. A path that is not one
	// of this storage's staged files is refused. On error the file may
	// remain: the archive removes it.
	CommitLocal(ctx context.Context, path, key string) error
}
