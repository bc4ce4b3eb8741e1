package codec

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
)

// Writer buffering.
const (
	// writeBufSize is the Writer's buffer; it is flushed when full.
	writeBufSize = 64 << 10
	// initialWriteBuf is the buffer a Writer starts with; it grows up to
	// writeBufSize as needed, so a Writer of a few elements (File Meta
	// Information, a command) allocates little.
	initialWriteBuf = 4 << 10
	// directWrite is the value size from which a Writer writes a value
	// straight to its destination instead of copying it into its buffer.
	directWrite = 16 << 10
	// maxLength32 is the largest value length encodable in 32 bits.
	maxLength32 = 0xfffffffe
)

type writerOptions struct {
	strict  bool
	seqLens int8 // 0: keep each element's UndefinedLength, 1: defined, -1: undefined
	bulk    func(*dicom.Element) (io.Reader, error)
}

// WriterOption configures a Writer.
type WriterOption func(*writerOptions)

// WithStrict makes the Writer reject elements that the syntax cannot carry
// as they are: odd value lengths and invalid VRs (ErrNotEncodable). The
// lenient default pads odd values with the VR's pad byte and writes an
// element with VR NoVR with its dictionary VR, or UN.
func WithStrict(strict bool) WriterOption {
	return func(o *writerOptions) { o.strict = strict }
}

// WithSequenceLengths writes every sequence and item with defined lengths
// (true) or undefined lengths and delimiters (false). Without it each
// sequence keeps its UndefinedLength flag, which its items follow too.
func WithSequenceLengths(defined bool) WriterOption {
	return func(o *writerOptions) {
		if defined {
			o.seqLens = 1
		} else {
			o.seqLens = -1
		}
	}
}

// WithBulkLoader sets the function that opens the value of an element read
// as a BulkRef: it must return a reader of exactly Bulk.Length bytes as found
// in the source (for Fragmented values: the items through the sequence
// delimiter). If the returned reader is an io.Closer it is closed.
func WithBulkLoader(load func(*dicom.Element) (io.Reader, error)) WriterOption {
	return func(o *writerOptions) { o.bulk = load }
}

// encoder appends encoded elements to buf, flushing to w when buf is full
// (w nil: everything accumulates in buf).
type encoder struct {
	buf    []byte
	w      io.Writer
	err    error
	syntax Syntax
	opt    writerOptions
	off    int64 // bytes flushed to w
}

// Writer encodes elements to a stream in one transfer syntax. It buffers its
// output; Close flushes it. It is not safe for concurrent use.
type Writer struct {
	enc encoder
	fw  *flate.Writer
}

// NewWriter returns a Writer of data sets encoded in s to w. For a deflated
// syntax the output is compressed with raw deflate (RFC 1951).
func NewWriter(w io.Writer, s Syntax, opts ...WriterOption) *Writer {
	wr := &Writer{}
	wr.enc.syntax = s
	for _, o := range opts {
		o(&wr.enc.opt)
	}
	if s.Deflated {
		wr.fw, _ = flate.NewWriter(w, flate.DefaultCompression) // level is valid: no error
		w = wr.fw
	}
	wr.enc.w = w
	wr.enc.buf = make([]byte, 0, initialWriteBuf)
	return wr
}

// WriteElement encodes e. Errors are sticky: after one, every call fails.
func (w *Writer) WriteElement(e *dicom.Element) error {
	if w.enc.err != nil {
		return w.enc.err
	}
	w.enc.element(w.enc.mode(), e, 0)
	return w.enc.err
}

// WriteDataset encodes every element of ds in tag order and flushes the
// Writer's buffer to its destination (a deflate stream is finished by Close).
func (w *Writer) WriteDataset(ds *dicom.Dataset) error {
	if w.enc.err != nil {
		return w.enc.err
	}
	m := w.enc.mode()
	for e := range ds.All() {
		w.enc.element(m, e, 0)
		if w.enc.err != nil {
			return w.enc.err
		}
	}
	w.enc.flush()
	return w.enc.err
}

// Close flushes buffered output and, for a deflated syntax, finishes the
// deflate stream. It does not close the underlying writer.
func (w *Writer) Close() error {
	w.enc.flush()
	if w.fw != nil && w.enc.err == nil {
		if err := w.fw.Close(); err != nil {
			w.enc.err = err
		}
		w.fw = nil
	}
	return w.enc.err
}

