package dimse

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pacsforge/pacs/core/ul"
)

// pipeDepth is how many fragments of one data set the receive loop copies
// ahead of a consumer that is not reading (bounded memory: pipeDepth times
// the maximum PDU length), so a handler that is busy elsewhere does not stop
// the association at once.
const pipeDepth = 8

// pipeChunk is the size of the pooled fragment buffers.
const pipeChunk = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, pipeChunk); return &b }}

// copyChunk returns a copy of b, in a pooled buffer when it fits one.
func copyChunk(b []byte) *[]byte {
	if len(b) > pipeChunk {
		c := append([]byte(nil), b...)
		return &c
	}
	buf := chunkPool.Get().(*[]byte)
	*buf = append((*buf)[:0], b...)
	return buf
}

// putChunk returns a buffer of copyChunk to the pool if it came from there.
func putChunk(b *[]byte) {
	if cap(*b) == pipeChunk {
		chunkPool.Put(b)
	}
}

// Who reads the association while a data set streams.
const (
	ownLoop     = iota // the receive loop, copying fragments into the queue
	ownConsumer        // the consumer, reading PDVs in place (zero copy)
	ownNone            // the data set has ended or the consumer has stopped
)

// reclaimInterval is how often the receive loop checks that the consumer
// of a data set holding the association's reader still reads: after a
// whole interval without a Read, the loop takes the reader back.
const reclaimInterval = 2 * time.Millisecond

// dataPipe carries one received data set from the association to its
// consumer. The consumer starts holding the association's reader: its Read
// calls ReadPDV itself and reads each fragment in place, without copies or a
// goroutine switch per fragment, while the receive loop waits (await) until
// the reader is handed back: when the consumer closes the pipe (after the
// end of the data set, or before: the loop then discards the rest), or when
// ReadPDV returned something other than the next fragment (an error, a
// release request, a PDV of another message), which the loop then handles
// as if it had read it itself. Keeping the reader until Close lets an
// operation send its response before the loop's goroutine runs again, so
// that on a store the goroutine switch is off the critical path. A consumer that does not read for
// reclaimInterval loses the reader (reclaim): the loop then copies up to
// pipeDepth fragments into a queue (Offer), so the association goes on (an
// abort is seen) while a handler is busy elsewhere, and hands the reader
// back with the next fragment once the consumer waits on an empty queue.
type dataPipe struct {
	c     conn
	ctx   context.Context // the association's, for ReadPDV
	pcID  byte
	back  chan handback // capacity 1: the reader handed back, once
	ready chan struct{} // capacity 1: wakes a consumer waiting for data
	space chan struct{} // capacity 1: wakes the loop waiting for queue room
	// onFail, set before the first Read, is called with Read's error when
	// ReadPDV fails in place (an operation run on the receive loop cancels
	// its context with it).
	onFail func(error)

	mu      sync.Mutex
	owner   int
	active  uint64    // counts the consumer's reads, for reclaim
	want    bool      // the consumer waits for data on an empty queue
	reading bool      // the consumer is inside ReadPDV
	closed  bool      // Close was called
	queue   []*[]byte // copied fragments (ownLoop)
	eof     bool      // the loop queued the end of the data set, or failed
	werr    error     // with eof: the failure (nil: io.EOF)
	cur     []byte    // unread bytes of the current fragment
	curBuf  *[]byte   // the queue buffer holding cur, if any
	last    bool      // cur, read in place, ends the data set
	ended   bool      // the consumer read the data set to its end in place and holds the reader until Close
	rerr    error     // returned at once by Read once set: close reason, end or failure in place
}

// handback returns the association's reader to the receive loop.
type handback struct {
	done  bool   // the data set was read to its end
	event bool   // pdv or err was read and is for the loop to handle
	pdv   ul.PDV // valid until the next ReadPDV
	err   error
}

func newDataPipe(c conn, ctx context.Context, pcID byte) *dataPipe {
	return &dataPipe{c: c, ctx: ctx, pcID: pcID, back: make(chan handback, 1),
		ready: make(chan struct{}, 1), space: make(chan struct{}, 1), owner: ownConsumer}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Offer gives the pipe the next data set fragment v (receive loop). It
// returns handover when the consumer took v in place with the association's
// reader (the loop must then await), and ok false when the consumer has
// stopped reading or ctx is done (the loop discards the rest). It blocks
// while pipeDepth fragments wait.
func (p *dataPipe) Offer(ctx context.Context, v ul.PDV) (handover, ok bool) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return false, false
		}
		if p.want && len(p.queue) == 0 && len(v.Data) > 0 {
			p.owner, p.want, p.cur, p.last = ownConsumer, false, v.Data, v.Last
			signal(p.ready)
			p.mu.Unlock()
			return true, true
		}
		if len(p.queue) < pipeDepth {
			if len(v.Data) > 0 {
				p.queue = append(p.queue, copyChunk(v.Data))
			}
			if v.Last {
				p.eof, p.owner = true, ownNone
			}
			signal(p.ready)
			p.mu.Unlock()
			return false, true
		}
		p.mu.Unlock()
		select {
		case <-p.space:
		case <-ctx.Done():
			return false, false
		}
		p.mu.Lock()
	}
}

// fail ends a data set the receive loop will not finish (the association
// ended): Read returns err after the queued fragments.
func (p *dataPipe) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.eof {
		p.eof, p.werr = true, err
	}
	if p.owner == ownLoop {
		p.owner = ownNone
	}
	signal(p.ready)
}

