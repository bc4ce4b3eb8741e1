package dicomjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
)

// DefaultMaxDepth is the sequence nesting accepted when DecodeOptions.MaxDepth
// is 0: items within items, 64 levels below the top-level data set.
const DefaultMaxDepth = 64

// specificCharacterSet is (0008,0005), spelled out so the package does not
// depend on the generated dictionary's constant names.
const specificCharacterSet dicom.Tag = 0x00080005

// ErrTooDeep is returned (inside a *SyntaxError when decoding) when sequences
// are nested deeper than the limit.
var ErrTooDeep = errors.New("dicomjson: sequences nested too deeply")

// SyntaxError reports malformed DICOM JSON: Offset is the byte offset in the
// input near which the problem was found, Tag the attribute being decoded (0 if
// the problem is outside any attribute). Err, if set, is the underlying error
// (a *json.SyntaxError, io.ErrUnexpectedEOF, ErrTooDeep, or an error of a
// DecodeOptions callback).
type SyntaxError struct {
	Offset int64
	Tag    dicom.Tag
	Msg    string
	Err    error
}

// Error formats the error with its attribute and offset.
func (e *SyntaxError) Error() string {
	where := fmt.Sprintf("offset %d", e.Offset)
	if e.Tag != 0 {
		where = fmt.Sprintf("attribute %s at offset %d", e.Tag, e.Offset)
	}
	if e.Err != nil && e.Msg == "" {
		return fmt.Sprintf("dicomjson: %s: %v", where, e.Err)
	}
	if e.Err != nil {
		return fmt.Sprintf("dicomjson: %s: %s: %v", where, e.Msg, e.Err)
	}
	return fmt.Sprintf("dicomjson: %s: %s", where, e.Msg)
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// DecodeOptions controls decoding. The zero value applies DefaultMaxDepth,
// leaves BulkDataURI elements empty and keeps text in UTF-8.
type DecodeOptions struct {
	// MaxDepth bounds the nesting of sequences; 0 means DefaultMaxDepth.
	MaxDepth int
	// BulkData fetches the value behind a BulkDataURI: the encoded bytes
	// (little endian for binary VRs). When nil, such an element is kept with
	// its VR and no value. An error from it fails the decode.
	BulkData func(uri string) ([]byte, error)
	// WithCodec, when set and the top-level object holds Specific Character
	// Set (0008,0005), returns the codec for its terms; the data set's Codec is
	// set to it and text of the character-set VRs (SH LO ST LT PN UC UT) is
	// encoded with it. A nil codec keeps text in UTF-8.
	//
	// When WithCodec is nil, or the object has no (0008,0005), text is stored
	// as UTF-8 and, if any of it is not ASCII, (0008,0005) is set to
	// "ISO_IR 192" (replacing the value the JSON held), so that the data set is
	// self-describing.
	WithCodec func(terms []string) (dicom.TextCodec, error)
}

// Unmarshal decodes one DICOM JSON object (PS3.18 F.2) with default options.
// Anything but white space after the object is an error.
func Unmarshal(b []byte) (*dicom.Dataset, error) {
	return UnmarshalWith(b, DecodeOptions{})
}

// UnmarshalWith decodes one DICOM JSON object with the given options.
// Anything but white space after the object is an error.
func UnmarshalWith(b []byte, opt DecodeOptions) (*dicom.Dataset, error) {
	d := newDecoder(b, 0, &opt)
	ds, err := d.topDataset()
	if err != nil {
		return nil, err
	}
	if _, err := d.sc.Token(); err != io.EOF {
		return nil, d.errorf("data after the object")
	}
	return ds, nil
}

// Decode reads one DICOM JSON object from r with default options. It may read
// past the object's end (r is buffered); it does not look for more input. The
// object is held in memory while it is decoded.
func Decode(r io.Reader) (*dicom.Dataset, error) {
	return DecodeWith(r, DecodeOptions{})
}

// DecodeWith reads one DICOM JSON object from r with the given options, as
// Decode does.
func DecodeWith(r io.Reader, opt DecodeOptions) (*dicom.Dataset, error) {
	jd := json.NewDecoder(r)
	var raw json.RawMessage
	if err := jd.Decode(&raw); err != nil {
		return nil, jsonError(err, jd)
	}
	return newDecoder(raw, 0, &opt).topDataset()
}

// jsonError converts an error of a json.Decoder into a *SyntaxError.
func jsonError(err error, jd *json.Decoder) error {
	var se *json.SyntaxError
	off := jd.InputOffset()
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	return &SyntaxError{Offset: off, Err: err}
}

// DecodeArray reads a JSON array of DICOM JSON objects, such as a QIDO-RS
// response, with default options.
func DecodeArray(r io.Reader) ([]*dicom.Dataset, error) {
	return DecodeArrayWith(r, DecodeOptions{})
}

// DecodeArrayWith reads a JSON array of DICOM JSON objects with the given
// options. Each object is handled as Decode handles one (character set
// included), one at a time. On error it returns nothing but the error.
func DecodeArrayWith(r io.Reader, opt DecodeOptions) ([]*dicom.Dataset, error) {
	jd := json.NewDecoder(r)
	t, err := jd.Token()
	if err != nil {
		return nil, jsonError(err, jd)
	}
	if t != json.Delim('[') {
		return nil, &SyntaxError{Offset: jd.InputOffset(), Msg: "expected an array of objects"}
	}
	dss := []*dicom.Dataset{}
	for jd.More() {
		base := jd.InputOffset()
		var raw json.RawMessage
		if err := jd.Decode(&raw); err != nil {
			return nil, jsonError(err, jd)
		}
		ds, err := newDecoder(raw, base, &opt).topDataset()
		if err != nil {
			return nil, err
		}
		dss = append(dss, ds)
	}
	if _, err := jd.Token(); err != nil {
		return nil, jsonError(err, jd)
	}
	return dss, nil
}

// decoder reads DICOM JSON tokens from sc; offsets are reported plus base
// (the position of sc's input in a larger stream).
type decoder struct {
	sc       *scanner
	base     int64
	opt      *DecodeOptions
	maxDepth int
	tag      dicom.Tag // attribute being decoded, for errors
	nonASCII *bool     // some text of the current top-level object is not ASCII
}

func newDecoder(b []byte, base int64, opt *DecodeOptions) *decoder {
	d := &decoder{sc: newScanner(b, 0), base: base, opt: opt, maxDepth: opt.MaxDepth, nonASCII: new(bool)}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	return d
}

func (d *decoder) offset() int64 { return d.base + int64(d.sc.pos) }

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Offset: d.offset(), Tag: d.tag, Msg: fmt.Sprintf(format, args...)}
}

