package codec

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
)

// Tags the reader treats specially.
const (
	tagSpecificCharacterSet dicom.Tag = 0x00080005
	tagPixelRepresentation  dicom.Tag = 0x00280103
	tagPixelData            dicom.Tag = 0x7fe00010
)

// initialElements is the capacity of a top-level data set; items start at
// initialItemElements.
const (
	initialElements     = 64
	initialItemElements = 8
	// minElementSize is the smallest encoded element with a value, a
	// rough bound to size a data set by its input.
	minElementSize = 10
)

// Reader decodes a data set element by element from a stream or a byte slice.
// It is not safe for concurrent use.
type Reader struct {
	src      source
	syntax   Syntax
	opt      options
	problems []Problem
	codec    dicom.TextCodec // top-level Specific Character Set
	signed   bool            // PixelRepresentation 1 in the current data set or item (see implicitVR)
	elements int
	stopped  bool
	under    io.Reader // the reader under the buffer (the inflater when deflated)
	err      error
}

// NewReader returns a Reader of a data set encoded in s read from r. For a
// deflated syntax r is inflated (raw deflate, RFC 1951) and offsets count
// inflated bytes. When r is an io.Seeker (and s is not deflated), its size is
// used to reject impossible lengths and bulk values are skipped by seeking;
// offsets count from r's position when NewReader is called.
func NewReader(r io.Reader, s Syntax, opts ...Option) *Reader {
	rd := &Reader{syntax: s, opt: newOptions(opts)}
	rd.src.size = -1
	if s.Deflated {
		r = flate.NewReader(r)
	} else if sk, ok := r.(io.Seeker); ok {
		if cur, err := sk.Seek(0, io.SeekCurrent); err == nil {
			if end, err := sk.Seek(0, io.SeekEnd); err == nil {
				if _, err := sk.Seek(cur, io.SeekStart); err == nil && end >= cur {
					rd.src.seeker, rd.src.size = sk, end-cur
				}
			}
		}
	}
	rd.under = r
	rd.src.r = r
	rd.src.buf = (*bufPool.Get().(*[]byte))[:0]
	return rd
}

// Release returns the Reader's read buffer for reuse by later Readers. It
// is for a Reader left before the end of its input (stopped at a tag, or
// abandoned): one read to its end has released the buffer already. Values
// returned before stay valid, since they never alias the buffer; the Reader,
// and what Remaining returned, must not be read afterwards (they fail with
// ErrReleased).
func (r *Reader) Release() {
	if r.src.r == nil || r.src.buf == nil {
		return
	}
	r.src.base += int64(r.src.pos)
	r.src.release()
	r.err = ErrReleased
}

// ErrReleased is returned by a Reader used after Release.
var ErrReleased = errors.New("codec: reader used after Release")

// failedReader is an io.Reader that fails with err.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// ReadDataset decodes the data set in b, encoded in s. Values are sub-slices
// of b (which must then not be modified) unless WithCopyValues(true) is
// given; big-endian binary values are always copied, since they are swapped.
func ReadDataset(b []byte, s Syntax, opts ...Option) (*dicom.Dataset, error) {
	if s.Deflated {
		return NewReader(bytes.NewReader(b), s, opts...).ReadDataset()
	}
	var rd Reader // on the stack: one allocation fewer than NewBytesReader
	rd.initBytes(b, s, opts)
	return rd.ReadDataset()
}

// NewBytesReader returns a Reader of the data set in b, encoded in s: the
// Reader behind ReadDataset, for callers that also want its Problems or
// element-by-element reading. Values are sub-slices of b (which must then not
// be modified) unless WithCopyValues(true) is given; big-endian binary values
// are always copied. A deflated b is inflated as by NewReader.
func NewBytesReader(b []byte, s Syntax, opts ...Option) *Reader {
	if s.Deflated {
		return NewReader(bytes.NewReader(b), s, opts...)
	}
	rd := &Reader{}
	rd.initBytes(b, s, opts)
	return rd
}

// initBytes sets up r to read the (not deflated) data set in b.
func (r *Reader) initBytes(b []byte, s Syntax, opts []Option) {
	r.syntax, r.opt = s, newOptions(opts)
	r.src.buf, r.src.size, r.src.copy = b, int64(len(b)), r.opt.copyValues
}

