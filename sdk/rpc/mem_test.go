package rpc_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// memConfig is the config of the in-memory test storage.
type memConfig struct {
	Prefix string `hcl:"prefix,optional"`
	Secret string `hcl:"secret,optional" pacs:"sensitive"`
	Limits *struct {
		MaxBytes int64 `hcl:"max_bytes"`
	} `hcl:"limits,block"`
	Tags []struct {
		Name  string `hcl:"name"`
		Value string `hcl:"value,optional"`
	} `hcl:"tag,block"`
}

// memStorage is a tiny in-memory sdk.Storage.
type memStorage struct {
	cfg memConfig

	mu      sync.Mutex
	objects map[string][]byte
	puts    int
}

func newMem(_ context.Context, _ string, cfg *memConfig) (sdk.Storage, error) {
	if cfg.Prefix == "bad" {
		return nil, &sdk.ConfigError{Path: "prefix", Message: "must not be bad"}
	}
	if cfg.Limits != nil && cfg.Limits.MaxBytes < 0 {
		return nil, &sdk.ConfigError{Path: "limits.max_bytes", Message: "must not be negative"}
	}
	return &memStorage{cfg: *cfg, objects: map[string][]byte{}}, nil
}

func (m *memStorage) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	if key == "panic" {
		panic("put of the key panic")
	}
	if key == "full" {
		return sdk.ObjectInfo{}, fmt.Errorf("put %s: %w", key, sdk.ErrInsufficientSpace)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return sdk.ObjectInfo{}, err
	}
	if m.cfg.Limits != nil && int64(len(b)) > m.cfg.Limits.MaxBytes {
		return sdk.ObjectInfo{}, sdk.ErrInsufficientSpace
	}
	sum := sha256.Sum256(b)
	m.mu.Lock()
	m.objects[key] = b
	m.puts++
	m.mu.Unlock()
	return sdk.ObjectInfo{Key: key, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:]), ModTime: time.Unix(1700000000, 0)}, nil
}

func (m *memStorage) Get(_ context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	m.mu.Lock()
	b, ok := m.objects[key]
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, sdk.ErrNotFound)
	}
	b = b[min(offset, int64(len(b))):]
	if length >= 0 && length < int64(len(b)) {
		b = b[:length]
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStorage) Stat(_ context.Context, key string) (sdk.ObjectInfo, error) {
	m.mu.Lock()
	b, ok := m.objects[key]
	m.mu.Unlock()
	if !ok {
		return sdk.ObjectInfo{}, fmt.Errorf("stat %s: %w", key, sdk.ErrNotFound)
	}
	return sdk.ObjectInfo{Key: key, Size: int64(len(b))}, nil
}

func (m *memStorage) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objects[key]; !ok {
		return sdk.ErrNotFound
	}
	delete(m.objects, key)
	return nil
}

func (m *memStorage) List(_ context.Context, prefix, token string, size int) (sdk.ListPage, error) {
	if size <= 0 {
		size = 1000
	}
	m.mu.Lock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) && k > token {
			keys = append(keys, k)
		}
	}
	sizes := map[string]int{}
	for _, k := range keys {
		sizes[k] = len(m.objects[k])
	}
	m.mu.Unlock()
	sort.Strings(keys)
	var page sdk.ListPage
	for i, k := range keys {
		if i == size {
			page.NextPageToken = keys[i-1]
			break
		}
		page.Objects = append(page.Objects, sdk.ObjectInfo{Key: k, Size: int64(sizes[k])})
	}
	return page, nil
}

func (m *memStorage) Healthy(context.Context) error {
	if m.cfg.Prefix == "down" {
		return fmt.Errorf("backend: %w", sdk.ErrUnavailable)
	}
	return nil
}

func (m *memStorage) has(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.objects[key]
	return ok
}