// wrap completes an error of the scanner with the attribute and base offset.
func (d *decoder) wrap(err error) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		se.Offset += d.base
		se.Tag = d.tag
		return se
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &SyntaxError{Offset: d.offset(), Tag: d.tag, Err: err}
}

func (d *decoder) token() (json.Token, error) {
	t, err := d.sc.Token()
	if err != nil {
		return nil, d.wrap(err)
	}
	return t, nil
}

func (d *decoder) delim(want json.Delim) error {
	t, err := d.token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != want {
		return d.errorf("expected %q, found %s", want, describe(t))
	}
	return nil
}

// describe names a token for error messages without echoing long input.
func describe(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", v.String())
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", t)
}

// skip discards the next JSON value.
func (d *decoder) skip() error {
	if _, _, err := d.sc.skipValue(); err != nil {
		return d.wrap(err)
	}
	return nil
}

// topDataset reads one top-level object and settles its character set.
func (d *decoder) topDataset() (*dicom.Dataset, error) {
	*d.nonASCII = false
	d.tag = 0
	ds, err := d.dataset(0)
	if err != nil {
		return nil, err
	}
	d.tag = specificCharacterSet
	if err := d.settleCharset(ds); err != nil {
		return nil, err
	}
	d.tag = 0
	return ds, nil
}

// dataset reads an object of attributes at the given item depth.
func (d *decoder) dataset(depth int) (*dicom.Dataset, error) {
	if depth > d.maxDepth {
		return nil, &SyntaxError{Offset: d.offset(), Tag: d.tag, Err: ErrTooDeep}
	}
	if err := d.delim('{'); err != nil {
		return nil, err
	}
	ds := &dicom.Dataset{}
	for d.sc.More() {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		tag, ok := parseTagKey(key)
		if !ok {
			return nil, d.errorf("attribute key %q is not eight hexadecimal digits", truncate(key))
		}
		d.tag = tag
		el, err := d.attribute(tag, depth)
		if err != nil {
			return nil, err
		}
		if !ds.Append(el) {
			if ds.Contains(tag) {
				return nil, d.errorf("duplicate attribute")
			}
			ds.Put(el)
		}
	}
	if err := d.delim('}'); err != nil {
		return nil, err
	}
	return ds, nil
}

