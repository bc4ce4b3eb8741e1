package dicom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrNotFound is returned when a data set has no element with the tag asked for.
var ErrNotFound = errors.New("dicom: element not found")

// NewElement builds an element of the given VR from Go values, encoding them
// as PS3.5 requires (little endian, text joined with backslash and padded to
// even length). value may be:
//
//   - string or []string: text VRs (encoded with tc for SH LO ST LT PN UC UT),
//     or decimal text for numeric VRs;
//   - int, int64, []int, []int64, uint16, []uint16, uint32, []uint32: integer
//     VRs, IS and DS;
//   - float64, []float64, float32, []float32: FL FD OF OD DS;
//   - Tag or []Tag: AT;
//   - []byte: the encoded value, kept as it is (not copied);
//   - []*Dataset: SQ items.
func NewElement(t Tag, vr VR, value any, tc TextCodec) (Element, error) {
	e := Element{Tag: t, VR: vr}
	var err error
	switch v := value.(type) {
	case nil:
	case []byte:
		e.Value = v
	case []*Dataset:
		e.Items = v
		if e.Items == nil {
			e.Items = []*Dataset{}
		}
	case string:
		e.Value, err = encodeStrings(vr, []string{v}, tc)
	case []string:
		e.Value, err = encodeStrings(vr, v, tc)
	case int:
		e.Value, err = encodeInts(vr, []int64{int64(v)})
	case int64:
		e.Value, err = encodeInts(vr, []int64{v})
	case []int64:
		e.Value, err = encodeInts(vr, v)
	case []int:
		e.Value, err = encodeInts(vr, convertSlice(v, func(x int) int64 { return int64(x) }))
	case uint16:
		e.Value, err = encodeInts(vr, []int64{int64(v)})
	case []uint16:
		e.Value, err = encodeInts(vr, convertSlice(v, func(x uint16) int64 { return int64(x) }))
	case uint32:
		e.Value, err = encodeInts(vr, []int64{int64(v)})
	case []uint32:
		e.Value, err = encodeInts(vr, convertSlice(v, func(x uint32) int64 { return int64(x) }))
	case float64:
		e.Value, err = encodeFloats(vr, []float64{v})
	case []float64:
		e.Value, err = encodeFloats(vr, v)
	case float32:
		e.Value, err = encodeFloats(vr, []float64{float64(v)})
	case []float32:
		e.Value, err = encodeFloats(vr, convertSlice(v, func(x float32) float64 { return float64(x) }))
	case Tag:
		e.Value, err = encodeTags(vr, []Tag{v})
	case []Tag:
		e.Value, err = encodeTags(vr, v)
	default:
		return e, fmt.Errorf("dicom: %s: cannot encode %T as %s", t, value, vr)
	}
	if err != nil {
		return e, fmt.Errorf("dicom: %s: %w", t, err)
	}
	return e, nil
}

func convertSlice[S, D any](s []S, f func(S) D) []D {
	out := make([]D, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	return out
}

// PadValue returns b padded to even length with vr's padding byte.
func PadValue(b []byte, vr VR) []byte {
	if len(b)%2 == 1 {
		b = append(b, vr.PadByte())
	}
	return b
}

func encodeStrings(vr VR, values []string, tc TextCodec) ([]byte, error) {
	if !vr.IsText() {
		// Numbers given as text for a binary VR.
		switch vr {
		case FL, FD, OF, OD:
			fs := make([]float64, len(values))
			for i, s := range values {
				f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return nil, fmt.Errorf("invalid %s value %q", vr, s)
				}
				fs[i] = f
			}
			return encodeFloats(vr, fs)
		case AT:
			ts := make([]Tag, len(values))
			for i, s := range values {
				t, err := ParseTag(strings.TrimSpace(s))
				if err != nil {
					return nil, err
				}
				ts[i] = t
			}
			return encodeTags(vr, ts)
		}
		if vr.ByteWidth() > 0 && vr != OB && vr != UN && vr != OW {
			is := make([]int64, len(values))
			for i, s := range values {
				n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
				if err != nil {
					return nil, fmt.Errorf("invalid %s value %q", vr, s)
				}
				is[i] = n
			}
			return encodeInts(vr, is)
		}
		return nil, fmt.Errorf("cannot encode text as %s", vr)
	}
	if !vr.IsMultiValued() && len(values) > 1 {
		return nil, fmt.Errorf("%s holds a single value, got %d", vr, len(values))
	}
	s := strings.Join(values, `\`)
	var b []byte
	if tc != nil && vr.UsesCharset() {
		var err error
		if b, err = tc.Encode(vr, s); err != nil {
			return nil, err
		}
	} else {
		b = []byte(s)
	}
	return PadValue(b, vr), nil
}

func encodeInts(vr VR, values []int64) ([]byte, error) {
	switch vr {
	case IS, DS:
		ss := make([]string, len(values))
		for i, v := range values {
			ss[i] = strconv.FormatInt(v, 10)
		}
		return PadValue([]byte(strings.Join(ss, `\`)), vr), nil
	case FL, FD, OF, OD:
		fs := make([]float64, len(values))
		for i, v := range values {
			fs[i] = float64(v)
		}
		return encodeFloats(vr, fs)
	case AT:
		ts := make([]Tag, len(values))
		for i, v := range values {
			ts[i] = Tag(v)
		}
		return encodeTags(vr, ts)
	}
	w := vr.ByteWidth()
	if w == 0 {
		return nil, fmt.Errorf("cannot encode integers as %s", vr)
	}
	b := make([]byte, w*len(values))
	for i, v := range values {
		var lo, hi int64
		switch vr {
		case US, OW:
			lo, hi = 0, math.MaxUint16
		case SS:
			lo, hi = math.MinInt16, math.MaxInt16
		case UL, OL:
			lo, hi = 0, math.MaxUint32
		case SL:
			lo, hi = math.MinInt32, math.MaxInt32
		case OB, UN:
			lo, hi = 0, math.MaxUint8
		case UV, OV:
			lo, hi = 0, math.MaxInt64
		default:
			lo, hi = math.MinInt64, math.MaxInt64
		}
		if v < lo || v > hi {
			return nil, fmt.Errorf("value %d out of range for %s", v, vr)
		}
		switch w {
		case 1:
			b[i] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		case 8:
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
	}
	return PadValue(b, vr), nil
}

func encodeFloats(vr VR, values []float64) ([]byte, error) {
	switch vr {
	case FL, OF:
		b := make([]byte, 4*len(values))
		for i, f := range values {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(f)))
		}
		return b, nil
	case FD, OD:
		b := make([]byte, 8*len(values))
		for i, f := range values {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
		return b, nil
	case DS:
		ss := make([]string, len(values))
		for i, f := range values {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, fmt.Errorf("DS cannot hold %v", f)
			}
			ss[i] = formatDS(f)
		}
		return PadValue([]byte(strings.Join(ss, `\`)), vr), nil
	}
	ints := make([]int64, len(values))
	for i, f := range values {
		if f != math.Trunc(f) {
			return nil, fmt.Errorf("%v is not an integer (VR %s)", f, vr)
		}
		ints[i] = int64(f)
	}
	return encodeInts(vr, ints)
}

func encodeTags(vr VR, values []Tag) ([]byte, error) {
	if vr != AT {
		return nil, fmt.Errorf("cannot encode tags as %s", vr)
	}
	b := make([]byte, 4*len(values))
	for i, t := range values {
		binary.LittleEndian.PutUint16(b[4*i:], t.Group())
		binary.LittleEndian.PutUint16(b[4*i+2:], t.Element())
	}
	return b, nil
}
