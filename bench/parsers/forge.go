package parsers

import (
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
)

// Forge is Forge PACS's parser through its public Part 10 API:
// part10.ReadFile for a full parse (the file is read into memory and decoded
// without copying values), and part10.ReadFile with
// part10.WithStopAtPixelData for a header-only parse (the *os.File is
// streamed and reading stops before Pixel Data, so the pixel data is never
// read).
var Forge = Parser{Name: "forge", Full: forgeFull, Header: forgeHeader}

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
	f, err := part10.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return f.Meta, f.Dataset, nil
}

// forgeReadHeader is forgeReadFile stopping before Pixel Data.
func forgeReadHeader(path string) (meta, ds *dicom.Dataset, err error) {
	f, err := part10.ReadFile(path, part10.WithStopAtPixelData())
	if err != nil {
		return nil, nil, err
	}
	return f.Meta, f.Dataset, nil
}