// AppendDataset appends the encoding of ds in s to dst (compressed for a
// deflated syntax) and returns the extended slice.
func AppendDataset(dst []byte, ds *dicom.Dataset, s Syntax) ([]byte, error) {
	if s.Deflated {
		var b bytes.Buffer
		b.Write(dst)
		w := NewWriter(&b, s)
		if err := w.WriteDataset(ds); err != nil {
			return dst, err
		}
		if err := w.Close(); err != nil {
			return dst, err
		}
		return b.Bytes(), nil
	}
	enc := encoder{buf: dst, syntax: s}
	m := enc.mode()
	for e := range ds.All() {
		enc.element(m, e, 0)
		if enc.err != nil {
			return dst, enc.err
		}
	}
	return enc.buf, nil
}

// EncodedLength returns the number of bytes e occupies when encoded in s with
// the default (lenient) Writer options, header included.
func EncodedLength(e *dicom.Element, s Syntax) (int64, error) {
	enc := encoder{syntax: s}
	return enc.length(enc.mode(), e, 0)
}

func (c *encoder) mode() mode { return mode{explicit: c.syntax.ExplicitVR, be: c.syntax.BigEndian} }

func (c *encoder) fail(e *dicom.Element, msg string, err error) {
	if c.err == nil {
		c.err = &SyntaxError{Offset: c.off + int64(len(c.buf)), Tag: e.Tag, Msg: msg, Err: err}
	}
}

func (c *encoder) flush() {
	if c.w == nil || c.err != nil || len(c.buf) == 0 {
		return
	}
	n, err := c.w.Write(c.buf)
	c.off += int64(n)
	if err != nil {
		c.err = err
	}
	c.buf = c.buf[:0]
}

// raw writes p, straight to w when it is large.
func (c *encoder) raw(p []byte) {
	if c.w != nil && len(p) >= directWrite {
		c.flush()
		if c.err != nil {
			return
		}
		n, err := c.w.Write(p)
		c.off += int64(n)
		if err != nil {
			c.err = err
		}
		return
	}
	c.buf = append(c.buf, p...)
	if c.w != nil && len(c.buf) >= writeBufSize {
		c.flush()
	}
}

func (c *encoder) u16(m mode, v uint16) {
	if m.be {
		c.buf = binary.BigEndian.AppendUint16(c.buf, v)
	} else {
		c.buf = binary.LittleEndian.AppendUint16(c.buf, v)
	}
}

func (c *encoder) u32(m mode, v uint32) {
	if m.be {
		c.buf = binary.BigEndian.AppendUint32(c.buf, v)
	} else {
		c.buf = binary.LittleEndian.AppendUint32(c.buf, v)
	}
}

func (c *encoder) tag(m mode, t dicom.Tag) {
	c.u16(m, t.Group())
	c.u16(m, t.Element())
}

// header writes an element header; vr is ignored in implicit VR.
func (c *encoder) header(m mode, t dicom.Tag, vr dicom.VR, length uint32) {
	c.tag(m, t)
	if !m.explicit {
		c.u32(m, length)
		return
	}
	name := vr.String()
	c.buf = append(c.buf, name[0], name[1])
	if vr.HasLongLength() {
		c.buf = append(c.buf, 0, 0)
		c.u32(m, length)
	} else {
		c.u16(m, uint16(length))
	}
}

// itemHeader writes an item or delimiter header (no VR in any syntax).
func (c *encoder) itemHeader(m mode, t dicom.Tag, length uint32) {
	c.tag(m, t)
	c.u32(m, length)
}

// kind classifies how an element is encoded.
type kind uint8

const (
	kindValue kind = iota
	kindSequence
	kindFragments
	kindBulk
)

