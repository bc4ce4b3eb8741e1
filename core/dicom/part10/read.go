package part10

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// PreambleLength is the length of the preamble that precedes "DICM".
const PreambleLength = 128

// ErrNotDICOM is returned when the input is neither a Part 10 file nor a data
// set whose first bytes look like DICOM in any transfer syntax.
var ErrNotDICOM = errors.New("not a DICOM file")

// File is a DICOM file in memory.
type File struct {
	// Preamble holds the 128-byte preamble, or nil when the file had none.
	Preamble []byte
	// Meta is the File Meta Information (group 0002); empty when the file had
	// none.
	Meta *dicom.Dataset
	// Syntax is the transfer syntax of the data set, from the meta information
	// or, without it, detected from the data set's first bytes.
	Syntax codec.Syntax
	// Dataset is the data set (without group 0002).
	Dataset *dicom.Dataset
	// DatasetOffset is the byte offset of the data set in the file; the
	// Offset of every BulkRef counts from the start of the file.
	DatasetOffset int64
	// Problems lists what a lenient read accepted (see codec.Problem).
	Problems []codec.Problem
}

type options struct {
	codecOpts []codec.Option
	stopAt    dicom.Tag
	bulk      int64
	charset   bool
	syntax    *codec.Syntax
}

// Option configures a read.
type Option func(*options)

// WithStopAtPixelData stops the read before Pixel Data (7FE0,0010) and
// everything after it: a header-only read whose cost does not depend on the
// size of the pixel data.
func WithStopAtPixelData() Option { return func(o *options) { o.stopAt = tagPixelData } }

// WithStopAt stops the read before the first top-level element whose tag is
// at least t.
func WithStopAt(t dicom.Tag) Option { return func(o *options) { o.stopAt = t } }

// WithBulkThreshold leaves every value longer than n bytes in the file as an
// Element.Bulk reference (offsets from the start of the file) instead of
// reading it. It has no effect on a deflated data set, whose values have no
// offset in the file: they are read.
func WithBulkThreshold(n int64) Option { return func(o *options) { o.bulk = n } }

// WithCodecOptions passes further options (limits, for instance) to the data
// set reader.
func WithCodecOptions(opts ...codec.Option) Option {
	return func(o *options) { o.codecOpts = append(o.codecOpts, opts...) }
}

// WithoutCharset leaves Dataset.Codec nil: text is not decoded by Specific
// Character Set.
func WithoutCharset() Option { return func(o *options) { o.charset = false } }

// WithSyntax reads the data set in s whatever the meta information says.
func WithSyntax(s codec.Syntax) Option { return func(o *options) { o.syntax = &s } }