func truncate(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

// parseTagKey parses an attribute key: eight hexadecimal digits (upper case
// per PS3.18 F.2.1.1; lower case is accepted).
func parseTagKey(s string) (dicom.Tag, bool) {
	if len(s) != 8 {
		return 0, false
	}
	var t uint32
	for i := 0; i < 8; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		t = t<<4 | uint32(c)
	}
	return dicom.Tag(t), true
}

// attribute reads the object of one attribute.
func (d *decoder) attribute(tag dicom.Tag, depth int) (dicom.Element, error) {
	el := dicom.Element{Tag: tag}
	if err := d.delim('{'); err != nil {
		return el, err
	}
	var (
		vr             dicom.VR
		valueSeen      bool // a member holding the value was read
		done           bool // el holds the value already
		rawStart       int
		rawEnd         int
		inline, uri    string
		isInline, isBD bool
	)
	for d.sc.More() {
		t, err := d.token()
		if err != nil {
			return el, err
		}
		key, _ := t.(string)
		switch key {
		case "vr":
			if vr != dicom.NoVR {
				return el, d.errorf(`"vr" given twice`)
			}
			t, err := d.token()
			if err != nil {
				return el, err
			}
			s, _ := t.(string)
			v, ok := dicom.ParseVR(s)
			if !ok {
				return el, d.errorf("invalid vr %q", truncate(s))
			}
			vr = v
		case "Value", "InlineBinary", "BulkDataURI":
			if valueSeen {
				return el, d.errorf("more than one of Value, InlineBinary and BulkDataURI")
			}
			valueSeen = true
			switch key {
			case "Value":
				if vr == dicom.NoVR {
					// "vr" comes later: keep the value for then.
					if rawStart, rawEnd, err = d.sc.skipValue(); err != nil {
						return el, d.wrap(err)
					}
					break
				}
				if el, err = d.values(tag, vr, depth); err != nil {
					return el, err
				}
				done = true
			default:
				t, err := d.token()
				if err != nil {
					return el, err
				}
				s, ok := t.(string)
				if !ok && t != nil {
					return el, d.errorf("%s is %s, not a string", key, describe(t))
				}
				if key == "InlineBinary" {
					inline, isInline = s, t != nil
				} else {
					uri, isBD = s, t != nil
				}
			}
		default:
			if err := d.skip(); err != nil {
				return el, err
			}
		}
	}
	if err := d.delim('}'); err != nil {
		return el, err
	}
	if vr == dicom.NoVR {
		return el, d.errorf(`missing "vr"`)
	}
	el.VR = vr
	switch {
	case done:
	case rawEnd > 0:
		sub := &decoder{sc: newScanner(d.sc.b[:rawEnd], rawStart), base: d.base, opt: d.opt,
			maxDepth: d.maxDepth, tag: tag, nonASCII: d.nonASCII}
		var err error
		if el, err = sub.values(tag, vr, depth); err != nil {
			return el, err
		}
		d.tag = tag
	case isInline || isBD:
		if vr == dicom.SQ {
			return el, d.errorf("a sequence cannot have InlineBinary or BulkDataURI")
		}
		var b []byte
		if isInline {
			if !isBinaryVR(vr) {
				return el, d.errorf("InlineBinary is not allowed for VR %s", vr)
			}
			var err error
			if b, err = decodeBase64(inline); err != nil {
				return el, d.errorf("invalid InlineBinary: %v", err)
			}
		} else if d.opt.BulkData != nil {
			var err error
			if b, err = d.opt.BulkData(uri); err != nil {
				return el, &SyntaxError{Offset: d.offset(), Tag: tag, Msg: "fetch BulkDataURI", Err: err}
			}
		}
		b = dicom.PadValue(b, vr)
		if tag == dicom.Tag(0x7fe00010) && vr == dicom.OB {
			// Padded first, so a value that becomes an encapsulated stream
			// only once padded decodes the same way on every pass.
			if f, ok := decapsulate(b); ok {
				el.Fragments = f
				el.UndefinedLength = true
				return el, nil
			}
		}
		el.Value = b
	case vr == dicom.SQ:
		el.Items = []*dicom.Dataset{}
	}
	return el, nil
}

func isBinaryVR(vr dicom.VR) bool {
	switch vr {
	case dicom.OB, dicom.OD, dicom.OF, dicom.OL, dicom.OV, dicom.OW, dicom.UN:
		return true
	}
	return false
}