// Read reads the data set; it returns io.EOF at its end, the consumer's
// close reason after Close, an error wrapping ErrClosed when the
// association failed, or one wrapping ErrProtocol when the peer sent
// something else before the data set ended.
func (p *dataPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fill(); err != nil {
		return 0, err
	}
	n := copy(b, p.cur)
	p.consumed(n)
	return n, nil
}

// WriteTo writes the rest of the data set to w, one Write per fragment
// straight from where it was received (io.Copy uses it). It returns nil at
// the end of the data set.
func (p *dataPipe) WriteTo(w io.Writer) (int64, error) {
	var total int64
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if err := p.fill(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		// w runs under the lock: a concurrent Close waits, so a fragment
		// read in place is not overwritten while w reads it.
		n, err := w.Write(p.cur)
		if n < 0 || n > len(p.cur) {
			n, err = 0, fmt.Errorf("write of %d bytes reported %d", len(p.cur), n)
		}
		total += int64(n)
		if err == nil && n < len(p.cur) {
			err = io.ErrShortWrite
		}
		p.consumed(n)
		if err != nil {
			return total, err
		}
	}
}

// fill makes cur non-empty, or returns what Read returns instead. The
// caller holds mu, which is released while waiting.
func (p *dataPipe) fill() error {
	p.active++
	for len(p.cur) == 0 {
		if p.curBuf != nil {
			putChunk(p.curBuf)
			p.curBuf = nil
		}
		switch {
		case p.rerr != nil:
			return p.rerr
		case p.owner == ownConsumer:
			p.next()
		case len(p.queue) > 0:
			p.curBuf = p.queue[0]
			p.cur = *p.curBuf
			p.queue[0] = nil
			p.queue = p.queue[1:]
			signal(p.space)
		case p.eof && p.werr != nil:
			return p.werr
		case p.eof:
			return io.EOF
		default:
			p.want = true
			p.mu.Unlock()
			<-p.ready
			p.mu.Lock()
		}
	}
	return nil
}

// next reads the next PDV of the data set in place into cur, or hands the
// reader back. The caller holds mu, which is released during ReadPDV.
func (p *dataPipe) next() {
	p.reading = true
	p.mu.Unlock()
	v, err := p.c.ReadPDV(p.ctx)
	p.mu.Lock()
	p.reading = false
	switch {
	case err != nil:
		rerr := fmt.Errorf("%w: %w", ErrClosed, err)
		p.handBack(handback{event: true, err: err}, rerr)
		if p.onFail != nil {
			p.onFail(rerr)
		}
	case p.rerr != nil: // closed during ReadPDV: the loop discards v
		p.handBack(handback{event: true, pdv: v}, nil)
	case v.Command:
		p.handBack(handback{event: true, pdv: v}, fmt.Errorf("%w: command fragment inside a data set", ErrProtocol))
	case v.ContextID != p.pcID:
		p.handBack(handback{event: true, pdv: v}, fmt.Errorf("%w: fragment on context %d inside a data set on context %d", ErrProtocol, v.ContextID, p.pcID))
	case v.Last && len(v.Data) == 0:
		p.end()
	default:
		p.cur, p.last = v.Data, v.Last
	}
}

// consumed drops n bytes of cur, noting the end of a data set read in
// place after its last byte. The caller holds mu.
func (p *dataPipe) consumed(n int) {
	p.cur = p.cur[n:]
	if len(p.cur) == 0 && p.last && p.owner == ownConsumer {
		p.end()
	}
}

// end notes that the consumer has read the data set to its end in place:
// Read returns io.EOF, and the reader goes back to the loop on Close (or
// reclaim). The caller holds mu.
func (p *dataPipe) end() {
	p.ended, p.last, p.cur = true, false, nil
	if p.rerr == nil {
		p.rerr = io.EOF
	}
}

// handBack returns the reader to the loop with h; later Reads return err
// (or the error already set). The caller holds mu and owns the reader.
func (p *dataPipe) handBack(h handback, err error) {
	if p.rerr == nil {
		p.rerr = err
	}
	p.cur, p.last, p.owner = nil, false, ownNone
	p.back <- h
}

// activity returns the count of the consumer's reads.
func (p *dataPipe) activity() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

// reclaim takes the reader back from a consumer that holds it but is not
// inside ReadPDV (receive loop): a fragment read in place and not consumed
// is copied first. It returns ok false when the consumer is reading or no
// longer holds the reader, and done when the data set has been read to its
// end (the consumer still has to consume the copy).
func (p *dataPipe) reclaim() (done, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.owner != ownConsumer || p.reading {
		return false, false
	}
	if p.ended {
		p.owner, p.ended = ownNone, false
		return true, true
	}
	if len(p.cur) > 0 && p.curBuf == nil {
		buf := copyChunk(p.cur)
		p.cur, p.curBuf = *buf, buf
	}
	if p.last {
		p.last, p.eof, p.owner = false, true, ownNone
		return true, true
	}
	p.owner = ownLoop
	return false, true
}

// Close stops the consumer side with err (io.ErrClosedPipe when nil): the
// receive loop discards the rest of the data set and Read returns err. Safe
// to call more than once and concurrently with Read.
func (p *dataPipe) Close(err error) {
	if err == nil {
		err = io.ErrClosedPipe
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	if p.rerr == nil {
		p.rerr = err
	}
	for i, b := range p.queue {
		putChunk(b)
		p.queue[i] = nil
	}
	p.queue = nil
	if p.curBuf != nil {
		putChunk(p.curBuf)
	}
	p.cur, p.curBuf = nil, nil
	signal(p.space)
	signal(p.ready)
	if p.owner == ownConsumer && !p.reading {
		p.handBack(handback{done: p.ended}, err)
		p.ended = false
	}
}
