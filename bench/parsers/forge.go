package parsers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// Forge is Forge PACS's parser: a full parse reads the file into memory and
// decodes it without copying values; a header-only parse reads through a
// buffered *os.File and stops before Pixel Data, so the pixel data is never read.
var Forge = Parser{Name: "forge", Full: forgeFull, Header: forgeHeader}

// preambleLen is the Part 10 preamble plus the "DICM" prefix (PS3.10 §7.1).
const preambleLen = 128 + 4

// metaEnd is the first tag after the File Meta Information group.
const metaEnd dicom.Tag = 0x00030000

// tagTransferSyntaxUID is (0002,0010).
const tagTransferSyntaxUID dicom.Tag = 0x00020010

// tagPixelData is (7FE0,0010).
const tagPixelData dicom.Tag = 0x7fe00010

func forgeFull(path string) (int, error) {
	meta, ds, err := forgeReadFile(path)
	if err != nil {
		return 0, err
	}
	return meta.Len() + ds.Len(), nil
}

func forgeHeader(path string) (int, error) {
	meta, ds, err := forgeReadHeader(path)
	if err != nil {
		return 0, err
	}
	return meta.Len() + ds.Len(), nil
}

// forgeReadFile returns the File Meta Information and the data set of the
// Part 10 file at path.
func forgeReadFile(path string) (meta, ds *dicom.Dataset, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < preambleLen || string(b[128:132]) != "DICM" {
		return nil, nil, errors.New("not a Part 10 file")
	}
	mr := codec.NewReader(bytes.NewReader(b[preambleLen:]), codec.ExplicitVRLittleEndian, codec.WithStopAt(metaEnd))
	if meta, err = mr.ReadDataset(); err != nil {
		return nil, nil, fmt.Errorf("file meta: %w", err)
	}
	s, err := syntaxOf(meta)
	if err != nil {
		return nil, nil, err
	}
	ds, err = codec.ReadDataset(b[preambleLen+int(mr.Offset()):], s)
	return meta, ds, err
}

// forgeReadHeader is forgeReadFile stopping before Pixel Data.
func forgeReadHeader(path string) (meta, ds *dicom.Dataset, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var pre [preambleLen]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil {
		return nil, nil, err
	}
	if string(pre[128:]) != "DICM" {
		return nil, nil, errors.New("not a Part 10 file")
	}
	mr := codec.NewReader(f, codec.ExplicitVRLittleEndian, codec.WithStopAt(metaEnd))
	if meta, err = mr.ReadDataset(); err != nil {
		return nil, nil, fmt.Errorf("file meta: %w", err)
	}
	s, err := syntaxOf(meta)
	if err != nil {
		return nil, nil, err
	}
	ds, err = codec.NewReader(bufio.NewReader(mr.Remaining()), s, codec.WithStopAt(tagPixelData)).ReadDataset()
	return meta, ds, err
}

func syntaxOf(meta *dicom.Dataset) (codec.Syntax, error) {
	uid := meta.String(tagTransferSyntaxUID)
	s, ok := codec.LookupSyntax(uid)
	if !ok {
		return codec.Syntax{}, fmt.Errorf("unknown transfer syntax %q", uid)
	}
	return s, nil
}
