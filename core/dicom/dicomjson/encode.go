package dicomjson

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/pacsforge/pacs/core/dicom"
)

// Options controls encoding. The zero value writes compact JSON with every
// binary value inline and group lengths omitted.
type Options struct {
	// BulkDataThreshold is the length in bytes above which a binary value (VR
	// OB OD OF OL OV OW UN, Pixel Data included) is offered to BulkDataURI.
	// 0 means never: every plain binary value is inline.
	BulkDataThreshold int
	// BulkDataURI returns the URI under which the value of e will be served, or
	// "" to write it inline. path identifies e from the top-level data set:
	// tags as eight upper-case hex digits and item indexes from 0, separated by
	// '/' ("00081115/0/00081199"). It is also asked, whatever the threshold,
	// for encapsulated Pixel Data and for deferred values (Element.Bulk), which
	// have no inline form of their own (Bulk: an error if it returns "").
	BulkDataURI func(path string, e *dicom.Element) string
	// Indent writes one attribute per line, indented by two spaces per level.
	Indent bool
	// IncludeGroupLength writes group length elements (gggg,0000), which PS3.18
	// F.2 advises to omit and which are omitted by default.
	IncludeGroupLength bool
}

// ErrNoBulkDataURI is returned when a deferred value (Element.Bulk) must be
// written and Options.BulkDataURI gives no URI for it.
var ErrNoBulkDataURI = errors.New("dicomjson: deferred value needs a BulkDataURI")

// flushSize is the buffered size above which Encode writes out what it has.
const flushSize = 32 << 10

// maxSafeInt is 2^53, the largest magnitude up to which every integer is exact
// in a JSON number read as an IEEE double (PS3.18 F.2.3.1).
const maxSafeInt = 1 << 53

// encoder appends JSON to buf, flushing to w (if any) between attributes.
type encoder struct {
	buf   []byte
	w     io.Writer
	opt   *Options
	depth int    // indentation level
	nest  int    // sequence nesting
	path  []byte // "tag/index/tag/" of the enclosing items, when BulkDataURI is set
}

// Marshal returns the DICOM JSON object of ds (PS3.18 F.2). A nil ds is the
// empty object. It fails on a deferred value without a BulkDataURI (see
// ErrNoBulkDataURI); bytes that the text codec cannot decode are written as
// U+FFFD.
func Marshal(ds *dicom.Dataset, opt Options) ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 64*datasetLen(ds)+16), opt: &opt}
	if err := e.dataset(ds, codecOf(ds)); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// Encode writes the DICOM JSON object of ds to w, buffering at most a few tens
// of kilobytes (and whole inline values) at a time. On error, w may have
// received part of the object.
func Encode(w io.Writer, ds *dicom.Dataset, opt Options) error {
	e := &encoder{buf: make([]byte, 0, flushSize+1024), w: w, opt: &opt}
	if err := e.dataset(ds, codecOf(ds)); err != nil {
		return err
	}
	return e.flush()
}

