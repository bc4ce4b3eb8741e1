package azurestorage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
)

var containerSeq atomic.Int64

// newStorage opens a Storage on a fresh container of az, after mutate
// changed its config.
func newStorage(t testing.TB, az *peertest.Azurite, mutate func(*Config)) *Storage {
	t.Helper()
	cfg := &Config{
		ConnectionString: az.ConnectionString,
		Container:        fmt.Sprintf("test-%d-%d", time.Now().UnixNano()%1e6, containerSeq.Add(1)),
		CreateContainer:  true,
		MaxRetries:       -1,
	}
	if mutate != nil {
		mutate(cfg)
	}
	st, err := New(context.Background(), "test", cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return st.(*Storage)
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readAll(t testing.TB, st *Storage, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%s, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%s, %d, %d): read: %v", key, offset, length, err)
	}
	return b
}

// failingReader yields n bytes of data and then fails.
type failingReader struct {
	data []byte
	n    int
}

var errReader = errors.New("reader broke")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errReader
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	r.n -= n
	return n, nil
}

// TestAzurite runs the backend against one Azurite; each subtest has its
// own container.
func TestAzurite(t *testing.T) {
	az := peertest.StartAzurite(t)
	ctx := context.Background()

	t.Run("basic", func(t *testing.T) {
		st := newStorage(t, az, nil)
		data := []byte("hello, azure")
		info, err := st.Put(ctx, "a/b/c.dcm", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if info.Size != int64(len(data)) || info.SHA256 != hexSHA256(data) || info.Key != "a/b/c.dcm" {
			t.Errorf("Put = %+v, want size %d sha %s", info, len(data), hexSHA256(data))
		}
		got, err := st.Stat(ctx, "a/b/c.dcm")
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if got.Size != int64(len(data)) || got.SHA256 != hexSHA256(data) || got.ModTime.IsZero() {
			t.Errorf("Stat = %+v", got)
		}
		ranges := []struct {
			offset, length int64
			want           string
		}{
			{0, -1, "hello, azure"},
			{7, -1, "azure"},
			{7, 3, "azu"},
			{7, 100, "azure"},
			{12, -1, ""},
			{50, 5, ""},
			{3, 0, ""},
		}
		for _, r := range ranges {
			if got := readAll(t, st, "a/b/c.dcm", r.offset, r.length); string(got) != r.want {
				t.Errorf("Get(%d, %d) = %q, want %q", r.offset, r.length, got, r.want)
			}
		}
		for _, op := range []func() error{
			func() error { _, err := st.Get(ctx, "missing", 0, -1); return err },
			func() error { _, err := st.Get(ctx, "missing", 5, 0); return err },
			func() error { _, err := st.Stat(ctx, "missing"); return err },
			func() error { return st.Delete(ctx, "missing") },
		} {
			if err := op(); !errors.Is(err, sdk.ErrNotFound) {
				t.Errorf("on a missing key: %v, want ErrNotFound", err)
			}
		}
		// Replace, then an empty object.
		if _, err := st.Put(ctx, "a/b/c.dcm", strings.NewReader("new"), -1); err != nil {
			t.Fatalf("Put replace: %v", err)
		}
		if got := readAll(t, st, "a/b/c.dcm", 0, -1); string(got) != "new" {
			t.Errorf("after replace Get = %q", got)
		}
		if info, err := st.Put(ctx, "empty", bytes.NewReader(nil), 0); err != nil || info.SHA256 != hexSHA256(nil) {
			t.Fatalf("Put empty = %+v, %v", info, err)
		}
		if got := readAll(t, st, "empty", 0, -1); len(got) != 0 {
			t.Errorf("Get empty = %q", got)
		}
		if got := readAll(t, st, "empty", 4, -1); len(got) != 0 {
			t.Errorf("Get empty past end = %q", got)
		}
		if err := st.Delete(ctx, "a/b/c.dcm"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := st.Stat(ctx, "a/b/c.dcm"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
		}
	})

	t.Run("list pages", func(t *testing.T) {
		st := newStorage(t, az, nil)
		var want []string
		for i := range 23 {
			key := fmt.Sprintf("s/%02d/o.dcm", i)
			want = append(want, key)
			data := []byte(key)
			if _, err := st.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Put(ctx, "t/other", strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		var got []string
		token, pages := "", 0
		for {
			page, err := st.List(ctx, "s/", token, 5)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			pages++
			if len(page.Objects) > 5 {
				t.Errorf("page of %d objects, want at most 5", len(page.Objects))
			}
			for _, o := range page.Objects {
				got = append(got, o.Key)
				if o.Size != int64(len(o.Key)) || o.SHA256 != hexSHA256([]byte(o.Key)) {
					t.Errorf("List object %+v: size or SHA-256 wrong", o)
				}
			}
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") || pages != 5 {
			t.Errorf("List in %d pages = %v, want %v in 5", pages, got, want)
		}
	})

	t.Run("prefix", func(t *testing.T) {
		name := fmt.Sprintf("prefix-%d", containerSeq.Add(1))
		raw := newStorage(t, az, func(c *Config) { c.Container = name })
		st := newStorage(t, az, func(c *Config) {
			c.Container = name
			c.Prefix = "site/a"
		})
		if _, err := st.Put(ctx, "k/1", strings.NewReader("one"), 3); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Put(ctx, "site/ab", strings.NewReader("outside"), 7); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, raw, "site/a/k/1", 0, -1); string(got) != "one" {
			t.Errorf("raw blob site/a/k/1 = %q, want one", got)
		}
		page, err := st.List(ctx, "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1 || page.Objects[0].Key != "k/1" {
			t.Errorf("List under prefix = %+v, want only k/1", page.Objects)
		}
		if _, err := st.Stat(ctx, "b"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Stat outside the prefix: %v, want ErrNotFound", err)
		}
	})

	t.Run("block upload", func(t *testing.T) {
		st := newStorage(t, az, func(c *Config) {
			c.BlockSize = "1MiB"
			c.Concurrency = 4
		})
		for _, tc := range []struct {
			name string
			size int
			hint bool
		}{
			{"20MiB+ known size", 20<<20 + 12345, true},
			{"20MiB+ unknown size", 20<<20 + 12345, false},
			{"exactly one block", 1 << 20, true},
			{"exactly two blocks unknown size", 2 << 20, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				data := randomBytes(tc.size, uint64(tc.size))
				size := int64(-1)
				if tc.hint {
					size = int64(len(data))
				}
				key := "big/" + strings.ReplaceAll(tc.name, " ", "-")
				buffers := 0
				testHookBlockBuffers = func(n int) { buffers = n }
				defer func() { testHookBlockBuffers = nil }()
				// Hide the reader's other methods: Put sees a plain stream.
				info, err := st.Put(ctx, key, struct{ io.Reader }{bytes.NewReader(data)}, size)
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				if info.Size != int64(len(data)) || info.SHA256 != hexSHA256(data) {
					t.Errorf("Put = %+v", info)
				}
				if buffers < 1 || buffers > 4 {
					t.Errorf("Put allocated %d block buffers, want 1 to concurrency (4)", buffers)
				}
				bl, err := st.container.NewBlockBlobClient(key).GetBlockList(ctx, blockblob.BlockListTypeAll, nil)
				if err != nil {
					t.Fatal(err)
				}
				if want := (tc.size + (1<<20 - 1)) >> 20; len(bl.CommittedBlocks) != want || len(bl.UncommittedBlocks) != 0 {
					t.Errorf("blocks: %d committed, %d uncommitted; want %d and 0", len(bl.CommittedBlocks), len(bl.UncommittedBlocks), want)
				}
				if got := readAll(t, st, key, 0, -1); !bytes.Equal(got, data) {
					t.Errorf("Get: %d bytes differ from the %d put", len(got), len(data))
				}
				if got, want := readAll(t, st, key, 1<<20-10, 20), data[1<<20-10:min(1<<20+10, len(data))]; !bytes.Equal(got, want) {
					t.Errorf("Get across a block boundary: %d bytes differ from %d", len(got), len(want))
				}
				if got, err := st.Stat(ctx, key); err != nil || got.SHA256 != hexSHA256(data) || got.Size != int64(len(data)) {
					t.Errorf("Stat = %+v, %v", got, err)
				}
			})
		}
	})

	t.Run("failed upload leaves nothing", func(t *testing.T) {
		st := newStorage(t, az, func(c *Config) {
			c.BlockSize = "1MiB"
			c.Concurrency = 4
		})
		old := []byte("the object before")
		if _, err := st.Put(ctx, "kept", bytes.NewReader(old), int64(len(old))); err != nil {
			t.Fatal(err)
		}
		data := randomBytes(12<<20, 7)
		for _, key := range []string{"new", "kept"} {
			_, err := st.Put(ctx, key, &failingReader{data: data, n: 5<<20 + 3}, int64(len(data)))
			if !errors.Is(err, errReader) {
				t.Errorf("Put %s with a failing reader: %v, want the reader's error", key, err)
			}
		}
		if _, err := st.Stat(ctx, "new"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Stat after a failed Put: %v, want ErrNotFound", err)
		}
		if got := readAll(t, st, "kept", 0, -1); !bytes.Equal(got, old) {
			t.Errorf("object replaced by a failed Put: %q", got)
		}
		// Cancelled half-way.
		cctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		go func() {
			pw.Write(data[:6<<20])
			cancel()
			time.Sleep(100 * time.Millisecond)
			pw.Write(data[6<<20:])
			pw.Close()
		}()
		if _, err := st.Put(cctx, "cancelled", pr, int64(len(data))); !errors.Is(err, context.Canceled) {
			t.Errorf("Put with ctx cancelled: %v, want context.Canceled", err)
		}
		pr.Close()
		if _, err := st.Stat(ctx, "cancelled"); !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("Stat after a cancelled Put: %v, want ErrNotFound", err)
		}
		page, err := st.List(ctx, "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1 || page.Objects[0].Key != "kept" {
			t.Errorf("List after failed Puts = %+v, want only kept", page.Objects)
		}
	})

	t.Run("size mismatch", func(t *testing.T) {
		st := newStorage(t, az, func(c *Config) { c.BlockSize = "64KiB" })
		for _, tc := range []struct {
			name       string
			have, told int
		}{
			{"short single", 100, 101},
			{"long single", 101, 100},
			{"short blocks", 300 << 10, 301 << 10},
			{"long blocks", 301 << 10, 300 << 10},
			{"long by one at a block boundary", 64<<10 + 1, 64 << 10},
			{"short by one at a block boundary", 64<<10 - 1, 64 << 10},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := st.Put(ctx, "m", bytes.NewReader(randomBytes(tc.have, 1)), int64(tc.told))
				if err == nil || !strings.Contains(err.Error(), "announced") {
					t.Errorf("Put of %d bytes announced as %d: %v, want a size error", tc.have, tc.told, err)
				}
				if _, err := st.Stat(ctx, "m"); !errors.Is(err, sdk.ErrNotFound) {
					t.Errorf("Stat after a size mismatch: %v, want ErrNotFound", err)
				}
			})
		}
	})

	t.Run("access tiers", func(t *testing.T) {
		for _, tier := range []string{"Hot", "Cool", "Cold", "Archive"} {
			t.Run(tier, func(t *testing.T) {
				st := newStorage(t, az, func(c *Config) {
					c.AccessTier = tier
					c.BlockSize = "64KiB"
				})
				for _, size := range []int{1000, 200 << 10} {
					key := fmt.Sprintf("o%d", size)
					data := randomBytes(size, 3)
					if _, err := st.Put(ctx, key, bytes.NewReader(data), int64(size)); err != nil {
						t.Fatalf("Put: %v", err)
					}
					p, err := st.container.NewBlobClient(key).GetProperties(ctx, nil)
					if err != nil {
						t.Fatal(err)
					}
					if p.AccessTier == nil || *p.AccessTier != tier {
						t.Errorf("%d bytes: tier %v, want %s", size, p.AccessTier, tier)
					}
					if info, err := st.Stat(ctx, key); err != nil || info.SHA256 != hexSHA256(data) {
						t.Errorf("Stat = %+v, %v", info, err)
					}
					_, err = st.Get(ctx, key, 0, -1)
					if tier != "Archive" {
						if err != nil {
							t.Errorf("Get: %v", err)
						}
						continue
					}
					if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "rehydrated") {
						t.Errorf("Get of an archived blob: %v, want ErrUnavailable saying it must be rehydrated", err)
					}
				}
			})
		}
	})

	t.Run("create container", func(t *testing.T) {
		name := fmt.Sprintf("absent-%d", containerSeq.Add(1))
		cfg := &Config{ConnectionString: az.ConnectionString, Container: name, MaxRetries: -1}
		_, err := New(ctx, "test", cfg)
		var ce *sdk.ConfigError
		if !errors.As(err, &ce) || ce.Path != "container" || !strings.Contains(ce.Message, "does not exist") {
			t.Fatalf("New on a missing container without create_container: %v, want a ConfigError at container", err)
		}
		cfg.CreateContainer = true
		st, err := New(ctx, "test", cfg)
		if err != nil {
			t.Fatalf("New with create_container: %v", err)
		}
		if _, err := st.Put(ctx, "x", strings.NewReader("x"), 1); err != nil {
			t.Fatal(err)
		}
		cfg.CreateContainer = false
		if _, err := New(ctx, "test", cfg); err != nil {
			t.Errorf("New on the existing container: %v", err)
		}
		cfg.CreateContainer = true
		if _, err := New(ctx, "test", cfg); err != nil {
			t.Errorf("New with create_container on the existing container: %v", err)
		}
	})

	t.Run("bad key", func(t *testing.T) {
		wrongKey := base64Key("not the key")
		for _, tc := range []struct {
			name string
			cfg  Config
			path string
		}{
			{"connection string", Config{ConnectionString: strings.Replace(az.ConnectionString, peertest.AzuriteKey, wrongKey, 1)}, "connection_string"},
			{"account key", Config{AccountName: peertest.AzuriteAccount, AccountKey: wrongKey, Endpoint: az.BlobEndpoint}, "account_key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.cfg.Container = "any-container"
				tc.cfg.MaxRetries = -1
				_, err := New(ctx, "test", &tc.cfg)
				var ce *sdk.ConfigError
				if !errors.As(err, &ce) || ce.Path != tc.path || !strings.Contains(ce.Message, "refused the credentials") {
					t.Fatalf("New with a wrong key: %v, want a ConfigError at %s", err, tc.path)
				}
				if strings.Contains(err.Error(), wrongKey) {
					t.Errorf("the error quotes the key: %v", err)
				}
			})
		}
		st, err := New(ctx, "test", &Config{AccountName: peertest.AzuriteAccount, AccountKey: peertest.AzuriteKey, Endpoint: az.BlobEndpoint, Container: "by-account-key", CreateContainer: true})
		if err != nil {
			t.Fatalf("New with account_name and account_key: %v", err)
		}
		if _, err := st.Put(ctx, "x", strings.NewReader("x"), 1); err != nil {
			t.Errorf("Put with account_key: %v", err)
		}
	})
}

// base64Key returns a well-formed shared key made of s.
func base64Key(s string) string {
	return base64.StdEncoding.EncodeToString([]byte(s))
}

func TestUnreachable(t *testing.T) {
	// A port that was free a moment ago: nothing answers there.
	cfg := &Config{
		AccountName: peertest.AzuriteAccount,
		AccountKey:  peertest.AzuriteKey,
		Endpoint:    "http://127.0.0.1:1/" + peertest.AzuriteAccount,
		Container:   "nowhere",
		MaxRetries:  -1,
	}
	_, err := New(context.Background(), "test", cfg)
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("New against a closed port: %v, want ErrUnavailable", err)
	}
}
