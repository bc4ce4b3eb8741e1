package s3storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pacsforge/pacs/internal/peertest"
	"github.com/pacsforge/pacs/sdk"
)

// testConfig returns the config of a bucket on srv, created when create.
func testConfig(t testing.TB, srv *peertest.S3Server, bucket string, create bool) *Config {
	t.Helper()
	if create {
		srv.CreateBucket(t, bucket)
	}
	zero := 0
	return &Config{
		Bucket:          bucket,
		Region:          srv.Region,
		Endpoint:        srv.Endpoint,
		PathStyle:       true,
		AccessKeyID:     srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey,
		MaxRetries:      &zero,
	}
}

// newStorage returns the Storage of cfg, failing the test on error.
func newStorage(t testing.TB, cfg *Config) *Storage {
	t.Helper()
	st, err := New(context.Background(), "test", cfg)
	if err != nil {
		t.Fatalf("New(%v) error = %v", cfg, err)
	}
	return st.(*Storage)
}

// randomBytes returns n random bytes and their SHA-256 in hex.
func randomBytes(n int) ([]byte, string) {
	b := make([]byte, n)
	rand.Read(b)
	h := sha256.Sum256(b)
	return b, hex.EncodeToString(h[:])
}

// stream hides bytes.Reader's WriterTo and Seeker.
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// failingReader yields n bytes of zeros and then fails.
type failingReader struct{ n int64 }

var errReader = errors.New("reader broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errReader
	}
	p = p[:min(int64(len(p)), f.n)]
	clear(p)
	f.n -= int64(len(p))
	return len(p), nil
}

// pendingUploads returns the multipart uploads in progress in bucket.
func pendingUploads(t testing.TB, srv *peertest.S3Server, bucket string) int {
	t.Helper()
	out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads() error = %v", err)
	}
	return len(out.Uploads)
}

func readAll(t testing.TB, st sdk.Storage, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := st.Get(context.Background(), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d) error = %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q) read error = %v", key, err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	srv := peertest.StartS3(t)
	st := newStorage(t, testConfig(t, srv, "pacs", true))
	ctx := t.Context()
	data, sum := randomBytes(100 << 10)
	info, err := st.Put(ctx, "1.2.3/4.5.6/7.8.9.dcm", stream{bytes.NewReader(data)}, int64(len(data)))
	if err != nil || info.Size != int64(len(data)) || info.SHA256 != sum {
		t.Fatalf("Put() = %+v, %v; want size %d sha256 %s", info, err, len(data), sum)
	}
	if got := readAll(t, st, "1.2.3/4.5.6/7.8.9.dcm", 0, -1); !bytes.Equal(got, data) {
		t.Errorf("Get() = %d bytes, want the %d stored", len(got), len(data))
	}
	if got := readAll(t, st, "1.2.3/4.5.6/7.8.9.dcm", 1000, 10); !bytes.Equal(got, data[1000:1010]) {
		t.Errorf("Get(1000, 10) = %x, want %x", got, data[1000:1010])
	}
	if got := readAll(t, st, "1.2.3/4.5.6/7.8.9.dcm", int64(len(data)), -1); len(got) != 0 {
		t.Errorf("Get(at the end) = %d bytes, want 0", len(got))
	}
	if got := readAll(t, st, "1.2.3/4.5.6/7.8.9.dcm", int64(len(data))+10, 5); len(got) != 0 {
		t.Errorf("Get(past the end) = %d bytes, want 0", len(got))
	}
	got, err := st.Stat(ctx, "1.2.3/4.5.6/7.8.9.dcm")
	if err != nil || got.Size != int64(len(data)) || got.SHA256 != sum || got.ModTime.IsZero() {
		t.Errorf("Stat() = %+v, %v; want size %d sha256 %s and a time", got, err, len(data), sum)
	}
	if err := st.Delete(ctx, "1.2.3/4.5.6/7.8.9.dcm"); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	if err := st.Delete(ctx, "1.2.3/4.5.6/7.8.9.dcm"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete(deleted) error = %v, want sdk.ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "1.2.3/4.5.6/7.8.9.dcm", 0, -1); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get(deleted) error = %v, want sdk.ErrNotFound", err)
	}
	if _, err := st.Get(ctx, "1.2.3/4.5.6/7.8.9.dcm", 5, 0); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get(deleted, length 0) error = %v, want sdk.ErrNotFound", err)
	}
	if _, err := st.Stat(ctx, "1.2.3/4.5.6/7.8.9.dcm"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat(deleted) error = %v, want sdk.ErrNotFound", err)
	}
	if info, err := st.Put(ctx, "empty", strings.NewReader(""), 0); err != nil || info.Size != 0 {
		t.Fatalf("Put(empty) = %+v, %v", info, err)
	}
	if got := readAll(t, st, "empty", 0, -1); len(got) != 0 {
		t.Errorf("Get(empty) = %d bytes", len(got))
	}
	if got := readAll(t, st, "empty", 0, 10); len(got) != 0 {
		t.Errorf("Get(empty, 0, 10) = %d bytes", len(got))
	}
}

