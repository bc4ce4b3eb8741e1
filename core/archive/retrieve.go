package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// Errors of retrieval.
var (
	// ErrWrongBackend: the location names a storage backend other than the
	// one it is read from.
	ErrWrongBackend = errors.New("archive: instance is in another storage backend")
	// ErrCorruptObject: the stored object is not a Part 10 file this
	// archive can read (no preamble, meta information unreadable or without
	// a transfer syntax).
	ErrCorruptObject = errors.New("archive: stored object is not a readable Part 10 file")
	// ErrCannotTranscode: the data set is asked for in a transfer syntax it
	// cannot be converted to without decompression or compression (one of
	// the two syntaxes is encapsulated, or unknown).
	ErrCannotTranscode = errors.New("archive: transfer syntax conversion not supported")
)

// preambleAndPrefix is the length of the preamble and "DICM" of a stored
// object.
const preambleAndPrefix = part10.PreambleLength + 4

// Object is a stored instance opened for retrieval: its data set, after the
// File Meta Information, is read from it as stored. Close releases the
// stored object. Not safe for concurrent use.
type Object struct {
	// Location is the instance's index entry.
	Location index.Location
	// Meta is the object's File Meta Information.
	Meta *dicom.Dataset
	// Syntax is the transfer syntax the data set is stored in (from the
	// meta information).
	Syntax codec.Syntax

	r  io.Reader // the data set bytes
	rc io.ReadCloser
}

// Open opens the stored object of loc in b and positions it at its data
// set: the preamble and File Meta Information are read and skipped. A
// seekable object (the filesystem backend's) is read by part10; a plain
// stream is read exactly up to the data set, using the meta information's
// group length, which every object this archive stores carries. The
// caller closes the Object. Errors: storage.ErrNotFound for a missing
// object, ErrWrongBackend, ErrCorruptObject.
func Open(ctx context.Context, b storage.Backend, loc index.Location) (*Object, error) {
	if loc.Backend != "" && loc.Backend != b.ID() {
		return nil, fmt.Errorf("open %s: %w (%s, not %s)", loc.Key, ErrWrongBackend, loc.Backend, b.ID())
	}
	rc, err := b.Get(ctx, loc.Key)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", loc.Key, err)
	}
	o := &Object{Location: loc, rc: rc}
	if rs, ok := rc.(io.ReadSeeker); ok {
		err = o.headerSeek(rs)
	} else {
		err = o.headerStream(rc)
	}
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open %s: %w", loc.Key, err)
	}
	return o, nil
}

// Open opens the stored object of loc in the archive's storage (see the
// package function Open).
func (a *Archive) Open(ctx context.Context, loc index.Location) (*Object, error) {
	return Open(ctx, a.opt.Storage, loc)
}

// headerSeek reads the meta information with part10 and seeks to the data
// set.
func (o *Object) headerSeek(rs io.ReadSeeker) error {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	pr, err := part10.NewReader(rs, part10.WithoutCharset())
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptObject, err)
	}
	if err := o.setMeta(pr.Meta()); err != nil {
		return err
	}
	if _, err := rs.Seek(start+pr.File().DatasetOffset, io.SeekStart); err != nil {
		return err
	}
	o.r = rs
	return nil
}

// headerStream reads the preamble, "DICM" and the meta information group,
// whose length is given by its first element, File Meta Information Group
// Length (0002,0000), and nothing more.
func (o *Object) headerStream(r io.Reader) error {
	head := make([]byte, preambleAndPrefix+12)
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptObject, err)
	}
	gl := head[preambleAndPrefix:]
	if string(head[part10.PreambleLength:preambleAndPrefix]) != "DICM" ||
		!bytes.Equal(gl[:4], []byte{0x02, 0x00, 0x00, 0x00}) || // (0002,0000)
		string(gl[4:6]) != "UL" || binary.LittleEndian.Uint16(gl[6:]) != 4 {
		return fmt.Errorf("%w: no meta information group length", ErrCorruptObject)
	}
	n := binary.LittleEndian.Uint32(gl[8:])
	if n > part10.MaxMetaLength {
		return fmt.Errorf("%w: meta information of %d bytes", ErrCorruptObject, n)
	}
	b := make([]byte, 12+int(n))
	copy(b, gl)
	if _, err := io.ReadFull(r, b[12:]); err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptObject, err)
	}
	meta, err := codec.ReadDataset(b, codec.ExplicitVRLittleEndian, codec.WithCopyValues(true))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptObject, err)
	}
	if err := o.setMeta(meta); err != nil {
		return err
	}
	o.r = r
	return nil
}

// setMeta records the meta information and the syntax it names.
func (o *Object) setMeta(meta *dicom.Dataset) error {
	ts := part10.TransferSyntaxUID(meta)
	s, ok := codec.LookupSyntax(ts)
	if !ok {
		return fmt.Errorf("%w: transfer syntax %q", ErrCorruptObject, ts)
	}
	o.Meta, o.Syntax = meta, s
	return nil
}

// Read reads the data set as stored, encoded in o.Syntax; io.EOF at its end.
func (o *Object) Read(p []byte) (int, error) { return o.r.Read(p) }

// Close releases the stored object.
func (o *Object) Close() error { return o.rc.Close() }

// CanTranscode reports whether a data set stored in from can be sent in to:
// the same syntax, or two native (unencapsulated) syntaxes, which differ in
// encoding only (VR, byte order, deflate). Converting to or from an
// encapsulated syntax would need a pixel codec and is never done here.
func CanTranscode(from, to string) bool {
	if from == to {
		return true
	}
	f, ok1 := codec.LookupSyntax(from)
	t, ok2 := codec.LookupSyntax(to)
	return ok1 && ok2 && !f.Encapsulated && !t.Encapsulated
}

// DataSet returns the data set encoded in transfer syntax ts: the stored
// bytes when ts is o.Syntax, else (see CanTranscode) a conversion streamed
// element by element through a pipe, so that at most one top-level element
// (the pixel data, typically) is held in memory; Specific Character Set is
// not applied, text values travel as stored. A conversion error is returned
// by the reader's Read. It returns ErrCannotTranscode when the conversion
// is not supported. The caller closes the returned reader (which ends a
// conversion's goroutine) before closing the Object; closing it does not
// close the Object.
func (o *Object) DataSet(ts string) (io.ReadCloser, error) {
	if ts == o.Syntax.UID {
		return io.NopCloser(o.r), nil
	}
	if !CanTranscode(o.Syntax.UID, ts) {
		return nil, fmt.Errorf("%w: %s to %s", ErrCannotTranscode, o.Syntax.UID, ts)
	}
	target, _ := codec.LookupSyntax(ts)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(transcode(pw, o.r, o.Syntax, target))
	}()
	return pr, nil
}

// transcode re-encodes the data set read from r in from into w in to.
func transcode(w io.Writer, r io.Reader, from, to codec.Syntax) error {
	cr := codec.NewReader(r, from)
	cw := codec.NewWriter(w, to)
	for {
		e, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("transcode %s to %s: %w", from.UID, to.UID, err)
		}
		if err := cw.WriteElement(&e); err != nil {
			return fmt.Errorf("transcode %s to %s: %w", from.UID, to.UID, err)
		}
	}
	return cw.Close()
}
