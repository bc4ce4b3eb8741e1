package codec

import (
	"errors"
	"io"
	"sync"
)

// bufPool recycles the read buffers of Readers that reached the end of their
// input; values never alias the read buffer, so it is free once drained.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

// release returns the read buffer to the pool; the source must not be read
// again.
func (s *source) release() {
	if s.r == nil || s.buf == nil || cap(s.buf) != bufSize {
		return
	}
	b := s.buf[:0]
	s.buf, s.pos = nil, 0
	bufPool.Put(&b)
}

// Buffering constants of the stream reader.
const (
	// bufSize is the read buffer of a Reader over an io.Reader.
	bufSize = 64 << 10
	// slabSize is the size of the chunks small values are carved from.
	slabSize = 16 << 10
	// smallValue is the largest value carved from a slab; larger values are
	// allocated exactly.
	smallValue = 1 << 10
	// growChunk is the first allocation for a large value whose length cannot
	// be checked against the input size; the buffer grows as data arrives.
	growChunk = 1 << 20
)

// source is the byte stream under a Reader: either a whole []byte (r == nil,
// values are sub-slices) or an io.Reader read through buf.
type source struct {
	buf    []byte // buffered bytes; the whole input in slice mode
	pos    int    // next unread byte in buf
	base   int64  // stream offset of buf[0]
	r      io.Reader
	seeker io.Seeker // r as a Seeker, when it can seek and size is known
	size   int64     // total stream length, -1 if unknown
	rerr   error     // sticky read error of r
	slab   []byte
	copy   bool // slice mode: copy values out
}

func (s *source) offset() int64 { return s.base + int64(s.pos) }

// remaining returns how many bytes the input can still provide, or -1 if
// unknown.
func (s *source) remaining() int64 {
	if s.size < 0 {
		return -1
	}
	return s.size - s.offset()
}

// fill makes at least n bytes available in buf[pos:]; it returns
// io.ErrUnexpectedEOF if the input ends first (io.EOF if no byte is left).
func (s *source) fill(n int) error {
	if len(s.buf)-s.pos >= n {
		return nil
	}
	if s.r == nil {
		if len(s.buf) == s.pos {
			return io.EOF
		}
		return io.ErrUnexpectedEOF
	}
	// Move the unread tail to the front, grow if needed, read more.
	rest := len(s.buf) - s.pos
	if n > cap(s.buf) {
		nb := make([]byte, rest, n+bufSize)
		copy(nb, s.buf[s.pos:])
		s.buf = nb
	} else {
		copy(s.buf[:cap(s.buf)], s.buf[s.pos:])
		s.buf = s.buf[:rest]
	}
	s.base += int64(s.pos)
	s.pos = 0
	for len(s.buf) < n {
		if s.rerr != nil {
			if len(s.buf) == 0 && s.rerr == io.EOF {
				return io.EOF
			}
			if s.rerr == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return s.rerr
		}
		m, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if err != nil {
			s.rerr = err
		}
	}
	return nil
}

// take returns the next n bytes (n small), valid until the next call.
func (s *source) take(n int) ([]byte, error) {
	if err := s.fill(n); err != nil {
		return nil, err
	}
	b := s.buf[s.pos : s.pos+n]
	s.pos += n
	return b, nil
}

// carve returns a slice of n bytes of a slab.
func (s *source) carve(n int) []byte {
	if len(s.slab) < n {
		s.slab = make([]byte, slabSize)
	}
	b := s.slab[:n:n]
	s.slab = s.slab[n:]
	return b
}

// value reads a value of n bytes. In slice mode it is a sub-slice of the
// input (capacity clipped) unless copying; otherwise small values are carved
// from a slab and large ones allocated, never beyond what the input provides.
func (s *source) value(n int64) ([]byte, error) {
	if n == 0 {
		return []byte{}, nil
	}
	if s.r == nil {
		if int64(len(s.buf)-s.pos) < n {
			return nil, io.ErrUnexpectedEOF
		}
		v := s.buf[s.pos : s.pos+int(n) : s.pos+int(n)]
		s.pos += int(n)
		if s.copy {
			var c []byte
			if n <= smallValue {
				c = s.carve(int(n))
			} else {
				c = make([]byte, n)
			}
			copy(c, v)
			v = c
		}
		return v, nil
	}
	if n <= smallValue {
		if err := s.fill(int(n)); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		c := s.carve(int(n))
		copy(c, s.buf[s.pos:])
		s.pos += int(n)
		return c, nil
	}
	if rem := s.remaining(); rem >= 0 && rem < n {
		return nil, io.ErrUnexpectedEOF
	}
	first := n
	if s.size < 0 && first > growChunk {
		first = growChunk
	}
	v := make([]byte, first)
	got := copy(v, s.buf[s.pos:])
	s.pos += got
	for {
		if got < len(v) {
			if s.rerr != nil {
				return nil, unexpected(s.rerr)
			}
			m, err := io.ReadFull(s.r, v[got:])
			got += m
			s.base += int64(m)
			if err != nil {
				s.rerr = err
				return nil, unexpected(err)
			}
		}
		if int64(got) == n {
			return v, nil
		}
		// Grow: the data kept coming, so double (bounded by n).
		next := min(n, 2*int64(len(v)))
		nv := make([]byte, next)
		copy(nv, v)
		v = nv
	}
}

// skip advances n bytes without keeping them, seeking when possible.
func (s *source) skip(n int64) error {
	if avail := int64(len(s.buf) - s.pos); n <= avail {
		s.pos += int(n)
		return nil
	}
	if s.r == nil {
		s.pos = len(s.buf)
		return io.ErrUnexpectedEOF
	}
	if rem := s.remaining(); rem >= 0 && rem < n {
		return io.ErrUnexpectedEOF
	}
	avail := int64(len(s.buf) - s.pos)
	n -= avail
	s.base += int64(len(s.buf))
	s.buf, s.pos = s.buf[:0], 0
	if s.seeker != nil && s.rerr == nil {
		if _, err := s.seeker.Seek(n, io.SeekCurrent); err != nil {
			s.rerr = err
			return err
		}
		s.base += n
		return nil
	}
	for n > 0 {
		if s.rerr != nil {
			return unexpected(s.rerr)
		}
		m, err := s.r.Read(s.buf[:min(int64(cap(s.buf)), n)])
		n -= int64(m)
		s.base += int64(m)
		if err != nil {
			s.rerr = err
		}
	}
	return nil
}

// unread returns the buffered bytes not yet consumed.
func (s *source) unread() []byte { return s.buf[s.pos:] }

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