func TestMultipart(t *testing.T) {
	srv := peertest.StartS3(t)
	cfg := testConfig(t, srv, "pacs", true)
	cfg.PartSize, cfg.Concurrency = "5MiB", 3
	st := newStorage(t, cfg)
	data, sum := randomBytes(24<<20 + 12345)
	for _, size := range []int64{int64(len(data)), -1} {
		info, err := st.Put(t.Context(), "big", stream{bytes.NewReader(data)}, size)
		if err != nil || info.Size != int64(len(data)) || info.SHA256 != sum {
			t.Fatalf("Put(%d bytes, size %d) = %+v, %v; want sha256 %s", len(data), size, info, err, sum)
		}
		if got := readAll(t, st, "big", 0, -1); !bytes.Equal(got, data) {
			t.Errorf("Get() = %d bytes, not the %d stored", len(got), len(data))
		}
		// A range across the boundary of parts 1 and 2.
		if got := readAll(t, st, "big", 5<<20-100, 200); !bytes.Equal(got, data[5<<20-100:5<<20+100]) {
			t.Errorf("Get(across parts) differs")
		}
		if got, err := st.Stat(t.Context(), "big"); err != nil || got.SHA256 != sum || got.Size != int64(len(data)) {
			t.Errorf("Stat() = %+v, %v; want sha256 %s", got, err, sum)
		}
		if n := pendingUploads(t, srv, "pacs"); n != 0 {
			t.Errorf("%d multipart uploads pending after Put", n)
		}
	}
	// Exactly one part: a single PutObject.
	one, oneSum := randomBytes(5 << 20)
	if info, err := st.Put(t.Context(), "one", stream{bytes.NewReader(one)}, -1); err != nil || info.SHA256 != oneSum {
		t.Fatalf("Put(one part) = %+v, %v", info, err)
	}
	if got := readAll(t, st, "one", 0, -1); !bytes.Equal(got, one) {
		t.Errorf("Get(one part) differs")
	}
}