// plan decides the VR, kind and value length (padding included) of e in m.
func (c *encoder) plan(m mode, e *dicom.Element) (vr dicom.VR, k kind, n int64, pad bool, err error) {
	vr = e.VR
	if !vr.Valid() {
		if vr != dicom.NoVR && c.opt.strict {
			return vr, 0, 0, false, ErrNotEncodable
		}
		vr = dicom.UN
		if d, ok := dicom.LookupTag(e.Tag); ok && d.VR != dicom.NoVR {
			vr = d.VR
		}
	}
	switch {
	case e.Items != nil || vr == dicom.SQ:
		if vr != dicom.UN {
			vr = dicom.SQ
		}
		return vr, kindSequence, 0, false, nil
	case e.Fragments != nil:
		if vr != dicom.OW {
			vr = dicom.OB
		}
		return vr, kindFragments, 0, false, nil
	case e.Bulk != nil:
		n = e.Bulk.Length
		k = kindBulk
		if e.Bulk.Fragmented {
			if vr != dicom.OW {
				vr = dicom.OB
			}
			return vr, k, n, false, nil
		}
	default:
		n = int64(len(e.Value))
	}
	if n&1 != 0 {
		if c.opt.strict {
			return vr, k, n, false, ErrNotEncodable
		}
		n++
		pad = true
	}
	if n > maxLength32 {
		return vr, k, n, pad, ErrNotEncodable
	}
	if m.explicit && !vr.HasLongLength() && n > 0xffff {
		if c.opt.strict {
			return vr, k, n, pad, ErrNotEncodable
		}
		vr = dicom.UN
	}
	return vr, k, n, pad, nil
}

func (c *encoder) undefined(e *dicom.Element) bool {
	switch c.opt.seqLens {
	case 1:
		return false
	case -1:
		return true
	}
	return e.UndefinedLength
}

// element writes e at nesting depth.
func (c *encoder) element(m mode, e *dicom.Element, depth int) {
	if depth > DefaultMaxDepth*4 {
		c.fail(e, "sequences nested too deep", ErrTooDeep)
		return
	}
	vr, k, n, pad, err := c.plan(m, e)
	if err != nil {
		c.fail(e, "cannot encode "+vr.String()+" value", err)
		return
	}
	switch k {
	case kindSequence:
		c.sequence(m, e, vr, depth)
	case kindFragments:
		c.header(m, e.Tag, vr, dicom.UndefinedLength)
		f := e.Fragments
		im := mode{be: m.be}
		c.fragment(im, f.OffsetTable)
		for _, b := range f.Items {
			c.fragment(im, b)
		}
		c.itemHeader(im, dicom.SequenceDelimitationItemTag, 0)
	case kindBulk:
		c.bulk(m, e, vr, n, pad)
	default:
		c.header(m, e.Tag, vr, uint32(n))
		if pad && m.be && vr.ByteWidth() > 1 {
			// Pad, then swap: the reader swaps the padded last unit back.
			c.value(m, vr, append(e.Value[:len(e.Value):len(e.Value)], vr.PadByte()), false)
			return
		}
		c.value(m, vr, e.Value, false)
		if pad {
			c.buf = append(c.buf, vr.PadByte())
		}
	}
}

// fragment writes one item of encapsulated pixel data, padded with a zero
// byte to an even length.
func (c *encoder) fragment(m mode, b []byte) {
	c.itemHeader(m, dicom.ItemTag, uint32(len(b)+len(b)&1))
	c.raw(b)
	if len(b)&1 != 0 {
		c.buf = append(c.buf, 0)
	}
}

// value writes v, swapped to big endian by VR width when m is big endian
// (swapFrom: v is already big endian).
func (c *encoder) value(m mode, vr dicom.VR, v []byte, swapFrom bool) {
	w := vr.ByteWidth()
	if m.be == swapFrom || w < 2 {
		c.raw(v)
		return
	}
	for len(v) > 0 {
		chunk := min(len(v), writeBufSize) &^ 7
		if chunk == 0 {
			chunk = len(v)
		}
		start := len(c.buf)
		c.buf = append(c.buf, v[:chunk]...)
		swap(c.buf[start:], w)
		v = v[chunk:]
		if c.w != nil && len(c.buf) >= writeBufSize {
			c.flush()
		}
	}
}

func (c *encoder) sequence(m mode, e *dicom.Element, vr dicom.VR, depth int) {
	undef := c.undefined(e)
	im := m
	if vr == dicom.UN {
		// A sequence kept as UN is encoded in Implicit VR Little Endian.
		undef, im = true, mode{}
	}
	if undef {
		c.header(m, e.Tag, vr, dicom.UndefinedLength)
	} else {
		n, err := c.itemsLength(im, e, depth)
		if err != nil {
			c.fail(e, "sequence length", err)
			return
		}
		if n > maxLength32 {
			c.fail(e, "sequence too long for a defined length", ErrNotEncodable)
			return
		}
		c.header(m, e.Tag, vr, uint32(n))
	}
	for _, it := range e.Items {
		if undef {
			c.itemHeader(im, dicom.ItemTag, dicom.UndefinedLength)
		} else {
			n, err := c.datasetLength(im, it, depth+1)
			if err != nil {
				c.fail(e, "item length", err)
				return
			}
			c.itemHeader(im, dicom.ItemTag, uint32(n))
		}
		for ie := range it.All() {
			c.element(im, ie, depth+1)
			if c.err != nil {
				return
			}
		}
		if undef {
			c.itemHeader(im, dicom.ItemDelimitationItemTag, 0)
		}
	}
	if undef {
		c.itemHeader(im, dicom.SequenceDelimitationItemTag, 0)
	}
}

