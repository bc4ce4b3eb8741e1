package storagetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"testing"
)

// blockingReader yields head, signals started and blocks until ctx is done;
// then it goes on yielding tail as if nothing happened, so only the
// backend's own attention to ctx can fail the Put.
type blockingReader struct {
	ctx     context.Context
	head    []byte
	tail    []byte
	started chan struct{}
	blocked bool
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.head) > 0 {
		n := copy(p, r.head)
		r.head = r.head[n:]
		return n, nil
	}
	if !r.blocked {
		r.blocked = true
		close(r.started)
		<-r.ctx.Done()
	}
	if len(r.tail) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.tail)
	r.tail = r.tail[n:]
	return n, nil
}

// failingReader yields data and then fails with err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		err = f.err
	}
	return n, err
}

// errReaderFailed is the failure of failingReader.
var errReaderFailed = errors.New("storagetest: the reader failed half-way")

// previous stores the object a failed Put must leave intact under key
// (replace true), or nothing.
func (e *env) previous(t *testing.T, key string, replace bool, seed uint64) *object {
	t.Helper()
	if !replace {
		return nil
	}
	o := newObject(seed, 3000)
	e.put(t, key, o, true)
	return &o
}

// wantUnchanged checks that key holds prev, or that nothing is stored in
// key's "directory" if prev is nil.
func (e *env) wantUnchanged(t *testing.T, key string, prev *object) {
	t.Helper()
	if prev == nil {
		e.wantAbsent(t, key)
		if objs := e.list(t, path.Dir(key)+"/", 0); len(objs) != 0 {
			t.Errorf("List after a failed Put shows %d objects, the first %q", len(objs), objs[0].Key)
		}
		return
	}
	e.wantObject(t, key, *prev)
}

// modes are the cases of a failed Put: a new key or a replacement, size
// unknown or given.
var modes = []struct {
	name             string
	replace, sizeSet bool
}{
	{"new key", false, false},
	{"new key with size", false, true},
	{"replacement", true, false},
	{"replacement with size", true, true},
}

// testPutCancelled cancels a Put while its reader blocks half-way.
func testPutCancelled(t *testing.T, e *env) {
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			key := e.key(fmt.Sprintf("%d/obj.dcm", i))
			prev := e.previous(t, key, m.replace, uint64(1000+i))
			o := newObject(uint64(1010+i), 2<<20)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &blockingReader{ctx: ctx, head: o.data[:1<<20+17], tail: o.data[1<<20+17:], started: make(chan struct{})}
			size := int64(-1)
			if m.sizeSet {
				size = int64(len(o.data))
			}
			done := make(chan error, 1)
			go func() {
				_, err := e.s.Put(ctx, key, r, size)
				done <- err
			}()
			select {
			case <-r.started:
			case err := <-done:
				t.Fatalf("Put returned before reading its reader to the blocking point: %v", err)
			}
			cancel()
			if err := wait(t, "Put after its context was cancelled", done); err == nil {
				t.Fatal("Put returned nil after its context was cancelled half-way")
			}
			e.wantUnchanged(t, key, prev)
		})
	}
}

// testPutCancelledBefore puts with a context cancelled before the call.
func testPutCancelledBefore(t *testing.T, e *env) {
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			key := e.key(fmt.Sprintf("%d/obj.dcm", i))
			prev := e.previous(t, key, m.replace, uint64(1100+i))
			o := newObject(uint64(1110+i), 1000)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			size := int64(-1)
			if m.sizeSet {
				size = int64(len(o.data))
			}
			if _, err := e.s.Put(ctx, key, newStream(o.data), size); err == nil {
				t.Fatal("Put with a cancelled context returned nil")
			}
			e.wantUnchanged(t, key, prev)
		})
	}
}

// testGetCancelled gets with a context cancelled before the call.
func testGetCancelled(t *testing.T, e *env) {
	key := e.key("get.dcm")
	o := newObject(1200, 5000)
	e.put(t, key, o, true)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rc, err := e.s.Get(ctx, key, 0, -1)
	if err == nil {
		rc.Close()
		t.Fatal("Get with a cancelled context returned nil")
	}
	e.wantObject(t, key, o)
}

// testReaderFails puts from a reader that fails after a chunk and a half.
func testReaderFails(t *testing.T, e *env) {
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			key := e.key(fmt.Sprintf("%d/obj.dcm", i))
			prev := e.previous(t, key, m.replace, uint64(1300+i))
			o := newObject(uint64(1310+i), 2<<20)
			size := int64(-1)
			if m.sizeSet {
				size = int64(len(o.data))
			}
			r := &failingReader{r: newStream(o.data[:3<<19]), err: errReaderFailed}
			if _, err := e.s.Put(t.Context(), key, r, size); err == nil {
				t.Fatal("Put from a failing reader returned nil")
			}
			e.wantUnchanged(t, key, prev)
		})
	}
}

// testSizeMismatch puts from readers that yield fewer or more bytes than
// the size given.
func testSizeMismatch(t *testing.T, e *env) {
	o := newObject(1400, 100000)
	for i, tc := range []struct {
		name    string
		size    int64
		replace bool
	}{
		{"short", 100001, false},
		{"long", 99999, false},
		{"empty", 1, false},
		{"short replacement", 1 << 20, true},
		{"long replacement", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := e.key(fmt.Sprintf("%d/obj.dcm", i))
			prev := e.previous(t, key, tc.replace, uint64(1410+i))
			data := o.data
			if tc.name == "empty" {
				data = nil
			}
			if info, err := e.s.Put(t.Context(), key, newStream(data), tc.size); err == nil {
				t.Fatalf("Put of %d bytes with size %d = %+v, want an error", len(data), tc.size, info)
			}
			e.wantUnchanged(t, key, prev)
		})
	}
}