func TestMultipartAbort(t *testing.T) {
	srv := peertest.StartS3(t)
	cfg := testConfig(t, srv, "pacs", true)
	cfg.PartSize, cfg.Concurrency = "5MiB", 2
	st := newStorage(t, cfg)
	old, oldSum := randomBytes(1000)
	if _, err := st.Put(t.Context(), "k", bytes.NewReader(old), int64(len(old))); err != nil {
		t.Fatalf("Put(old) error = %v", err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	tests := []struct {
		name    string
		ctx     context.Context
		r       io.Reader
		size    int64
		wantErr error
	}{
		{name: "reader fails after 3 parts", ctx: t.Context(), r: &failingReader{n: 16 << 20}, size: -1, wantErr: errReader},
		{name: "reader fails in the first part", ctx: t.Context(), r: &failingReader{n: 1 << 20}, size: -1, wantErr: errReader},
		{name: "short body", ctx: t.Context(), r: bytes.NewReader(make([]byte, 12<<20)), size: 13 << 20, wantErr: errBodyShort},
		{name: "long body", ctx: t.Context(), r: bytes.NewReader(make([]byte, 12<<20)), size: 11 << 20, wantErr: errBodyLong},
		{name: "long body by one byte", ctx: t.Context(), r: bytes.NewReader(make([]byte, 5<<20+1)), size: 5 << 20, wantErr: errBodyLong},
		{name: "short small body", ctx: t.Context(), r: bytes.NewReader(make([]byte, 100)), size: 101, wantErr: errBodyShort},
		{name: "long small body", ctx: t.Context(), r: bytes.NewReader(make([]byte, 100)), size: 99, wantErr: errBodyLong},
		{name: "cancelled after 2 parts", ctx: cancelled, r: &cancelReader{r: bytes.NewReader(make([]byte, 20<<20)), after: 11 << 20, cancel: cancel}, size: -1, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := st.Put(tc.ctx, "k", tc.r, tc.size); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Put() error = %v, want %v", err, tc.wantErr)
			}
			if n := pendingUploads(t, srv, "pacs"); n != 0 {
				t.Errorf("%d multipart uploads pending after a failed Put", n)
			}
			if got := readAll(t, st, "k", 0, -1); !bytes.Equal(got, old) {
				t.Errorf("Get() after a failed Put = %d bytes, want the old %d", len(got), len(old))
			}
			if info, err := st.Stat(t.Context(), "k"); err != nil || info.SHA256 != oldSum {
				t.Errorf("Stat() after a failed Put = %+v, %v; want the old object", info, err)
			}
		})
	}
	// Nothing of a failed first Put is visible.
	if _, err := st.Put(t.Context(), "new", &failingReader{n: 12 << 20}, -1); !errors.Is(err, errReader) {
		t.Fatalf("Put(new) error = %v, want %v", err, errReader)
	}
	if _, err := st.Stat(t.Context(), "new"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat(new) after a failed Put error = %v, want sdk.ErrNotFound", err)
	}
}

