package part10

import (
	"fmt"
	"io"
	"os"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// Write writes f as a Part 10 file: the preamble (128 zero bytes when
// f.Preamble is nil), "DICM", the File Meta Information completed by
// prepareMeta (group length computed, our implementation class UID and
// version name), and the data set encoded in f.Syntax (Explicit VR Little
// Endian when f.Syntax is zero). Group 0002 elements inside f.Dataset are not
// written. opts configure the data set writer.
func Write(w io.Writer, f *File, opts ...codec.WriterOption) error {
	dw, err := NewWriter(w, f.Meta, f.Dataset, f.Syntax, f.Preamble, opts...)
	if err != nil {
		return err
	}
	for e := range f.Dataset.All() {
		if e.Tag.Group() == 2 {
			continue
		}
		if err := dw.WriteElement(e); err != nil {
			return err
		}
	}
	return dw.Close()
}

// NewWriter writes the preamble and the File Meta Information (meta completed
// for ds and s; ds may be nil when meta already names the SOP class and
// instance) to w and returns the Writer of the data set, which the caller
// feeds element by element and closes. A nil preamble writes 128 zero bytes.
func NewWriter(w io.Writer, meta, ds *dicom.Dataset, s codec.Syntax, preamble []byte, opts ...codec.WriterOption) (*codec.Writer, error) {
	if s.UID == "" {
		s = codec.ExplicitVRLittleEndian
	}
	if meta == nil {
		meta = &dicom.Dataset{}
	}
	m, err := prepareMeta(meta, ds, s)
	if err != nil {
		return nil, err
	}
	var head [PreambleLength + 4]byte
	copy(head[:PreambleLength], preamble)
	copy(head[PreambleLength:], "DICM")
	if _, err := w.Write(head[:]); err != nil {
		return nil, err
	}
	mw := codec.NewWriter(w, codec.ExplicitVRLittleEndian, codec.WithStrict(true))
	if err := mw.WriteDataset(m); err != nil {
		return nil, fmt.Errorf("file meta information: %w", err)
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return codec.NewWriter(w, s, opts...), nil
}

// WriteFile writes f to a new file at path (see Write), syncs it to stable
// storage and closes it. A failed write removes the partial file.
func WriteFile(path string, f *File, opts ...codec.WriterOption) (err error) {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := Write(fh, f, opts...); err != nil {
		return err
	}
	return fh.Sync()
}
