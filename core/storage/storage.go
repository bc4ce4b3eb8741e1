package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"
)

// Errors of every backend; callers branch on them with errors.Is.
var (
	// ErrNotFound is returned by Get, Stat and Delete for a key that holds
	// no object.
	ErrNotFound = errors.New("storage: object not found")
	// ErrInvalidKey is returned for a key that ValidKey refuses; nothing is
	// read or written.
	ErrInvalidKey = errors.New("storage: invalid key")
	// ErrInsufficientSpace is returned by Put when the backend is out of
	// space or over quota (ENOSPC, EDQUOT); no part of the object is visible.
	ErrInsufficientSpace = errors.New("storage: insufficient space")
	// ErrUnavailable is returned when the backend cannot be reached now (a
	// plugin process that crashed, hangs or reports an outage); the
	// operation may succeed later. Errors matching it are usually an
	// *UnavailableError naming the backend.
	ErrUnavailable = errors.New("storage: backend unavailable")
)

// UnavailableError is an operation that failed because the backend named
// Backend is unavailable; it matches ErrUnavailable and unwraps to Err.
type UnavailableError struct {
	Backend string
	Err     error
}

// Error names the backend and the cause.
func (e *UnavailableError) Error() string {
	if e.Err == nil {
		return "storage backend " + e.Backend + " unavailable"
	}
	return "storage backend " + e.Backend + " unavailable: " + e.Err.Error()
}

// Is makes an UnavailableError match ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// MaxKeyLength bounds the length of a key in bytes.
const MaxKeyLength = 1024

// Backend stores objects by key. Implementations are safe for concurrent use.
// Put is atomic: after it returns nil, Get returns the whole object; after an
// error, no part of it is visible under key (a previous object under the same
// key stays as it was). Put replaces an existing object.
type Backend interface {
	// Put stores everything read from r under key and returns its size in
	// bytes and its SHA-256 digest in lower-case hex. It returns after the
	// object is durable. Cancelling ctx stops the copy with the cause.
	Put(ctx context.Context, key string, r io.Reader) (size int64, sha256 string, err error)
	// Get opens the object stored under key, or returns ErrNotFound. The
	// caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes the object stored under key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object stored under key durably, or returns
	// ErrNotFound.
	Delete(ctx context.Context, key string) error
	// ID returns the backend's name, recorded in the index with each key.
	ID() string
}

// Lister is implemented by backends that can enumerate their objects (for
// verification).
type Lister interface {
	// List yields every object whose key starts with prefix, in no
	// particular order; it stops at the first error, which it yields.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]
}

// TempRemover is implemented by backends whose interrupted Put can leave a
// partial object under a temporary name near its key (the filesystem).
type TempRemover interface {
	// RemoveTemp removes the partial objects of interrupted puts near key
	// and returns how many it removed. It must not run while a Put is in
	// progress: the caller owns the backend (recovery at start-up).
	RemoveTemp(ctx context.Context, key string) (int, error)
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key     string
	Size    int64 // bytes
	ModTime time.Time
}

// ValidKey returns nil for a key a backend may use, else an error wrapping
// ErrInvalidKey: a key is 1 to MaxKeyLength bytes of '/'-separated non-empty
// components, none "." or "..", with no leading or trailing '/', no
// backslash and no NUL.
func ValidKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidKey, MaxKeyLength)
	case strings.ContainsAny(key, "\\\x00"):
		return fmt.Errorf("%w: %q holds a backslash or NUL", ErrInvalidKey, key)
	case strings.HasPrefix(key, "/"):
		return fmt.Errorf("%w: %q is absolute", ErrInvalidKey, key)
	}
	for c := range strings.SplitSeq(key, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("%w: %q has an empty, \".\" or \"..\" component", ErrInvalidKey, key)
		}
	}
	return nil
}
