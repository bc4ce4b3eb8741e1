package codec

import (
	"encoding/binary"
	"io"
	"math/bits"

	"github.com/pacsforge/pacs/core/dicom"
)

// mode is the encoding in force: it changes inside a UN value of undefined
// length, which is read as Implicit VR Little Endian (PS3.5 §6.2.2 note).
type mode struct {
	explicit, be bool
}

// header is a decoded element, item or delimiter header.
type header struct {
	tag    dicom.Tag
	vr     dicom.VR
	length uint32
	off    int64 // offset of the header's first byte
}

func (m mode) u16(b []byte) uint16 {
	if m.be {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (m mode) u32(b []byte) uint32 {
	if m.be {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (m mode) tag(b []byte) dicom.Tag {
	return dicom.Tag(uint32(m.u16(b))<<16 | uint32(m.u16(b[2:])))
}

// readHeader decodes the next header. It returns io.EOF if the input ends
// before its first byte. At the top level with WithStopAt, a tag at or past the
// stop tag (other than a stray delimiter, skipped as without a stop) is not
// consumed and errStop is returned.
func (r *Reader) readHeader(m mode, top bool) (header, error) {
	s := &r.src
	h := header{off: s.offset()}
	if err := s.fill(8); err != nil {
		if err == io.EOF {
			return h, io.EOF
		}
		return h, r.ioFail(h.off, 0, "reading element header", err)
	}
	b := s.buf[s.pos:]
	h.tag = m.tag(b)
	if top && r.opt.stop && h.tag >= r.opt.stopAt && !isDelimiter(h.tag) {
		return h, errStop // a stray delimiter is skipped, as without a stop
	}
	delim := isDelimiter(h.tag)
	if !m.explicit || delim {
		h.length = m.u32(b[4:])
		s.pos += 8
		if !delim {
			h.vr = r.implicitVR(h.tag)
		}
		return h, nil
	}
	vr, ok := dicom.LookupVR(b[4], b[5])
	if !ok {
		// dcmtk reads an unknown VR code as UN with a 32-bit length.
		r.problem(h.off, h.tag, "unknown VR "+printable(b[4], b[5])+", read as UN")
		vr = dicom.UN
	}
	h.vr = vr
	if !vr.HasLongLength() {
		h.length = uint32(m.u16(b[6:]))
		s.pos += 8
		return h, nil
	}
	if err := s.fill(12); err != nil {
		return h, r.ioFail(h.off, h.tag, "reading element header", err)
	}
	h.length = m.u32(s.buf[s.pos+8:])
	s.pos += 12
	return h, nil
}

// isDelimiter reports whether t is an item or delimitation item tag, whose
// header has no VR in any syntax. Other tags of group FFFE are read as
// elements, as dcmtk does.
func isDelimiter(t dicom.Tag) bool {
	return t>>16 == 0xfffe && (t == dicom.ItemTag || t == dicom.ItemDelimitationItemTag || t == dicom.SequenceDelimitationItemTag)
}

func printable(a, b byte) string {
	const hex = "0123456789abcdef"
	return string([]byte{'0', 'x', hex[a>>4], hex[a&15], hex[b>>4], hex[b&15]})
}

// implicitVR returns the VR an Implicit VR reader assigns to t, as dcmtk
// does for elements whose dictionary entry allows several VRs:
//
//   - "OB or OW": OW for Pixel Data and Overlay Data (60xx,3000), as PS3.5
//     requires in Implicit VR; OB for the others (Waveform Data, Channel
//     Minimum and Maximum Value, Curve Data, ...), which dcmtk leaves
//     undecided and writes as OB.
//   - "US or OW" and "US or SS or OW" (LUT Data, Gray Lookup Table Data): OW.
//   - "US or SS": SS for the elements whose sign follows Pixel Representation
//     (see followsPixelRepresentation) when the same data set or item holds
//     Pixel Representation 1; US otherwise.
func (r *Reader) implicitVR(t dicom.Tag) dicom.VR {
	switch {
	case t == tagPixelData:
		return dicom.OW
	case t.Element() == 0:
		return dicom.UL
	case t.IsPrivateCreator():
		return dicom.LO
	case t.IsPrivate():
		return dicom.UN
	}
	d, ok := dicom.LookupTag(t)
	if !ok || d.VR == dicom.NoVR {
		return dicom.UN
	}
	if len(d.VRs) > 1 {
		hasOB, hasUS, hasSS, hasOW := false, false, false, false
		for _, v := range d.VRs {
			switch v {
			case dicom.OB:
				hasOB = true
			case dicom.US:
				hasUS = true
			case dicom.SS:
				hasSS = true
			case dicom.OW:
				hasOW = true
			}
		}
		switch {
		case hasOB && hasOW:
			if t.Group()&0xff00 == 0x6000 && t.Element() == 0x3000 {
				return dicom.OW // Overlay Data
			}
			return dicom.OB
		case hasOW:
			return dicom.OW
		case hasUS && hasSS:
			if r.signed && followsPixelRepresentation(t) {
				return dicom.SS
			}
			return dicom.US
		}
	}
	return d.VR
}

// followsPixelRepresentation reports whether t is a "US or SS" element that
// dcmtk reads as SS in Implicit VR when Pixel Representation (0028,0103) of
// its own data set or item is 1. The other "US or SS" elements (palette
// descriptors, retired ones, ...) are read as US whatever the sign.
func followsPixelRepresentation(t dicom.Tag) bool {
	switch t {
	case 0x00280106, // Smallest Image Pixel Value
		0x00280107, // Largest Image Pixel Value
		0x00280108, // Smallest Pixel Value in Series
		0x00280109, // Largest Pixel Value in Series
		0x00280120, // Pixel Padding Value
		0x00280121, // Pixel Padding Range Limit
		0x00283002, // LUT Descriptor
		0x00409211, // Real World Value Last Value Mapped
		0x00409216, // Real World Value First Value Mapped
		0x00603004, // Histogram First Bin Value
		0x00603006: // Histogram Last Bin Value
		return true
	}
	return false
}

// element reads the next element of a data set at nesting depth; codec is
// the Specific Character Set its items inherit. At the top level a stray
// delimiter is skipped (errSkip) and a WithStopAt stop returns io.EOF.
func (r *Reader) element(codec dicom.TextCodec, depth int, top bool) (dicom.Element, error) {
	m := mode{explicit: r.syntax.ExplicitVR, be: r.syntax.BigEndian}
	h, err := r.readHeader(m, top)
	if err != nil {
		if err == errStop {
			r.stopped = true
			r.rewindForStop()
			return dicom.Element{}, io.EOF
		}
		return dicom.Element{}, err
	}
	if isDelimiter(h.tag) {
		if h.tag == dicom.ItemTag {
			return dicom.Element{}, r.fail(h.off, h.tag, "item outside a sequence", ErrMalformed)
		}
		r.problem(h.off, h.tag, "stray delimiter skipped")
		if h.length != 0 && h.length != dicom.UndefinedLength {
			if err := r.src.skip(int64(h.length)); err != nil {
				return dicom.Element{}, r.ioFail(h.off, h.tag, "skipping delimiter", err)
			}
		}
		return dicom.Element{}, errSkip
	}
	return r.body(m, h, codec, depth)
}

// rewindForStop leaves a seekable input positioned at the stopping element.
func (r *Reader) rewindForStop() {
	s := &r.src
	if s.seeker == nil || s.rerr != nil {
		return
	}
	rest := int64(len(s.buf) - s.pos)
	if _, err := s.seeker.Seek(-rest, io.SeekCurrent); err != nil {
		s.rerr = err
		return
	}
	s.base += int64(s.pos)
	s.buf, s.pos = s.buf[:0], 0
}

// body reads the value of the element whose header is h.
func (r *Reader) body(m mode, h header, codec dicom.TextCodec, depth int) (dicom.Element, error) {
	r.elements++
	if r.opt.limits.MaxElements > 0 && r.elements > r.opt.limits.MaxElements {
		return dicom.Element{}, r.fail(h.off, h.tag, "too many elements", ErrTooManyElements)
	}
	e := dicom.Element{Tag: h.tag, VR: h.vr}
	if h.length == dicom.UndefinedLength {
		e.UndefinedLength = true
		switch {
		case h.vr == dicom.SQ:
		case h.vr == dicom.UN && m.explicit:
			// PS3.5 §6.2.2: a UN of undefined length holds a sequence in
			// Implicit VR Little Endian; dcmtk reads it as SQ.
			r.problem(h.off, h.tag, "UN of undefined length read as an implicit VR sequence")
			e.VR = dicom.SQ
			m = mode{}
		case h.tag == tagPixelData || h.vr == dicom.OB || h.vr == dicom.OW:
			e.VR = dicom.OB
			if err := r.fragments(m, &e); err != nil {
				return e, err
			}
			return e, nil
		default:
			if m.explicit {
				r.problem(h.off, h.tag, "undefined length on VR "+h.vr.String()+", read as a sequence")
			}
			e.VR = dicom.SQ
		}
		items, err := r.sequence(m, h, -1, codec, depth+1)
		e.Items = items
		return e, err
	}
	if h.vr == dicom.SQ {
		items, err := r.sequence(m, h, int64(h.length), codec, depth+1)
		e.Items = items
		return e, err
	}
	n := int64(h.length)
	if max := r.opt.limits.MaxValueLength; max > 0 && n > max {
		return e, r.fail(h.off, h.tag, "value length exceeds the limit", ErrValueTooLong)
	}
	if h.length&1 != 0 {
		r.problem(h.off, h.tag, "odd value length")
	}
	if r.opt.bulkThreshold >= 0 && n > r.opt.bulkThreshold {
		start := r.src.offset()
		if err := r.src.skip(n); err != nil {
			return e, r.ioFail(h.off, h.tag, "skipping bulk value", err)
		}
		e.Bulk = &dicom.BulkRef{Offset: r.opt.bulkBase + start, Length: n, BigEndian: m.be}
		return e, nil
	}
	v, err := r.src.value(n)
	if err != nil {
		return e, r.ioFail(h.off, h.tag, "reading value", err)
	}
	if m.be && len(v) > 0 {
		if w := h.vr.ByteWidth(); w > 1 {
			if r.src.r == nil && !r.src.copy {
				v = append([]byte(nil), v...)
			}
			swap(v, w)
		}
	}
	e.Value = v
	if h.tag == tagPixelRepresentation && len(v) >= 2 {
		r.signed = binary.LittleEndian.Uint16(v) == 1
	}
	return e, nil
}

// swap reverses the byte order of each w-byte unit of v.
func swap(v []byte, w int) {
	switch w {
	case 2:
		for i := 0; i+1 < len(v); i += 2 {
			binary.LittleEndian.PutUint16(v[i:], bits.ReverseBytes16(binary.LittleEndian.Uint16(v[i:])))
		}
	case 4:
		for i := 0; i+3 < len(v); i += 4 {
			binary.LittleEndian.PutUint32(v[i:], bits.ReverseBytes32(binary.LittleEndian.Uint32(v[i:])))
		}
	case 8:
		for i := 0; i+7 < len(v); i += 8 {
			binary.LittleEndian.PutUint64(v[i:], bits.ReverseBytes64(binary.LittleEndian.Uint64(v[i:])))
		}
	}
}

// sequence reads the items of a sequence of length n (-1: undefined) whose
// header is h, at nesting depth.
func (r *Reader) sequence(m mode, h header, n int64, codec dicom.TextCodec, depth int) ([]*dicom.Dataset, error) {
	if depth > r.opt.limits.MaxDepth {
		return nil, r.fail(h.off, h.tag, "sequence nesting too deep", ErrTooDeep)
	}
	items := []*dicom.Dataset{}
	end := r.src.offset() + n
	if n >= 0 {
		if rem := r.src.remaining(); rem >= 0 && n > rem {
			// dcmtk reads what there is.
			r.problem(h.off, h.tag, "sequence length past the end of input")
			end = r.src.offset() + rem
		}
	}
	for n < 0 || r.src.offset() < end {
		ih, err := r.readHeader(mode{be: m.be}, false)
		if err != nil {
			if err == io.EOF && n >= 0 {
				r.problem(h.off, h.tag, "input ends inside the sequence")
				return items, nil
			}
			if err == io.EOF {
				return items, r.fail(r.src.offset(), h.tag, "sequence not terminated", ErrTruncated)
			}
			return items, err
		}
		switch ih.tag {
		case dicom.ItemTag:
			it, err := r.item(m, ih, codec, depth)
			items = append(items, it)
			if err != nil {
				return items, err
			}
		case dicom.SequenceDelimitationItemTag:
			if n >= 0 {
				r.problem(ih.off, h.tag, "sequence delimiter in a sequence of defined length")
			}
			return items, nil
		default:
			return items, r.fail(ih.off, h.tag, "expected an item, found "+ih.tag.String(), ErrMalformed)
		}
	}
	if r.src.offset() != end {
		r.problem(h.off, h.tag, "items overrun the sequence length")
	}
	return items, nil
}

// item reads one item whose header is ih. Pixel Representation applies
// within the data set that holds it: the item starts unsigned and the
// enclosing data set's sign is restored after it.
func (r *Reader) item(m mode, ih header, codec dicom.TextCodec, depth int) (*dicom.Dataset, error) {
	signed := r.signed
	r.signed = false
	ds, err := r.itemElements(m, ih, codec, depth)
	r.signed = signed
	return ds, err
}

// itemElements reads the elements of the item whose header is ih.
func (r *Reader) itemElements(m mode, ih header, codec dicom.TextCodec, depth int) (*dicom.Dataset, error) {
	ds := dicom.NewDataset(initialItemElements)
	ds.Codec = codec
	undefined := ih.length == dicom.UndefinedLength
	end := r.src.offset() + int64(ih.length)
	if !undefined {
		if rem := r.src.remaining(); rem >= 0 && int64(ih.length) > rem {
			r.problem(ih.off, ih.tag, "item length past the end of input")
			end = r.src.offset() + rem
		}
	}
	for undefined || r.src.offset() < end {
		h, err := r.readHeader(m, false)
		if err != nil {
			if err == io.EOF && !undefined {
				r.problem(ih.off, ih.tag, "input ends inside the item")
				return ds, nil
			}
			if err == io.EOF {
				return ds, r.fail(r.src.offset(), ih.tag, "item not terminated", ErrTruncated)
			}
			return ds, err
		}
		switch h.tag {
		case dicom.ItemDelimitationItemTag:
			if !undefined {
				r.problem(h.off, h.tag, "item delimiter in an item of defined length")
			}
			return ds, nil
		case dicom.ItemTag, dicom.SequenceDelimitationItemTag:
			return ds, r.fail(h.off, h.tag, "unexpected delimiter in an item", ErrMalformed)
		}
		e, err := r.body(m, h, ds.Codec, depth)
		if err != nil {
			r.add(ds, e)
			return ds, err
		}
		if e.Tag == tagSpecificCharacterSet {
			r.setCharset(&ds.Codec, &e, h.off)
		}
		r.add(ds, e)
	}
	if r.src.offset() != end {
		r.problem(ih.off, ih.tag, "elements overrun the item length")
	}
	return ds, nil
}

// fragments reads encapsulated pixel data (PS3.5 §A.4) into e.Fragments, or
// records it as e.Bulk when it exceeds the bulk threshold.
func (r *Reader) fragments(m mode, e *dicom.Element) error {
	start := r.src.offset()
	limit := r.opt.bulkThreshold
	var total int64
	skipping := false
	f := &dicom.Fragments{}
	first := true
	for {
		h, err := r.readHeader(mode{be: m.be}, false)
		if err != nil {
			if err == io.EOF {
				return r.fail(r.src.offset(), e.Tag, "encapsulated pixel data not terminated", ErrTruncated)
			}
			return err
		}
		switch h.tag {
		case dicom.SequenceDelimitationItemTag:
			if skipping {
				e.Bulk = &dicom.BulkRef{Offset: r.opt.bulkBase + start, Length: r.src.offset() - start, BigEndian: m.be, Fragmented: true}
				return nil
			}
			e.Fragments = f
			return nil
		case dicom.ItemTag:
		default:
			return r.fail(h.off, e.Tag, "expected a fragment item, found "+h.tag.String(), ErrMalformed)
		}
		if h.length == dicom.UndefinedLength {
			return r.fail(h.off, e.Tag, "fragment of undefined length", ErrMalformed)
		}
		n := int64(h.length)
		if max := r.opt.limits.MaxValueLength; max > 0 && n > max {
			return r.fail(h.off, e.Tag, "fragment length exceeds the limit", ErrValueTooLong)
		}
		total += n + 8
		if !skipping && limit >= 0 && total > limit {
			skipping = true
			f = nil
		}
		if skipping {
			if err := r.src.skip(n); err != nil {
				return r.ioFail(h.off, e.Tag, "skipping fragment", err)
			}
			continue
		}
		v, err := r.src.value(n)
		if err != nil {
			return r.ioFail(h.off, e.Tag, "reading fragment", err)
		}
		if first {
			f.OffsetTable = v
			first = false
		} else {
			f.Items = append(f.Items, v)
		}
	}
}
