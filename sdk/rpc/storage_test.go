package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// startMem starts the in-memory storage plugin with instance "mem"
// configured and returns the client and the instance's implementation.
func startMem(t *testing.T) (*rpc.Client, func() *memStorage) {
	t.Helper()
	var made *memStorage
	factory := func(ctx context.Context, inst string, cfg *memConfig) (sdk.Storage, error) {
		s, err := newMem(ctx, inst, cfg)
		if err == nil {
			made = s.(*memStorage)
		}
		return s, err
	}
	c := plugintest.Start(t, sdk.Plugin{Name: "mem", Version: "1.0.0", Storage: sdk.NewStorage(factory)})
	if err := c.Configure(context.Background(), sdk.KindStorage, "mem", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		t.Fatalf("Configure() error = %v", err)
	}
	return c, func() *memStorage { return made }
}

func TestStorageRoundTrip(t *testing.T) {
	ctx := context.Background()
	c, _ := startMem(t)
	st := c.Storage("mem")
	data := []byte("DICM and some bytes")
	info, err := st.Put(ctx, "a/b/1.dcm", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Put() error = %v", err)
	}
	sum := sha256.Sum256(data)
	if info.Size != int64(len(data)) || info.SHA256 != hex.EncodeToString(sum[:]) || info.Key != "a/b/1.dcm" || info.ModTime.IsZero() {
		t.Errorf("Put() = %+v", info)
	}
	rc, err := st.Get(ctx, "a/b/1.dcm", 5, 3)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "and" {
		t.Errorf("Get(5, 3) = %q, %v; want \"and\"", got, err)
	}
	if si, err := st.Stat(ctx, "a/b/1.dcm"); err != nil || si.Size != int64(len(data)) {
		t.Errorf("Stat() = %+v, %v", si, err)
	}
	if _, err := st.Put(ctx, "a/c/2.dcm", bytes.NewReader(nil), 0); err != nil {
		t.Fatalf("Put(empty) error = %v", err)
	}
	rc, err = st.Get(ctx, "a/c/2.dcm", 0, -1)
	if err != nil {
		t.Fatalf("Get(empty) error = %v", err)
	}
	if got, err := io.ReadAll(rc); err != nil || len(got) != 0 {
		t.Errorf("Get(empty) = %q, %v", got, err)
	}
	rc.Close()
	page, err := st.List(ctx, "a/", "", 1)
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "a/b/1.dcm" || page.NextPageToken == "" {
		t.Fatalf("List(page 1) = %+v, %v", page, err)
	}
	page, err = st.List(ctx, "a/", page.NextPageToken, 1)
	if err != nil || len(page.Objects) != 1 || page.Objects[0].Key != "a/c/2.dcm" {
		t.Fatalf("List(page 2) = %+v, %v", page, err)
	}
	if err := st.Delete(ctx, "a/b/1.dcm"); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	for name, err := range map[string]error{
		"stat":   func() error { _, err := st.Stat(ctx, "a/b/1.dcm"); return err }(),
		"get":    func() error { _, err := st.Get(ctx, "a/b/1.dcm", 0, -1); return err }(),
		"delete": st.Delete(ctx, "a/b/1.dcm"),
	} {
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("%s of a deleted key: error = %v, want sdk.ErrNotFound", name, err)
		}
	}
}

func TestStorageErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := startMem(t)
	tests := []struct {
		name    string
		st      sdk.Storage
		key     string
		wantErr error
	}{
		{name: "full", st: c.Storage("mem"), key: "full", wantErr: sdk.ErrInsufficientSpace},
		{name: "not configured", st: c.Storage("other"), key: "x", wantErr: sdk.ErrNotConfigured},
		{name: "bad key", st: c.Storage("mem"), key: "../etc/passwd"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.st.Put(ctx, tc.key, bytes.NewReader([]byte("x")), 1)
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
				t.Fatalf("Put() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestStorageChunked20MiB(t *testing.T) {
	ctx := context.Background()
	c, mem := startMem(t)
	st := c.Storage("mem")
	data := make([]byte, 20<<20+12345)
	rand.Read(data)
	for _, size := range []int64{int64(len(data)), -1} {
		info, err := st.Put(ctx, "big", bytes.NewReader(data), size)
		if err != nil {
			t.Fatalf("Put(size %d) error = %v", size, err)
		}
		if info.Size != int64(len(data)) {
			t.Errorf("Put() size = %d, want %d", info.Size, len(data))
		}
	}
	if !bytes.Equal(mem().objects["big"], data) {
		t.Fatal("stored object differs from the one sent")
	}
	rc, err := st.Get(ctx, "big", 0, -1)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get() = %d bytes, %v; want the %d sent", len(got), err, len(data))
	}
	// Closing half-way cancels the stream.
	rc2, err := st.Get(ctx, "big", 1<<20, -1)
	if err != nil {
		t.Fatalf("Get() error = %v", err)
	}
	buf := make([]byte, 100)
	if _, err := io.ReadFull(rc2, buf); err != nil || !bytes.Equal(buf, data[1<<20:1<<20+100]) {
		t.Fatalf("Get(offset 1 MiB) read = %v", err)
	}
	rc2.Close()
}

func TestStorageSizeMismatch(t *testing.T) {
	ctx := context.Background()
	c, mem := startMem(t)
	st := c.Storage("mem")
	_, err := st.Put(ctx, "short", bytes.NewReader([]byte("abc")), 10)
	if !errors.Is(err, sdk.ErrChecksumMismatch) {
		t.Fatalf("Put(3 bytes announced as 10) error = %v, want sdk.ErrChecksumMismatch", err)
	}
	if mem().has("short") {
		t.Fatal("an object whose size did not match was stored")
	}
}
