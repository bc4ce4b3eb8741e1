package dicomjson

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
)

// maxEncodeDepth bounds the nesting of sequences the encoder follows, so a data
// set that contains itself as an item is an error rather than a stack overflow.
const maxEncodeDepth = 256

func codecOf(ds *dicom.Dataset) dicom.TextCodec {
	if ds == nil {
		return nil
	}
	return ds.Codec
}

func datasetLen(ds *dicom.Dataset) int {
	if ds == nil {
		return 0
	}
	return ds.Len()
}

func (e *encoder) sequence(el *dicom.Element, tc dicom.TextCodec) error {
	if len(el.Items) == 0 {
		return nil
	}
	if e.nest++; e.nest > maxEncodeDepth {
		return fmt.Errorf("dicomjson: %s: %w", el.Tag, ErrTooDeep)
	}
	e.key("Value")
	e.buf = append(e.buf, '[')
	e.depth++
	plen := len(e.path)
	for i, it := range el.Items {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline()
		if e.opt.BulkDataURI != nil {
			e.path = appendTag(e.path[:plen], el.Tag)
			e.path = append(e.path, '/')
			e.path = strconv.AppendInt(e.path, int64(i), 10)
			e.path = append(e.path, '/')
		}
		itc := tc
		if it != nil && it.Codec != nil {
			itc = it.Codec
		}
		if err := e.dataset(it, itc); err != nil {
			return err
		}
	}
	e.path = e.path[:plen]
	e.depth--
	e.nest--
	e.newline()
	e.buf = append(e.buf, ']')
	return nil
}

// value writes the value member of a plain (non-sequence) element.
func (e *encoder) value(el *dicom.Element, vr dicom.VR, tc dicom.TextCodec) error {
	v := el.Value
	switch vr {
	case dicom.OB, dicom.OD, dicom.OF, dicom.OL, dicom.OV, dicom.OW, dicom.UN:
		if len(v) == 0 {
			return nil
		}
		if t := e.opt.BulkDataThreshold; t > 0 && len(v) > t {
			if uri := e.bulkURI(el); uri != "" {
				e.key("BulkDataURI")
				e.buf = appendString(e.buf, uri)
				return nil
			}
		}
		e.key("InlineBinary")
		e.buf = appendBase64(e.buf, v)
		return nil
	case dicom.US, dicom.SS, dicom.UL, dicom.SL, dicom.SV, dicom.UV, dicom.FL, dicom.FD, dicom.AT:
		w := vr.ByteWidth()
		if vr == dicom.AT {
			w = 4
		}
		n := len(v) / w
		if n == 0 {
			return nil
		}
		e.key("Value")
		e.buf = append(e.buf, '[')
		for i := range n {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendBinaryValue(e.buf, vr, v[i*w:])
		}
		e.buf = append(e.buf, ']')
		return nil
	}
	values := el.Strings(tc)
	if len(values) == 0 || (len(values) == 1 && values[0] == "") {
		return nil
	}
	e.key("Value")
	e.buf = append(e.buf, '[')
	for i, s := range values {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		switch {
		case s == "":
			e.buf = append(e.buf, "null"...)
		case vr == dicom.PN:
			e.buf = appendPN(e.buf, s)
		case vr == dicom.IS:
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				e.buf = strconv.AppendInt(e.buf, n, 10)
			} else {
				e.buf = appendString(e.buf, s)
			}
		case vr == dicom.DS:
			if num, ok := normalizeDS(s); ok {
				e.buf = append(e.buf, num...)
			} else {
				e.buf = appendString(e.buf, s)
			}
		default:
			e.buf = appendString(e.buf, s)
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// pnGroups names the component groups of a person name (PS3.18 F.2.2).
var pnGroups = [3]string{"Alphabetic", "Ideographic", "Phonetic"}

// appendPN appends one person name value as an object of its non-empty
// component groups, or null if all are empty.
func appendPN(b []byte, s string) []byte {
	groups := strings.SplitN(s, "=", 3)
	n := 0
	for i, g := range groups {
		if g == "" {
			continue
		}
		if n == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		n++
		b = append(b, '"')
		b = append(b, pnGroups[i]...)
		b = append(b, '"', ':')
		b = appendString(b, g)
	}
	if n == 0 {
		return append(b, "null"...)
	}
	return append(b, '}')
}

// appendBinaryValue appends the first value of a binary VR held in v.
func appendBinaryValue(b []byte, vr dicom.VR, v []byte) []byte {
	switch vr {
	case dicom.US:
		return strconv.AppendUint(b, uint64(binary.LittleEndian.Uint16(v)), 10)
	case dicom.SS:
		return strconv.AppendInt(b, int64(int16(binary.LittleEndian.Uint16(v))), 10)
	case dicom.UL:
		return strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(v)), 10)
	case dicom.SL:
		return strconv.AppendInt(b, int64(int32(binary.LittleEndian.Uint32(v))), 10)
	case dicom.SV:
		n := int64(binary.LittleEndian.Uint64(v))
		if n > maxSafeInt || n < -maxSafeInt {
			b = append(b, '"')
			b = strconv.AppendInt(b, n, 10)
			return append(b, '"')
		}
		return strconv.AppendInt(b, n, 10)
	case dicom.UV:
		n := binary.LittleEndian.Uint64(v)
		if n > maxSafeInt {
			b = append(b, '"')
			b = strconv.AppendUint(b, n, 10)
			return append(b, '"')
		}
		return strconv.AppendUint(b, n, 10)
	case dicom.FL:
		return appendFloat(b, float64(math.Float32frombits(binary.LittleEndian.Uint32(v))), 32)
	case dicom.FD:
		return appendFloat(b, math.Float64frombits(binary.LittleEndian.Uint64(v)), 64)
	case dicom.AT:
		t := dicom.NewTag(binary.LittleEndian.Uint16(v), binary.LittleEndian.Uint16(v[2:]))
		b = append(b, '"')
		b = appendTag(b, t)
		return append(b, '"')
	}
	return b
}

