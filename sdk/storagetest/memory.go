package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// Memory is an sdk.Storage holding its objects in memory; it passes the
// suite with KeepsSHA256. Its page tokens are the last key of the page.
// The zero value is not usable: call NewMemory. Safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	data []byte
	info sdk.ObjectInfo
}

var _ sdk.Storage = (*Memory)(nil)

// DefaultMemoryPageSize is the page size of Memory.List when it is given 0.
const DefaultMemoryPageSize = 1000

// NewMemory returns an empty Memory.
func NewMemory() *Memory { return &Memory{objects: map[string]memObject{}} }

// Put stores everything read from r under key (see sdk.Storage.Put). It
// stops with ctx's cause when ctx is done and fails if r yields other than
// size bytes (size >= 0).
func (m *Memory) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, ctxReader{ctx, r}); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := context.Cause(ctx); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
	}
	if size >= 0 && int64(buf.Len()) != size {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: read %d bytes, want %d", key, buf.Len(), size)
	}
	sum := sha256.Sum256(buf.Bytes())
	info := sdk.ObjectInfo{Key: key, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:]), ModTime: time.Now()}
	m.mu.Lock()
	m.objects[key] = memObject{data: buf.Bytes(), info: info}
	m.mu.Unlock()
	return info, nil
}

// Get returns the bytes of key's object in [offset, offset+length), cut at
// its end (see sdk.Storage.Get).
func (m *Memory) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	m.mu.Lock()
	o, ok := m.objects[key]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, sdk.ErrNotFound)
	}
	n := int64(len(o.data))
	lo := min(max(offset, 0), n)
	hi := n
	if length >= 0 && length < n-lo {
		hi = lo + length
	}
	return io.NopCloser(bytes.NewReader(o.data[lo:hi])), nil
}

// Stat describes key's object.
func (m *Memory) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	if err := context.Cause(ctx); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, err)
	}
	m.mu.Lock()
	o, ok := m.objects[key]
	m.mu.Unlock()
	if !ok {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, sdk.ErrNotFound)
	}
	return o.info, nil
}

// Delete removes key's object.
func (m *Memory) Delete(ctx context.Context, key string) error {
	if err := context.Cause(ctx); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; !ok {
		return fmt.Errorf("delete %s: %w", key, sdk.ErrNotFound)
	}
	delete(m.objects, key)
	return nil
}

// List returns the objects under prefix after the key pageToken, in
// lexical order (see sdk.Storage.List).
func (m *Memory) List(ctx context.Context, prefix, pageToken string, pageSize int) (sdk.ListPage, error) {
	if err := context.Cause(ctx); err != nil {
		return sdk.ListPage{}, fmt.Errorf("list %s: %w", prefix, err)
	}
	if pageSize <= 0 {
		pageSize = DefaultMemoryPageSize
	}
	m.mu.Lock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) && k > pageToken {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var page sdk.ListPage
	for _, k := range keys[:min(pageSize, len(keys))] {
		page.Objects = append(page.Objects, m.objects[k].info)
	}
	m.mu.Unlock()
	if len(keys) > pageSize {
		page.NextPageToken = keys[pageSize-1]
	}
	return page, nil
}

// ctxReader stops a copy when its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := context.Cause(c.ctx); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