func (c *encoder) bulk(m mode, e *dicom.Element, vr dicom.VR, n int64, pad bool) {
	if c.opt.bulk == nil {
		c.fail(e, "bulk value", ErrBulkNoLoader)
		return
	}
	r, err := c.opt.bulk(e)
	if err != nil {
		c.fail(e, "loading bulk value", err)
		return
	}
	if cl, ok := r.(io.Closer); ok {
		defer cl.Close()
	}
	if e.Bulk.Fragmented {
		c.header(m, e.Tag, vr, dicom.UndefinedLength)
	} else {
		c.header(m, e.Tag, vr, uint32(n))
	}
	left := e.Bulk.Length
	chunk := make([]byte, min(left, 1<<20)) // a multiple of 8 but for the last
	for left > 0 {
		k, err := io.ReadFull(r, chunk[:min(left, int64(len(chunk)))])
		if err != nil {
			c.fail(e, "loading bulk value", unexpected(err))
			return
		}
		left -= int64(k)
		v := chunk[:k]
		if e.Bulk.Fragmented {
			// The items as found, then a sequence delimiter of length 0 in
			// place of the source's last 8 bytes (whose length field some
			// writers fill).
			if left < 8 {
				v = v[:max(0, int64(k)-(8-left))]
			}
			c.raw(v)
			if left == 0 {
				c.itemHeader(mode{be: m.be}, dicom.SequenceDelimitationItemTag, 0)
			}
		} else if w := vr.ByteWidth(); left == 0 && pad && m.be && w > 1 {
			// As for a value in memory: the bytes past the last whole unit
			// (never swapped on read) are padded, then swapped.
			whole := k - k%w
			c.value(m, vr, v[:whole], e.Bulk.BigEndian)
			tail := append(v[whole:k:k], vr.PadByte())
			c.value(m, vr, tail, false)
			return
		} else {
			c.value(m, vr, v, e.Bulk.BigEndian)
		}
		if c.err != nil {
			return
		}
	}
	if pad {
		c.buf = append(c.buf, vr.PadByte())
	}
}

// length returns the encoded size of e in m, header included.
func (c *encoder) length(m mode, e *dicom.Element, depth int) (int64, error) {
	if depth > DefaultMaxDepth*4 {
		return 0, ErrTooDeep
	}
	vr, k, n, _, err := c.plan(m, e)
	if err != nil {
		return 0, err
	}
	hdr := int64(8)
	if m.explicit && vr.HasLongLength() {
		hdr = 12
	}
	switch k {
	case kindSequence:
		undef := c.undefined(e)
		im := m
		if vr == dicom.UN {
			undef, im = true, mode{}
		}
		body, err := c.itemsLength(im, e, depth)
		if err != nil {
			return 0, err
		}
		if undef {
			body += int64(len(e.Items))*8 + 8 // item and sequence delimiters
		}
		return hdr + body, nil
	case kindFragments:
		f := e.Fragments
		n := hdr + 8 + int64(len(f.OffsetTable)+len(f.OffsetTable)&1) + 8
		for _, b := range f.Items {
			n += 8 + int64(len(b)+len(b)&1)
		}
		return n, nil
	}
	return hdr + n, nil
}

// itemsLength returns the length of the items of sequence e (item headers
// included, delimiters excluded).
func (c *encoder) itemsLength(m mode, e *dicom.Element, depth int) (int64, error) {
	var n int64
	for _, it := range e.Items {
		k, err := c.datasetLength(m, it, depth+1)
		if err != nil {
			return 0, err
		}
		n += 8 + k
	}
	return n, nil
}

// datasetLength returns the encoded length of the elements of ds.
func (c *encoder) datasetLength(m mode, ds *dicom.Dataset, depth int) (int64, error) {
	var n int64
	for e := range ds.All() {
		k, err := c.length(m, e, depth)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}