func newOptions(opts []Option) options {
	o := options{charset: true}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// TextCodec is the function given to the codec to build a data set's
// dicom.TextCodec from its Specific Character Set.
func TextCodec(terms []string) (dicom.TextCodec, error) {
	c, err := charset.New(terms)
	if c == nil {
		return nil, err
	}
	return c, err
}

func (o *options) datasetOptions(base int64, s codec.Syntax) []codec.Option {
	opts := make([]codec.Option, 0, len(o.codecOpts)+3)
	if o.charset {
		opts = append(opts, codec.WithCharset(TextCodec))
	}
	if o.stopAt != 0 {
		opts = append(opts, codec.WithStopAt(o.stopAt))
	}
	if o.bulk > 0 && !s.Deflated {
		opts = append(opts, codec.WithBulkThreshold(o.bulk, base))
	}
	return append(opts, o.codecOpts...)
}

// header describes what precedes the data set.
type header struct {
	preamble  []byte
	metaStart int64 // offset of the first meta element, or -1 without meta
}

// sniff classifies the first bytes of a file (at most 132 + 8 are needed).
func sniff(b []byte) header {
	h := header{metaStart: -1}
	pos := 0
	switch {
	case len(b) >= PreambleLength+4 && string(b[PreambleLength:PreambleLength+4]) == "DICM":
		h.preamble = b[:PreambleLength]
		pos = PreambleLength + 4
	case len(b) >= 4 && string(b[:4]) == "DICM":
		pos = 4
	}
	if len(b) >= pos+6 && b[pos] == 2 && b[pos+1] == 0 {
		h.metaStart = int64(pos)
	} else if pos > 0 {
		h.metaStart = int64(pos) // "DICM" followed by no group 0002: empty meta
	}
	return h
}

func isVR(a, b byte) bool {
	_, ok := dicom.LookupVR(a, b)
	return ok
}

// DetectSyntax guesses the transfer syntax of a data set from its first
// bytes (at least 8): big endian when the group number's high byte comes
// first, explicit VR when bytes 4-5 spell a VR, else Implicit VR Little Endian.
func DetectSyntax(b []byte) codec.Syntax {
	if len(b) < 8 {
		return codec.ImplicitVRLittleEndian
	}
	explicit := isVR(b[4], b[5])
	if b[0] == 0 && b[1] != 0 && explicit {
		return codec.ExplicitVRBigEndian
	}
	if explicit {
		return codec.ExplicitVRLittleEndian
	}
	return codec.ImplicitVRLittleEndian
}

// syntaxOf picks the data set's syntax: the override, the meta information's,
// or one detected from the data set's first bytes.
func (o *options) syntaxOf(f *File, first []byte) {
	if o.syntax != nil {
		f.Syntax = *o.syntax
		return
	}
	if u := TransferSyntaxUID(f.Meta); u != "" {
		if s, ok := codec.LookupSyntax(u); ok {
			f.Syntax = s
			return
		}
		f.Problems = append(f.Problems, codec.Problem{Tag: tagTransferSyntax, Msg: fmt.Sprintf("unknown transfer syntax %q: reading as Explicit VR Little Endian", u)})
		f.Syntax = codec.ExplicitVRLittleEndian
		f.Syntax.UID = u
		return
	}
	f.Syntax = DetectSyntax(first)
}

// ReadBytes reads a DICOM file held in b. Values are sub-slices of b, which
// must not be modified while the File is in use.
func ReadBytes(b []byte, opts ...Option) (*File, error) {
	o := newOptions(opts)
	h := sniff(b)
	f := &File{Preamble: h.preamble, Meta: &dicom.Dataset{}}
	pos := int64(0)
	if h.metaStart >= 0 {
		pos = h.metaStart
		meta, n, _, err := parseMeta(b[pos:], false)
		if err != nil {
			return nil, shiftError(err, pos)
		}
		f.Meta = meta
		pos += int64(n)
	}
	if len(b) == int(pos) && h.metaStart < 0 {
		return nil, ErrNotDICOM
	}
	f.DatasetOffset = pos
	o.syntaxOf(f, b[pos:])
	if f.Syntax.Deflated {
		// Inflated by the stream reader, which offsets bulk references
		// from the start of b.
		cr := codec.NewReader(bytes.NewReader(b[pos:]), f.Syntax, o.datasetOptions(pos, f.Syntax)...)
		ds, err := cr.ReadDataset()
		f.Dataset = ds
		f.Problems = append(f.Problems, offsetProblems(cr.Problems(), pos)...)
		if err == nil {
			err = f.checkEmpty()
		}
		return f, shiftError(err, pos)
	}
	cr := codec.NewBytesReader(b[pos:], f.Syntax, o.datasetOptions(pos, f.Syntax)...)
	ds, err := cr.ReadDataset()
	f.Dataset = ds
	f.Problems = append(f.Problems, offsetProblems(cr.Problems(), pos)...)
	if err == nil {
		err = f.checkEmpty()
	}
	return f, shiftError(err, pos)
}

// checkEmpty rejects a file with neither meta information nor a data set.
func (f *File) checkEmpty() error {
	if f.Meta.Len() == 0 && f.Dataset.Len() == 0 {
		return fmt.Errorf("%w: no file meta information and an empty data set", ErrNotDICOM)
	}
	return nil
}

// ReadFile reads the DICOM file at path. Without streaming options the whole
// file is read into memory at once (the fastest path); with
// WithStopAtPixelData or WithBulkThreshold it is streamed, seeking over what
// it does not read. Errors name the file and the byte offset.
func ReadFile(path string, opts ...Option) (*File, error) {
	o := newOptions(opts)
	if o.stopAt == 0 && o.bulk == 0 {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		f, err := ReadBytes(b, opts...)
		if err != nil {
			return f, fmt.Errorf("%s: %w", path, err)
		}
		return f, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r, err := NewReader(fh, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := r.File()
	ds, err := r.ReadDataset()
	r.Release()
	f.Dataset = ds
	f.Problems = append(f.Problems, r.Problems()...)
	if err == nil {
		err = f.checkEmpty()
	}
	if err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read reads a whole DICOM file from r.
func Read(r io.Reader, opts ...Option) (*File, error) {
	pr, err := NewReader(r, opts...)
	if err != nil {
		return nil, err
	}
	f := pr.File()
	ds, err := pr.ReadDataset()
	f.Dataset = ds
	f.Problems = append(f.Problems, pr.Problems()...)
	if err == nil {
		err = f.checkEmpty()
	}
	return f, err
}

// Reader reads a DICOM file from a stream: NewReader consumes the preamble
// and the File Meta Information; Next or ReadDataset then decode the data set.
type Reader struct {
	file *File
	cr   *codec.Reader
}

// NewReader reads the preamble and File Meta Information from r and prepares
// to decode the data set. When r is an io.ReadSeeker, bulk values are skipped
// by seeking and offsets count from r's position at the call.
func NewReader(r io.Reader, opts ...Option) (*Reader, error) {
	o := newOptions(opts)
	f := &File{Meta: &dicom.Dataset{}}
	var src io.Reader
	var head []byte
	rs, seekable := r.(io.ReadSeeker)
	var start int64
	if seekable {
		var err error
		if start, err = rs.Seek(0, io.SeekCurrent); err != nil {
			seekable = false
		}
	}
	if seekable {
		head = make([]byte, PreambleLength+4+8)
		n, err := io.ReadFull(rs, head)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, err
		}
		head = head[:n]
		src = rs
	} else {
		br := bufio.NewReaderSize(r, 4096)
		head, _ = br.Peek(PreambleLength + 4 + 8)
		src = br
	}
	if len(head) == 0 {
		return nil, ErrNotDICOM
	}
	h := sniff(head)
	if h.preamble != nil {
		f.Preamble = bytes.Clone(h.preamble)
	}
	pos := int64(0)
	if h.metaStart >= 0 {
		pos = h.metaStart
	}
	// Position src at pos.
	if seekable {
		if _, err := rs.Seek(start+pos, io.SeekStart); err != nil {
			return nil, err
		}
	} else if _, err := io.CopyN(io.Discard, src, pos); err != nil {
		return nil, err
	}
	if h.metaStart >= 0 && len(head) >= int(pos)+6 && head[pos] == 2 && head[pos+1] == 0 {
		var meta *dicom.Dataset
		var n int
		var err error
		if seekable {
			meta, n, err = readMetaAt(rs, start+pos)
		} else {
			br, ok := src.(*bufio.Reader)
			if !ok || br.Size() < MaxMetaLength {
				br = bufio.NewReaderSize(src, MaxMetaLength)
			}
			peek, perr := br.Peek(MaxMetaLength)
			meta, n, err = metaFrom(peek, perr != nil)
			br.Discard(n)
			src = br
		}
		if err != nil {
			return nil, shiftError(err, pos)
		}
		f.Meta = meta
		pos += int64(n)
		if seekable {
			if _, err := rs.Seek(start+pos, io.SeekStart); err != nil {
				return nil, err
			}
		}
	}
	// Peek at the data set's first bytes for syntax detection.
	first := make([]byte, 8)
	n, _ := io.ReadFull(src, first)
	first = first[:n]
	if n == 0 && h.metaStart < 0 {
		return nil, ErrNotDICOM
	}
	if seekable {
		if _, err := rs.Seek(start+pos, io.SeekStart); err != nil {
			return nil, err
		}
	} else {
		src = io.MultiReader(bytes.NewReader(first), src)
	}
	f.DatasetOffset = pos
	o.syntaxOf(f, first)
	return &Reader{file: f, cr: codec.NewReader(src, f.Syntax, o.datasetOptions(pos, f.Syntax)...)}, nil
}

// metaFrom parses the meta information at the start of b; atEnd reports that
// b holds the rest of the input, so a group that fills b is complete.
func metaFrom(b []byte, atEnd bool) (*dicom.Dataset, int, error) {
	meta, n, complete, err := parseMeta(b, true)
	if err == nil && !complete && !atEnd {
		err = metaError(n, 0, fmt.Errorf("longer than %d bytes: %w", len(b), codec.ErrMalformed))
	}
	return meta, n, err
}

// readMetaAt reads the meta information at offset off of rs: a small read
// first (typical meta information is a few hundred bytes), the MaxMetaLength
// bound only when that is not enough.
func readMetaAt(rs io.ReadSeeker, off int64) (*dicom.Dataset, int, error) {
	for _, size := range []int{2048, MaxMetaLength} {
		if _, err := rs.Seek(off, io.SeekStart); err != nil {
			return nil, 0, err
		}
		buf := make([]byte, size)
		m, err := io.ReadFull(rs, buf)
		atEnd := err != nil
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return nil, 0, err
		}
		meta, n, complete, perr := parseMeta(buf[:m], true)
		if perr != nil && errors.Is(perr, codec.ErrTruncated) && !atEnd {
			continue // an element runs past this read: read more
		}
		if perr != nil {
			return nil, 0, perr
		}
		if complete || atEnd {
			return meta, n, nil
		}
	}
	return nil, 0, metaError(0, 0, fmt.Errorf("longer than %d bytes: %w", MaxMetaLength, codec.ErrMalformed))
}

// File returns the file read so far: preamble, meta information, syntax and
// data set offset (the Dataset itself is set by the caller of ReadDataset).
func (r *Reader) File() *File { return r.file }

// Meta returns the File Meta Information.
func (r *Reader) Meta() *dicom.Dataset { return r.file.Meta }

// Syntax returns the transfer syntax of the data set.
func (r *Reader) Syntax() codec.Syntax { return r.file.Syntax }

// Next returns the next top-level element of the data set (io.EOF at the end).
func (r *Reader) Next() (dicom.Element, error) {
	e, err := r.cr.Next()
	if err != nil && err != io.EOF {
		err = shiftError(err, r.file.DatasetOffset)
	}
	return e, err
}

// ReadDataset reads the rest of the data set.
func (r *Reader) ReadDataset() (*dicom.Dataset, error) {
	ds, err := r.cr.ReadDataset()
	return ds, shiftError(err, r.file.DatasetOffset)
}

// Problems returns the irregularities the data set reader accepted, with
// offsets from the start of the file.
func (r *Reader) Problems() []codec.Problem {
	return offsetProblems(r.cr.Problems(), r.file.DatasetOffset)
}

// Release returns the Reader's read buffer for reuse (see
// codec.Reader.Release): for a Reader left before the end of the data set,
// such as one stopped at Pixel Data. Elements read stay valid; the Reader
// must not be read afterwards.
func (r *Reader) Release() { r.cr.Release() }

// Remaining returns the rest of the stream after a stop (WithStopAt).
func (r *Reader) Remaining() io.Reader { return r.cr.Remaining() }

// BulkLoader returns a loader for codec.WithBulkLoader that reads values left
// as BulkRef from ra, the file they were read from.
func BulkLoader(ra io.ReaderAt) func(*dicom.Element) (io.Reader, error) {
	return func(e *dicom.Element) (io.Reader, error) {
		if e.Bulk == nil {
			return nil, fmt.Errorf("%s: no bulk reference", e.Tag)
		}
		return io.NewSectionReader(ra, e.Bulk.Offset, e.Bulk.Length), nil
	}
}

// shiftError makes the offset of a *codec.SyntaxError count from the start of
// the file.
func shiftError(err error, by int64) error {
	var se *codec.SyntaxError
	if err != nil && by != 0 && errors.As(err, &se) {
		c := *se
		c.Offset += by
		return &c
	}
	return err
}

func offsetProblems(ps []codec.Problem, by int64) []codec.Problem {
	for i := range ps {
		ps[i].Offset += by
	}
	return ps
}
