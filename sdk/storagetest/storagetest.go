package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/pacsforge/pacs/sdk"
)

// DefaultLargeSize is the size in bytes of the large-object subtest's
// object: 24 MiB, past the plugin protocol's 1 MiB chunks, S3's 5 and 8 MiB
// multipart parts and Azure's 4 MiB blocks.
const DefaultLargeSize = 24 << 20

// hangTimeout bounds the wait for a call the suite expects to return (after
// its ctx is cancelled): past it the subtest fails as hung instead of
// blocking the test binary. It is not a performance limit.
const hangTimeout = 2 * time.Minute

// modTimeSlack is how far from the test's clock a ModTime may be and still
// be plausible (clock skew of a remote backend, coarse timestamps).
const modTimeSlack = time.Hour

// Options adapt the suite to a backend. The zero value is the strictest
// useful setting but for KeepsSHA256.
type Options struct {
	// LargeSize is the size in bytes of the large-object subtest's object;
	// 0 means DefaultLargeSize and a negative value skips the subtest.
	// With -short the subtest is skipped.
	LargeSize int64
	// KeepsSHA256 requires Stat and List to give each object's SHA-256.
	// Without it they may leave it empty; a digest they give is checked
	// either way.
	KeepsSHA256 bool
}

// Run runs the conformance suite with the zero Options. newStorage returns
// the storage of one subtest; it may return a fresh backend or one shared
// with the other subtests, and should register its own cleanup with t.
func Run(t *testing.T, newStorage func(t *testing.T) sdk.Storage) {
	t.Helper()
	RunWith(t, newStorage, Options{})
}

// RunWith runs the conformance suite with opts, one subtest per part of the
// contract (see the package doc).
func RunWith(t *testing.T, newStorage func(t *testing.T) sdk.Storage, opts Options) {
	t.Helper()
	run := runID()
	for _, c := range []struct {
		name string
		f    func(t *testing.T, e *env)
	}{
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"Range", testRange},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"List", testList},
		{"ListPaging", testListPaging},
		{"Keys", testKeys},
		{"Large", testLarge},
		{"ConcurrentDistinct", testConcurrentDistinct},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"PutCancelled", testPutCancelled},
		{"PutCancelledBefore", testPutCancelledBefore},
		{"GetCancelled", testGetCancelled},
		{"ReaderFails", testReaderFails},
		{"SizeMismatch", testSizeMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &env{s: newStorage(t), prefix: "storagetest-" + run + "/" + c.name + "/", opts: opts}
			t.Cleanup(func() { e.removeAll() })
			c.f(t, e)
		})
	}
}

// runID returns a name unique to this run of the suite.
func runID() string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%x", time.Now().UTC().Format("20060102T150405"), b)
}

// env is one subtest's storage and key prefix.
type env struct {
	s      sdk.Storage
	prefix string // ends with "/"
	opts   Options
}

// key returns rel under the subtest's prefix.
func (e *env) key(rel string) string { return e.prefix + rel }

// removeAll deletes, best effort, every object under the subtest's prefix.
func (e *env) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	token := ""
	for range 1000 {
		page, err := e.s.List(ctx, e.prefix, token, 0)
		if err != nil {
			return
		}
		for _, o := range page.Objects {
			e.s.Delete(ctx, o.Key)
		}
		if page.NextPageToken == "" || page.NextPageToken == token {
			return
		}
		token = page.NextPageToken
	}
}

// object is test content with its digest.
type object struct {
	data []byte
	sum  string
}

// newObject returns n pseudo-random bytes, the same for the same seed.
func newObject(seed uint64, n int) object {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	binary.LittleEndian.PutUint64(s[8:], uint64(n))
	b := make([]byte, n)
	mrand.NewChaCha8(s).Read(b)
	return newObjectOf(b)
}

func newObjectOf(b []byte) object {
	h := sha256.Sum256(b)
	return object{data: b, sum: hex.EncodeToString(h[:])}
}

// streamReader hides bytes.Reader's WriterTo, Seeker and ReaderAt, as a
// network stream would, and returns short reads of varying sizes.
type streamReader struct {
	r *bytes.Reader
	n int
}

func newStream(b []byte) *streamReader { return &streamReader{r: bytes.NewReader(b)} }

func (s *streamReader) Read(p []byte) (int, error) {
	s.n++
	if max := 1 + (s.n*7919)%(64<<10); len(p) > max && s.n%3 == 0 {
		p = p[:max]
	}
	return s.r.Read(p)
}

