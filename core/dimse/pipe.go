package dimse

import (
	"io"
	"sync"
)

// pipeDepth is how many PDVs of one data set may wait, copied, for their
// consumer: the receive loop reads ahead of a handler by at most this many
// fragments (bounded memory: pipeDepth times the maximum PDU length), so
// reading the socket and consuming the data overlap instead of alternating.
const pipeDepth = 8

// pipeChunk is the size of the pooled fragment buffers.
const pipeChunk = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, pipeChunk); return &b }}

// dataPipe carries a data set from the receive loop (Write, CloseWrite) to
// its consumer (Read, Close). Write copies the fragment and blocks while
// pipeDepth fragments wait; after the consumer closed the pipe, Write fails.
type dataPipe struct {
	ch     chan *[]byte
	done   chan struct{} // closed when the consumer stops reading
	once   sync.Once
	rerr   error // why the consumer stopped; set before done is closed
	werr   error // why the producer stopped (nil: EOF); set before ch is closed
	cur    []byte
	curBuf *[]byte
}

func newDataPipe() *dataPipe {
	return &dataPipe{ch: make(chan *[]byte, pipeDepth), done: make(chan struct{})}
}

// Write queues a copy of b. It returns io.ErrClosedPipe once the consumer
// has closed the pipe.
func (p *dataPipe) Write(b []byte) (int, error) {
	select {
	case <-p.done:
		return 0, io.ErrClosedPipe
	default:
	}
	var buf *[]byte
	if len(b) <= pipeChunk {
		buf = chunkPool.Get().(*[]byte)
		*buf = append((*buf)[:0], b...)
	} else {
		c := append([]byte(nil), b...)
		buf = &c
	}
	select {
	case p.ch <- buf:
		return len(b), nil
	case <-p.done:
		return 0, io.ErrClosedPipe
	}
}

// CloseWrite ends the data set: the consumer reads io.EOF (err nil) or err
// after the queued fragments. Called once, by the producer.
func (p *dataPipe) CloseWrite(err error) {
	p.werr = err
	close(p.ch)
}

// Read reads the data set; it returns io.EOF at its end and the consumer's
// close reason after Close.
func (p *dataPipe) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.curBuf != nil {
			if cap(*p.curBuf) == pipeChunk {
				chunkPool.Put(p.curBuf)
			}
			p.curBuf = nil
		}
		select {
		case <-p.done:
			return 0, p.rerr
		default:
		}
		select {
		case buf, ok := <-p.ch:
			if !ok {
				if p.werr != nil {
					return 0, p.werr
				}
				return 0, io.EOF
			}
			p.curBuf, p.cur = buf, *buf
		case <-p.done:
			return 0, p.rerr
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the consumer side with err (io.ErrClosedPipe when nil); the
// producer's next Write fails and the rest of the data set is discarded.
// Safe to call more than once and concurrently with Read.
func (p *dataPipe) Close(err error) {
	p.once.Do(func() {
		if err == nil {
			err = io.ErrClosedPipe
		}
		p.rerr = err
		close(p.done)
	})
}