// MarshalArray returns a JSON array holding the object of each data set, as a
// QIDO-RS response does (PS3.18 F.2.1). No data set gives "[]".
func MarshalArray(dss []*dicom.Dataset, opt Options) ([]byte, error) {
	e := &encoder{buf: make([]byte, 0, 1024), opt: &opt}
	if err := e.array(func(yield func(*dicom.Dataset) bool) {
		for _, ds := range dss {
			if !yield(ds) {
				return
			}
		}
	}); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// EncodeArray writes a JSON array holding the object of each data set of dss
// to w, streaming: data sets are consumed one at a time. On error the
// iteration stops and w may hold a partial array.
func EncodeArray(w io.Writer, dss iter.Seq[*dicom.Dataset], opt Options) error {
	e := &encoder{buf: make([]byte, 0, flushSize+1024), w: w, opt: &opt}
	if err := e.array(dss); err != nil {
		return err
	}
	return e.flush()
}

func (e *encoder) array(dss iter.Seq[*dicom.Dataset]) error {
	e.buf = append(e.buf, '[')
	e.depth++
	n := 0
	var err error
	for ds := range dss {
		if n > 0 {
			e.buf = append(e.buf, ',')
		}
		n++
		e.newline()
		if err = e.dataset(ds, codecOf(ds)); err != nil {
			break
		}
	}
	e.depth--
	if err != nil {
		return err
	}
	if n > 0 {
		e.newline()
	}
	e.buf = append(e.buf, ']')
	return nil
}

func (e *encoder) flush() error {
	if e.w == nil || len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *encoder) newline() {
	if !e.opt.Indent {
		return
	}
	e.buf = append(e.buf, '\n')
	for range e.depth {
		e.buf = append(e.buf, ' ', ' ')
	}
}

// dataset writes ds as an object; tc is the codec in force (its own, or the
// enclosing data set's).
func (e *encoder) dataset(ds *dicom.Dataset, tc dicom.TextCodec) error {
	e.buf = append(e.buf, '{')
	e.depth++
	n := 0
	for el := range ds.All() {
		if el.Tag.IsGroupLength() && !e.opt.IncludeGroupLength {
			continue
		}
		if n > 0 {
			e.buf = append(e.buf, ',')
		}
		n++
		e.newline()
		e.buf = append(e.buf, '"')
		e.buf = appendTag(e.buf, el.Tag)
		e.buf = append(e.buf, '"', ':')
		if e.opt.Indent {
			e.buf = append(e.buf, ' ')
		}
		if err := e.element(el, tc); err != nil {
			return err
		}
		if e.w != nil && len(e.buf) >= flushSize {
			if err := e.flush(); err != nil {
				return err
			}
		}
	}
	e.depth--
	if n > 0 {
		e.newline()
	}
	e.buf = append(e.buf, '}')
	return nil
}

func appendTag(b []byte, t dicom.Tag) []byte {
	const hex = "0123456789ABCDEF"
	for i := 7; i >= 0; i-- {
		b = append(b, hex[(t>>(4*i))&0xf])
	}
	return b
}

// key starts the next member of an attribute object.
func (e *encoder) key(name string) {
	e.buf = append(e.buf, ',')
	if e.opt.Indent {
		e.buf = append(e.buf, ' ')
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, name...)
	e.buf = append(e.buf, '"', ':')
	if e.opt.Indent {
		e.buf = append(e.buf, ' ')
	}
}

// elementPath returns the path of el for BulkDataURI.
func (e *encoder) elementPath(el *dicom.Element) string {
	b := make([]byte, 0, len(e.path)+8)
	b = append(b, e.path...)
	return string(appendTag(b, el.Tag))
}

// bulkURI asks Options.BulkDataURI for the URI of el ("" if none).
func (e *encoder) bulkURI(el *dicom.Element) string {
	if e.opt.BulkDataURI == nil {
		return ""
	}
	return e.opt.BulkDataURI(e.elementPath(el), el)
}

func (e *encoder) element(el *dicom.Element, tc dicom.TextCodec) error {
	vr := el.VR
	if el.Items != nil {
		vr = dicom.SQ // includes UN holding a sequence of undefined length
	} else if !vr.Valid() {
		vr = dicom.UN
	}
	e.buf = append(e.buf, '{', '"', 'v', 'r', '"', ':')
	if e.opt.Indent {
		e.buf = append(e.buf, ' ')
	}
	e.buf = append(e.buf, '"')
	e.buf = append(e.buf, vr.String()...)
	e.buf = append(e.buf, '"')
	var err error
	switch {
	case el.Bulk != nil:
		uri := e.bulkURI(el)
		if uri == "" {
			return fmt.Errorf("dicomjson: %s: %w", el.Tag, ErrNoBulkDataURI)
		}
		e.key("BulkDataURI")
		e.buf = appendString(e.buf, uri)
	case el.Fragments != nil:
		if uri := e.bulkURI(el); uri != "" {
			e.key("BulkDataURI")
			e.buf = appendString(e.buf, uri)
		} else {
			e.key("InlineBinary")
			e.buf = appendFragments(e.buf, el.Fragments)
		}
	case vr == dicom.SQ:
		err = e.sequence(el, tc)
	default:
		err = e.value(el, vr, tc)
	}
	if err != nil {
		return err
	}
	e.buf = append(e.buf, '}')
	return nil
}
