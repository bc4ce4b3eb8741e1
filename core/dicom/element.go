package dicom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Element is one data element (PS3.5 §7.1). Exactly one of Value, Items,
// Fragments and Bulk describes its value:
//
//   - Value holds the encoded bytes of every VR but SQ: binary VRs in little
//     endian (big-endian input is swapped on read), text in the data set's
//     Specific Character Set, padding included as found.
//   - Items holds the items of a sequence (VR SQ, or UN holding a sequence of
//     undefined length).
//   - Fragments holds encapsulated Pixel Data (PS3.5 §A.4).
//   - Bulk refers to a value left in its source by a reader that was asked to
//     defer large values (see codec.WithBulkThreshold).
type Element struct {
	Tag       Tag
	VR        VR
	Value     []byte
	Items     []*Dataset
	Fragments *Fragments
	Bulk      *BulkRef
	// UndefinedLength records that a sequence or encapsulated value was read
	// with undefined length; writers keep that encoding unless told otherwise.
	UndefinedLength bool
}

// Fragments is the content of encapsulated Pixel Data: the Basic Offset Table
// (the value of the first item, possibly empty) and the fragments that follow,
// each the value of one item, untouched (PS3.5 §A.4).
type Fragments struct {
	OffsetTable []byte
	Items       [][]byte
}

// BasicOffsets decodes the Basic Offset Table: the byte offset of each frame's
// first fragment, relative to the first byte of the first fragment's item tag.
func (f *Fragments) BasicOffsets() []uint32 {
	n := len(f.OffsetTable) / 4
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(f.OffsetTable[4*i:])
	}
	return out
}

// BulkRef locates a value that a reader left in its source: Length bytes at
// Offset from the start of the stream that was read (the first byte of a Part 10
// preamble, or of the data set when there is none). BigEndian reports that the
// bytes are in big-endian order and must be swapped by VR when loaded.
type BulkRef struct {
	Offset    int64
	Length    int64
	BigEndian bool
	// Fragmented reports that the value is encapsulated pixel data: the range
	// then covers its items up to and including the sequence delimiter.
	Fragmented bool
}

// ErrNoValue is returned by typed accessors when the element has no value of
// the requested kind.
var ErrNoValue = errors.New("dicom: element has no such value")

// Len returns the value length in bytes: the encoded value for plain
// elements, the referenced length for bulk references, and 0 for sequences and
// encapsulated values (whose length is only known once encoded).
func (e *Element) Len() int64 {
	if e.Bulk != nil {
		return e.Bulk.Length
	}
	return int64(len(e.Value))
}

// IsSequence reports whether e holds items.
func (e *Element) IsSequence() bool { return e.VR == SQ || e.Items != nil }

// VM returns the value multiplicity: the number of values (PS3.5 §6.4). Text
// of a multi-valued VR counts backslash-separated values (an empty value has VM
// 0); binary VRs count fixed-size values; OB, OW, UN and other single-value VRs
// count 1; sequences count their items.
func (e *Element) VM() int {
	switch {
	case e.IsSequence():
		return len(e.Items)
	case e.Fragments != nil:
		return 1
	case e.Bulk != nil:
		return 1
	}
	v := e.Value
	switch e.VR {
	case OB, OD, OF, OL, OV, OW, UN, LT, ST, UT, UR:
		if len(v) == 0 {
			return 0
		}
		return 1
	}
	if e.VR == AT {
		return len(v) / 4 // a tag is two 16-bit words
	}
	if w := e.VR.ByteWidth(); w > 0 {
		return len(v) / w
	}
	if len(trimPadding(v, e.VR)) == 0 {
		return 0
	}
	return bytes.Count(v, []byte{'\\'}) + 1
}

// trimPadding removes trailing padding (NUL and, for text, spaces) and, for VRs
// where they are insignificant, leading spaces.
func trimPadding(v []byte, vr VR) []byte {
	for len(v) > 0 && (v[len(v)-1] == 0 || (v[len(v)-1] == ' ' && vr != UI)) {
		v = v[:len(v)-1]
	}
	switch vr {
	case AE, CS, DS, IS, SH, LO, AS, DA, TM, DT, UI:
		for len(v) > 0 && v[0] == ' ' {
			v = v[1:]
		}
	}
	return v
}

// TrimValue trims a single text value of vr as PS3.5 §6.2 allows: trailing
// spaces (and NUL), plus leading spaces where they are insignificant.
func TrimValue(s string, vr VR) string {
	return string(trimPadding([]byte(s), vr))
}