// put stores o under key (size given or -1) and checks the returned info.
func (e *env) put(t *testing.T, key string, o object, sizeKnown bool) sdk.ObjectInfo {
	t.Helper()
	size := int64(-1)
	if sizeKnown {
		size = int64(len(o.data))
	}
	info, err := e.s.Put(t.Context(), key, newStream(o.data), size)
	if err != nil {
		t.Fatalf("Put(%q, %d bytes, size %d) error = %v", key, len(o.data), size, err)
	}
	if info.Size != int64(len(o.data)) || info.SHA256 != o.sum {
		t.Errorf("Put(%q) = size %d, sha256 %q; want %d, %q", key, info.Size, info.SHA256, len(o.data), o.sum)
	}
	if info.Key != "" && info.Key != key {
		t.Errorf("Put(%q) info.Key = %q", key, info.Key)
	}
	return info
}

// get reads key's range [offset, offset+length) whole.
func (e *env) get(t *testing.T, key string, offset, length int64) []byte {
	t.Helper()
	b, err := e.read(t.Context(), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d) error = %v", key, offset, length, err)
	}
	return b
}

func (e *env) read(ctx context.Context, key string, offset, length int64) ([]byte, error) {
	rc, err := e.s.Get(ctx, key, offset, length)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// wantObject checks that key holds o, by Get and Stat.
func (e *env) wantObject(t *testing.T, key string, o object) {
	t.Helper()
	if got := e.get(t, key, 0, -1); !bytes.Equal(got, o.data) {
		t.Errorf("Get(%q) = %d bytes (sha256 %s), want %d bytes (sha256 %s)", key, len(got), newObjectOf(got).sum, len(o.data), o.sum)
	}
	info, err := e.s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q) error = %v", key, err)
	}
	e.checkInfo(t, "Stat", key, info, o)
}

// checkInfo checks an ObjectInfo of Stat or List against o.
func (e *env) checkInfo(t *testing.T, op, key string, info sdk.ObjectInfo, o object) {
	t.Helper()
	if info.Key != "" && info.Key != key {
		t.Errorf("%s(%q) Key = %q", op, key, info.Key)
	}
	if info.Size != int64(len(o.data)) {
		t.Errorf("%s(%q) Size = %d, want %d", op, key, info.Size, len(o.data))
	}
	switch {
	case info.SHA256 == "" && e.opts.KeepsSHA256:
		t.Errorf("%s(%q) SHA256 is empty; the backend declares it keeps it", op, key)
	case info.SHA256 != "" && info.SHA256 != o.sum:
		t.Errorf("%s(%q) SHA256 = %q, want %q", op, key, info.SHA256, o.sum)
	}
}

// wantAbsent checks that key holds no object: Get and Stat give
// sdk.ErrNotFound and List under key does not show it.
func (e *env) wantAbsent(t *testing.T, key string) {
	t.Helper()
	if _, err := e.read(t.Context(), key, 0, -1); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get(%q) error = %v, want sdk.ErrNotFound", key, err)
	}
	if info, err := e.s.Stat(t.Context(), key); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want sdk.ErrNotFound", key, info, err)
	}
	for _, o := range e.list(t, key, 0) {
		if o.Key == key {
			t.Errorf("List(%q) shows %q, which should not exist", key, key)
		}
	}
}

// list follows List's pages under prefix and returns every object,
// checking page sizes and that the pages end.
func (e *env) list(t *testing.T, prefix string, pageSize int) []sdk.ObjectInfo {
	t.Helper()
	objs, _ := e.listPages(t, prefix, pageSize, 1<<16)
	return objs
}

// listPages is list that also returns the number of pages, failing after
// maxPages.
func (e *env) listPages(t *testing.T, prefix string, pageSize, maxPages int) ([]sdk.ObjectInfo, int) {
	t.Helper()
	var all []sdk.ObjectInfo
	token := ""
	for n := 1; ; n++ {
		page, err := e.s.List(t.Context(), prefix, token, pageSize)
		if err != nil {
			t.Fatalf("List(%q, page %d, size %d) error = %v", prefix, n, pageSize, err)
		}
		if pageSize > 0 && len(page.Objects) > pageSize {
			t.Errorf("List(%q) page %d holds %d objects, more than the page size %d", prefix, n, len(page.Objects), pageSize)
		}
		all = append(all, page.Objects...)
		if page.NextPageToken == "" {
			return all, n
		}
		if page.NextPageToken == token {
			t.Fatalf("List(%q) page %d returns its own page token %q again", prefix, n, token)
		}
		if n >= maxPages {
			t.Fatalf("List(%q, size %d) has not ended after %d pages (%d objects)", prefix, pageSize, n, len(all))
		}
		token = page.NextPageToken
	}
}

// wait waits for done or fails the test as hung.
func wait[T any](t *testing.T, what string, done <-chan T) T {
	t.Helper()
	select {
	case v := <-done:
		return v
	case <-time.After(hangTimeout):
		t.Fatalf("%s has not returned after %v", what, hangTimeout)
		var zero T
		return zero
	}
}
