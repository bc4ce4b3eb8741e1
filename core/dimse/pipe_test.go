package dimse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
	"time"

	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/ul"
)

// randomBytes returns n deterministic bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}

// TestStoreHandlerPauses: a handler that stops reading in the middle of its
// data set (longer than reclaimInterval, so the receive loop takes the
// reader back and queues fragments) and then reads on, in small reads and
// through WriteTo, gets every byte in order.
func TestStoreHandlerPauses(t *testing.T) {
	type got struct {
		sum [32]byte
		n   int64
		err error
	}
	recv := make(chan got, 1)
	mux := NewMux(nil)
	mux.HandleCStore(AnySOPClass, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		hash := sha256.New()
		var g got
		n, err := io.CopyN(hash, iotest.HalfReader(data), 1500) // ends inside the second fragment
		g.n += n
		if err == nil {
			time.Sleep(10 * reclaimInterval)
			n, err = io.Copy(hash, iotest.OneByteReader(io.LimitReader(data, 3000)))
			g.n += n
		}
		if err == nil {
			time.Sleep(10 * reclaimInterval)
			n, err = io.Copy(hash, data) // WriteTo
			g.n += n
		}
		copy(g.sum[:], hash.Sum(nil))
		g.err = err
		recv <- g
		return StatusSuccess
	})
	h := start(t, 1, 1, mux, nil)
	for _, size := range []int{1500, 4500, 4501, 100_000} {
		b := randomBytes(size)
		if _, err := h.client.Store(context.Background(), uid.CTImageStorage, "1.2.3", uid.ExplicitVRLittleEndian, bytes.NewReader(b), StoreOptions{}); err != nil {
			t.Fatalf("Store(%d bytes) error = %v", size, err)
		}
		g := <-recv
		if g.err != nil || g.n != int64(size) || g.sum != sha256.Sum256(b) {
			t.Errorf("handler read %d bytes (%x), error %v; want %d bytes", g.n, g.sum[:4], g.err, size)
		}
	}
	if err := h.client.Echo(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.close(t)
}

// TestAbortWhileHandlerReads: a handler reading its data set in place (on
// the receive loop, window of one operation) sees the association's failure
// as an error wrapping ErrClosed, and its context is cancelled with it.
func TestAbortWhileHandlerReads(t *testing.T) {
	readErr := make(chan error, 1)
	mux := NewMux(nil)
	mux.HandleCStore(AnySOPClass, func(ctx context.Context, op *Op, rq *CStoreRequest, data io.Reader) Status {
		_, err := io.Copy(io.Discard, data)
		if cause := context.Cause(ctx); err != nil && !errors.Is(cause, ErrClosed) {
			err = fmt.Errorf("read error %v, but context cause %v", err, cause)
		}
		readErr <- err
		return StatusProcessingFailure
	})
	h := start(t, 1, 1, mux, nil)
	pr, pw := io.Pipe()
	go func() {
		_, _ = h.client.Store(context.Background(), uid.CTImageStorage, "1.2", uid.ExplicitVRLittleEndian, pr, StoreOptions{})
	}()
	pw.Write(randomBytes(5000)) // the rest never comes
	time.Sleep(5 * reclaimInterval)
	h.client.Abort()
	pw.CloseWithError(errors.New("stop"))
	select {
	case err := <-readErr:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("handler's read error = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still reading after the abort")
	}
	if err := <-h.serveErr; !errors.Is(err, ul.ErrAborted) {
		t.Errorf("serve() error = %v, want ErrAborted", err)
	}
}
