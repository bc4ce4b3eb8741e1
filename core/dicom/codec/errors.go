package codec

import (
	"errors"
	"strconv"

	"github.com/pacsforge/pacs/core/dicom"
)

// Sentinel errors, matched with errors.Is through a *SyntaxError.
var (
	// ErrTruncated: the input ends inside an element, item or sequence, or a
	// declared length runs past the end of the input.
	ErrTruncated = errors.New("truncated input")
	// ErrTooDeep: sequences are nested deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("sequences nested too deep")
	// ErrValueTooLong: a value is longer than Limits.MaxValueLength.
	ErrValueTooLong = errors.New("value too long")
	// ErrTooManyElements: the data set holds more than Limits.MaxElements
	// elements (counted at every nesting level).
	ErrTooManyElements = errors.New("too many elements")
	// ErrMalformed: the bytes do not follow the encoding rules (an item
	// where an element is expected, a bad item inside encapsulated pixel data).
	ErrMalformed = errors.New("malformed data set")
	// ErrBulkNoLoader: the Writer met an element whose value is a BulkRef and
	// was given no WithBulkLoader.
	ErrBulkNoLoader = errors.New("bulk value without a loader")
	// ErrNotEncodable: the Writer cannot encode the element in the syntax
	// (strict mode: odd length, invalid VR; any mode: a value too long for its
	// length field).
	ErrNotEncodable = errors.New("element not encodable")
)

// SyntaxError reports a decoding or encoding failure at a byte offset of the
// (inflated) stream, in the element with tag Tag (0 when none was read yet).
type SyntaxError struct {
	Offset int64
	Tag    dicom.Tag
	Msg    string
	Err    error // one of the sentinels above, or an I/O error; may be nil
}

// Error formats e as "offset 1234 (0008,0016): msg: err".
func (e *SyntaxError) Error() string {
	b := make([]byte, 0, 64+len(e.Msg))
	b = append(b, "offset "...)
	b = strconv.AppendInt(b, e.Offset, 10)
	b = append(b, ' ')
	b = append(b, e.Tag.String()...)
	b = append(b, ": "...)
	b = append(b, e.Msg...)
	if e.Err != nil {
		b = append(b, ": "...)
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns the underlying sentinel or I/O error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Problem notes something a lenient read accepted: an odd length, a
// duplicate or out-of-order tag, a VR that disagrees with the syntax, a UN
// value re-parsed as a sequence. Offset is the element's first byte.
type Problem struct {
	Offset int64
	Tag    dicom.Tag
	Msg    string
}

// String formats p as "offset 1234 (0008,0016): msg".
func (p Problem) String() string {
	return (&SyntaxError{Offset: p.Offset, Tag: p.Tag, Msg: p.Msg}).Error()
}