// appendFloat appends f as a JSON number in the shortest form that reads back
// as the same value of the given size, or as the string "NaN", "Infinity" or
// "-Infinity" (PS3.18 F.2.3.1).
func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	// As encoding/json does: plain notation for moderate magnitudes, exponent
	// notation (with a short exponent) for very small and very large ones.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b) - start
		if n >= 4 && b[len(b)-4] == 'e' && b[len(b)-3] == '-' && b[len(b)-2] == '0' {
			b[len(b)-2] = b[len(b)-1]
			b = b[:len(b)-1]
		}
	}
	return b
}

// isJSONNumber reports whether s has the syntax of a JSON number (RFC 8259 §6).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// normalizeDS returns a DS value as a JSON number and true: unchanged when it
// already has JSON number syntax (and is finite as a float64), otherwise the shortest JSON number with the
// same float64 value when it is a decimal string PS3.5 would accept ("+1.5",
// "1.", ".5", "007", "1E+02"). It returns false for anything that is not a
// finite decimal number, which is then written as a string.
func normalizeDS(s string) (string, bool) {
	if isJSONNumber(s) {
		if strings.IndexAny(s, "eE") < 0 || len(s) <= 4 {
			return s, true // cannot overflow a float64
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) {
			return s, true
		}
		return "", false
	}
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '+', c == '-', c == '.', c == 'e', c == 'E':
		default:
			return "", false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	return string(appendFloat(nil, f, 64)), true
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// control characters and U+2028/U+2029 are escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendBase64(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendFragments appends, as a base64 string, the encapsulated encoding of f
// (PS3.5 §A.4): an item holding the Basic Offset Table, an item per fragment,
// and a sequence delimitation item, all little endian.
func appendFragments(b []byte, f *dicom.Fragments) []byte {
	return appendBase64(b, encapsulate(f))
}

func encapsulate(f *dicom.Fragments) []byte {
	n := 8 + len(f.OffsetTable) + 8
	for _, it := range f.Items {
		n += 8 + len(it)
	}
	out := make([]byte, 0, n)
	out = appendItem(out, dicom.ItemTag, f.OffsetTable)
	for _, it := range f.Items {
		out = appendItem(out, dicom.ItemTag, it)
	}
	return appendItem(out, dicom.SequenceDelimitationItemTag, nil)
}

func appendItem(b []byte, t dicom.Tag, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, t.Group())
	b = binary.LittleEndian.AppendUint16(b, t.Element())
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// decapsulate parses an encapsulated stream written by encapsulate: items
// ending exactly with a sequence delimitation item. It reports false for
// anything else, which is then kept as a plain value.
func decapsulate(v []byte) (*dicom.Fragments, bool) {
	var items [][]byte
	for len(v) >= 8 {
		t := dicom.NewTag(binary.LittleEndian.Uint16(v), binary.LittleEndian.Uint16(v[2:]))
		n := binary.LittleEndian.Uint32(v[4:])
		v = v[8:]
		if t == dicom.SequenceDelimitationItemTag {
			if n != 0 || len(v) != 0 || len(items) == 0 {
				return nil, false
			}
			f := &dicom.Fragments{OffsetTable: items[0], Items: items[1:]}
			if f.Items == nil {
				f.Items = [][]byte{}
			}
			return f, true
		}
		if t != dicom.ItemTag || uint64(n) > uint64(len(v)) {
			return nil, false
		}
		items = append(items, v[:n:n])
		v = v[n:]
	}
	return nil, false
}
