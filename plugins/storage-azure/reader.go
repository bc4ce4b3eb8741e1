package azurestorage

import (
	"context"
	"io"
)

// pumpChunk is the size of the chunks contextReader's goroutine reads.
const pumpChunk = 256 << 10

// chunk is one read of the pumped reader.
type chunk struct {
	buf []byte // a whole pump buffer, data in buf[:n]
	n   int
	err error
}

// contextReader reads r in its own goroutine so that a Read returns with
// ctx's cause as soon as ctx is done, even while r blocks. After ctx is
// done the goroutine finishes the read in progress (if any) and stops; r
// is not read again. It holds at most three chunks of pumpChunk bytes.
type contextReader struct {
	ctx  context.Context
	ch   chan chunk
	free chan []byte
	cur  chunk
	off  int
	err  error
}

// newContextReader starts reading r for ctx. A ctx that can never be
// cancelled needs no goroutine: r itself is returned.
func newContextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r
	}
	cr := &contextReader{ctx: ctx, ch: make(chan chunk), free: make(chan []byte, 2)}
	cr.free <- make([]byte, pumpChunk)
	cr.free <- make([]byte, pumpChunk)
	go cr.pump(r)
	return cr
}

func (cr *contextReader) pump(r io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-cr.free:
		case <-cr.ctx.Done():
			return
		}
		if cr.ctx.Err() != nil {
			return
		}
		n, err := r.Read(buf)
		select {
		case cr.ch <- chunk{buf: buf, n: n, err: err}:
		case <-cr.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Read copies the pumped bytes into p.
func (cr *contextReader) Read(p []byte) (int, error) {
	for cr.off >= cr.cur.n {
		if cr.err != nil {
			return 0, cr.err
		}
		if cr.cur.buf != nil {
			cr.free <- cr.cur.buf
			cr.cur = chunk{}
		}
		select {
		case c := <-cr.ch:
			cr.cur, cr.off, cr.err = c, 0, c.err
		case <-cr.ctx.Done():
			cr.err = context.Cause(cr.ctx)
			return 0, cr.err
		}
	}
	if err := cr.ctx.Err(); err != nil {
		cr.err = context.Cause(cr.ctx)
		return 0, cr.err
	}
	n := copy(p, cr.cur.buf[cr.off:cr.cur.n])
	cr.off += n
	return n, nil
}