// cancelReader cancels its context once after bytes have been read.
type cancelReader struct {
	r      io.Reader
	after  int64
	n      int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func TestPrefix(t *testing.T) {
	srv := peertest.StartS3(t)
	cfg := testConfig(t, srv, "pacs", true)
	cfg.Prefix = "site-a"
	st := newStorage(t, cfg)
	other := newStorage(t, testConfig(t, srv, "pacs", false))
	for _, k := range []string{"s1/a", "s1/b", "s2/c"} {
		if _, err := st.Put(t.Context(), k, strings.NewReader(k), -1); err != nil {
			t.Fatalf("Put(%q) error = %v", k, err)
		}
	}
	if _, err := other.Put(t.Context(), "s1/outside", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if got := string(readAll(t, other, "site-a/s1/a", 0, -1)); got != "s1/a" {
		t.Errorf("object under the bucket's key site-a/s1/a = %q, want \"s1/a\"", got)
	}
	page, err := st.List(t.Context(), "s1/", "", 0)
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	if got, want := strings.Join(keys, ","), "s1/a,s1/b"; got != want {
		t.Errorf("List(s1/) keys = %s, want %s", got, want)
	}
	all, err := st.List(t.Context(), "", "", 0)
	if err != nil || len(all.Objects) != 3 {
		t.Errorf("List(\"\") = %d objects, %v; want the 3 under the prefix", len(all.Objects), err)
	}
}

func TestListPaging(t *testing.T) {
	srv := peertest.StartS3(t)
	st := newStorage(t, testConfig(t, srv, "pacs", true))
	var want []string
	for i := range 7 {
		k := "p/" + string(rune('a'+i))
		want = append(want, k)
		if _, err := st.Put(t.Context(), k, strings.NewReader(k), -1); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	token, pages := "", 0
	for {
		page, err := st.List(t.Context(), "p/", token, 3)
		if err != nil {
			t.Fatalf("List() error = %v", err)
		}
		pages++
		for _, o := range page.Objects {
			got = append(got, o.Key)
			if o.Size != 3 {
				t.Errorf("List() %s size = %d, want 3", o.Key, o.Size)
			}
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Errorf("List() pages = %d, keys = %v; want 3 pages of %v", pages, got, want)
	}
}

func TestCreateBucket(t *testing.T) {
	srv := peertest.StartS3(t)
	cfg := testConfig(t, srv, "missing", false)
	_, err := New(t.Context(), "warm", cfg)
	var ce *sdk.ConfigError
	if !errors.As(err, &ce) || ce.Path != "bucket" || !strings.Contains(err.Error(), "create_bucket") {
		t.Fatalf("New(missing bucket) error = %v, want a ConfigError at bucket naming create_bucket", err)
	}
	if srv.BucketExists(t, "missing") {
		t.Fatal("New() created the bucket without create_bucket")
	}
	cfg.CreateBucket = true
	st := newStorage(t, cfg)
	if !srv.BucketExists(t, "missing") {
		t.Fatal("New() with create_bucket did not create the bucket")
	}
	if _, err := st.Put(t.Context(), "a", strings.NewReader("a"), 1); err != nil {
		t.Errorf("Put() into the created bucket error = %v", err)
	}
	newStorage(t, cfg) // an existing bucket is fine with create_bucket
}

func TestBadCredentials(t *testing.T) {
	srv := peertest.StartS3(t)
	cfg := testConfig(t, srv, "pacs", true)
	cfg.SecretAccessKey = "wrong-secret"
	_, err := New(t.Context(), "warm", cfg)
	var ce *sdk.ConfigError
	if !errors.As(err, &ce) || ce.Path != "access_key_id" || !strings.Contains(err.Error(), "403") {
		t.Fatalf("New(wrong secret) error = %v, want a ConfigError at access_key_id saying 403", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("New() error %q shows the secret", err)
	}
	cfg = testConfig(t, srv, "pacs", false)
	cfg.AccessKeyID = "unknown-key"
	if _, err := New(t.Context(), "warm", cfg); !errors.As(err, &ce) || ce.Path != "access_key_id" {
		t.Fatalf("New(unknown key) error = %v, want a ConfigError at access_key_id", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	zero := 0
	cfg := &Config{Bucket: "pacs", Endpoint: "http://" + addr, PathStyle: true, AccessKeyID: "a", SecretAccessKey: "b", MaxRetries: &zero}
	if _, err := New(t.Context(), "warm", cfg); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("New(unreachable endpoint) error = %v, want sdk.ErrUnavailable", err)
	}
}

// TestServerGone checks the errors of each operation when the server stops
// after start-up.
func TestServerGone(t *testing.T) {
	srv := peertest.StartS3(t)
	st := newStorage(t, testConfig(t, srv, "pacs", true))
	// Point the client at a closed port: the same as the server dying.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	st.client = s3.New(st.client.Options(), func(o *s3.Options) { o.BaseEndpoint = aws.String("http://" + addr) })
	ctx := t.Context()
	if _, err := st.Put(ctx, "a", strings.NewReader("a"), 1); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Put() error = %v, want sdk.ErrUnavailable", err)
	}
	if _, err := st.Get(ctx, "a", 0, -1); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Get() error = %v, want sdk.ErrUnavailable", err)
	}
	if _, err := st.Stat(ctx, "a"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Stat() error = %v, want sdk.ErrUnavailable", err)
	}
	if err := st.Delete(ctx, "a"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Delete() error = %v, want sdk.ErrUnavailable", err)
	}
	if _, err := st.List(ctx, "", "", 0); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("List() error = %v, want sdk.ErrUnavailable", err)
	}
}