// Offset returns the number of bytes consumed from the (inflated) stream.
func (r *Reader) Offset() int64 { return r.src.offset() }

// Problems returns the irregularities accepted so far.
func (r *Reader) Problems() []Problem { return r.problems }

// Remaining returns a reader of the stream from the first byte not consumed:
// after a stop requested by WithStopAt, the stopping element's first byte. It
// combines the Reader's buffered bytes with the underlying (inflated) stream.
func (r *Reader) Remaining() io.Reader {
	if r.err == ErrReleased {
		return failedReader{ErrReleased}
	}
	rest := r.src.unread()
	if r.under == nil {
		return bytes.NewReader(rest)
	}
	if len(rest) == 0 {
		return r.under
	}
	return io.MultiReader(bytes.NewReader(rest), r.under)
}

// ReadDataset reads elements to the end of the input (or to the tag of
// WithStopAt) and returns them as a data set. On error the elements read
// before it are returned too.
func (r *Reader) ReadDataset() (*dicom.Dataset, error) {
	n := initialElements
	if rest := r.src.remaining(); rest >= 0 && rest/minElementSize < int64(n) {
		// A small input (a command set, a query identifier) holds few
		// elements: no room for 64 of them.
		n = int(max(rest/minElementSize, initialItemElements))
	}
	ds := dicom.NewDataset(n)
	for {
		e, err := r.Next()
		if err == io.EOF {
			ds.Codec = r.codec
			return ds, nil
		}
		if err != nil {
			ds.Codec = r.codec
			return ds, err
		}
		r.add(ds, e)
	}
}

// Next returns the next top-level element, fully read (sequences included),
// and io.EOF at the end of the input or at the WithStopAt tag.
func (r *Reader) Next() (dicom.Element, error) {
	if r.err != nil {
		return dicom.Element{}, r.err
	}
	if r.stopped {
		return dicom.Element{}, io.EOF
	}
	for {
		e, err := r.element(r.codec, 0, true)
		if err == errSkip {
			continue
		}
		if err != nil {
			r.err = err
			if !r.stopped {
				// Drained or failed: nothing buffered is needed any more.
				r.src.base += int64(r.src.pos)
				r.src.release()
			}
			return dicom.Element{}, err
		}
		if e.Tag == tagSpecificCharacterSet {
			r.setCharset(&r.codec, &e, r.src.offset())
		}
		return e, nil
	}
}

// errSkip signals a stray delimiter skipped at the top level; errStop a
// WithStopAt stop.
var (
	errSkip = errors.New("skip")
	errStop = errors.New("stop")
)

// add puts e into ds, keeping the first of duplicates and sorting
// out-of-order tags in, with a Problem for each.
func (r *Reader) add(ds *dicom.Dataset, e dicom.Element) {
	if ds.Append(e) {
		return
	}
	if ds.Contains(e.Tag) {
		r.problem(r.src.offset(), e.Tag, "duplicate tag, first kept")
		return
	}
	r.problem(r.src.offset(), e.Tag, "tag out of order")
	ds.Put(e)
}

func (r *Reader) problem(off int64, t dicom.Tag, msg string) {
	r.problems = append(r.problems, Problem{Offset: off, Tag: t, Msg: msg})
}

func (r *Reader) fail(off int64, t dicom.Tag, msg string, err error) error {
	return &SyntaxError{Offset: off, Tag: t, Msg: msg, Err: err}
}

// ioFail wraps a source error: unexpected EOF becomes ErrTruncated.
func (r *Reader) ioFail(off int64, t dicom.Tag, msg string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
		err = ErrTruncated
	}
	return r.fail(off, t, msg, err)
}

// setCharset applies Specific Character Set e to *codec.
func (r *Reader) setCharset(codec *dicom.TextCodec, e *dicom.Element, off int64) {
	if r.opt.charset == nil {
		return
	}
	var terms []string
	for _, t := range bytes.Split(e.Value, []byte{'\\'}) {
		terms = append(terms, string(bytes.Trim(t, " \x00")))
	}
	tc, err := r.opt.charset(terms)
	if err != nil {
		r.problem(off, e.Tag, "specific character set: "+err.Error())
		return
	}
	*codec = tc
}