// Strings returns the values of a text element, split at backslash for
// multi-valued VRs, with insignificant padding removed. Text of VRs affected by
// the character set is decoded with tc (nil: bytes taken as UTF-8/ASCII).
// Binary VRs are formatted as dcmdump does (numbers in decimal, AT as tags).
// A value left in its source (Bulk) is not in memory: Strings returns nil.
func (e *Element) Strings(tc TextCodec) []string {
	if e.Bulk != nil || (e.Value == nil && e.VR != NoVR && e.VR.IsText()) {
		return nil
	}
	if !e.VR.IsText() {
		return e.binaryStrings()
	}
	var s string
	if tc != nil && e.VR.UsesCharset() {
		s, _ = tc.Decode(e.VR, e.Value)
	} else {
		s = string(e.Value)
	}
	if !e.VR.IsMultiValued() {
		t := TrimValue(s, e.VR)
		if t == "" && len(s) == 0 {
			return nil
		}
		return []string{t}
	}
	if len(trimPadding([]byte(s), e.VR)) == 0 {
		return nil
	}
	parts := strings.Split(s, `\`)
	for i, p := range parts {
		parts[i] = TrimValue(p, e.VR)
	}
	return parts
}

func (e *Element) binaryStrings() []string {
	switch e.VR {
	case AT:
		tags, _ := e.Tags()
		out := make([]string, len(tags))
		for i, t := range tags {
			out[i] = t.String()
		}
		return out
	case FL, FD, OF, OD:
		fs, _ := e.Floats()
		out := make([]string, len(fs))
		bits := 64
		if e.VR.ByteWidth() == 4 {
			bits = 32
		}
		for i, f := range fs {
			out[i] = strconv.FormatFloat(f, 'g', -1, bits)
		}
		return out
	case US, SS, UL, SL, SV, UV, OL, OV:
		n := e.VM()
		out := make([]string, n)
		for i := 0; i < n; i++ {
			if e.VR == UV || e.VR == OV {
				out[i] = strconv.FormatUint(e.uintAt(i), 10)
			} else {
				v, _ := e.intAt(i)
				out[i] = strconv.FormatInt(v, 10)
			}
		}
		return out
	}
	return nil
}

// intAt decodes the i-th value of a binary integer VR.
func (e *Element) intAt(i int) (int64, bool) {
	v := e.Value
	switch e.VR {
	case US:
		return int64(binary.LittleEndian.Uint16(v[2*i:])), true
	case SS:
		return int64(int16(binary.LittleEndian.Uint16(v[2*i:]))), true
	case UL, OL:
		return int64(binary.LittleEndian.Uint32(v[4*i:])), true
	case SL:
		return int64(int32(binary.LittleEndian.Uint32(v[4*i:]))), true
	case SV:
		return int64(binary.LittleEndian.Uint64(v[8*i:])), true
	case UV, OV:
		u := binary.LittleEndian.Uint64(v[8*i:])
		return int64(u), u <= math.MaxInt64
	case OW:
		return int64(binary.LittleEndian.Uint16(v[2*i:])), true
	case OB, UN:
		return int64(v[i]), true
	}
	return 0, false
}

func (e *Element) uintAt(i int) uint64 { return binary.LittleEndian.Uint64(e.Value[8*i:]) }

// Ints decodes the values of an integer element: US SS UL SL SV UV (and the
// unsigned words of OW, OL, OV, bytes of OB) and IS text. An IS value that is
// not an integer is an error; the values before it are returned.
func (e *Element) Ints() ([]int64, error) {
	if e.VR == IS {
		return e.parseIS()
	}
	w := e.VR.ByteWidth()
	if w == 0 || e.VR == FL || e.VR == FD || e.VR == OF || e.VR == OD || e.VR == AT {
		return nil, fmt.Errorf("dicom: %s %s: %w", e.Tag, e.VR, ErrNoValue)
	}
	n := len(e.Value) / w
	out := make([]int64, n)
	for i := range out {
		v, ok := e.intAt(i)
		if !ok {
			return out[:i], fmt.Errorf("dicom: %s value %d overflows int64", e.Tag, i)
		}
		out[i] = v
	}
	return out, nil
}

func (e *Element) parseIS() ([]int64, error) {
	ss := e.Strings(nil)
	out := make([]int64, 0, len(ss))
	for _, s := range ss {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			// Some writers put "12.0" in IS; accept whole-number decimals.
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) {
				return out, fmt.Errorf("dicom: %s: invalid IS value %q", e.Tag, s)
			}
			v = int64(f)
		}
		out = append(out, v)
	}
	return out, nil
}

// Floats decodes the values of a numeric element: FL FD OF OD, DS text, and the
// integer VRs (converted).
func (e *Element) Floats() ([]float64, error) {
	switch e.VR {
	case FL, OF:
		n := len(e.Value) / 4
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(e.Value[4*i:])))
		}
		return out, nil
	case FD, OD:
		n := len(e.Value) / 8
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(e.Value[8*i:]))
		}
		return out, nil
	case DS:
		ss := e.Strings(nil)
		out := make([]float64, 0, len(ss))
		for _, s := range ss {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return out, fmt.Errorf("dicom: %s: invalid DS value %q", e.Tag, s)
			}
			out = append(out, f)
		}
		return out, nil
	}
	ints, err := e.Ints()
	out := make([]float64, len(ints))
	for i, v := range ints {
		out[i] = float64(v)
	}
	return out, err
}

// Tags decodes the values of an AT element.
func (e *Element) Tags() ([]Tag, error) {
	if e.VR != AT {
		return nil, fmt.Errorf("dicom: %s %s: %w", e.Tag, e.VR, ErrNoValue)
	}
	n := len(e.Value) / 4
	out := make([]Tag, n)
	for i := range out {
		out[i] = NewTag(binary.LittleEndian.Uint16(e.Value[4*i:]), binary.LittleEndian.Uint16(e.Value[4*i+2:]))
	}
	return out, nil
}

// Clone returns a deep copy of e: its value bytes, items and fragments are
// copied, so the copy shares no memory with e.
func (e *Element) Clone() Element {
	c := *e
	if e.Value != nil {
		c.Value = bytes.Clone(e.Value)
	}
	if e.Items != nil {
		c.Items = make([]*Dataset, len(e.Items))
		for i, it := range e.Items {
			c.Items[i] = it.Clone()
		}
	}
	if e.Fragments != nil {
		f := &Fragments{OffsetTable: bytes.Clone(e.Fragments.OffsetTable), Items: make([][]byte, len(e.Fragments.Items))}
		for i, b := range e.Fragments.Items {
			f.Items[i] = bytes.Clone(b)
		}
		c.Fragments = f
	}
	if e.Bulk != nil {
		b := *e.Bulk
		c.Bulk = &b
	}
	return c
}
