package parsers

import (
	"os"

	"github.com/suyashkumar/dicom"
)

// Suyash is github.com/suyashkumar/dicom, the Go DICOM parser most projects
// would otherwise use: dicom.ParseFile for a full parse (native pixel data
// decoded into frames, its default), and dicom.Parse with SkipPixelData on the
// *os.File for a header-only parse.
var Suyash = Parser{Name: "suyash", Full: suyashFull, Header: suyashHeader}

// SuyashRaw is the same parser told to keep pixel data as raw bytes
// (SkipProcessingPixelDataValue), as Forge does: the fairest full-parse
// comparison.
var SuyashRaw = Parser{Name: "suyashraw", Full: suyashRawFull, Header: suyashHeader}

func suyashFull(path string) (int, error) {
	ds, err := dicom.ParseFile(path, nil)
	return len(ds.Elements), err
}

func suyashRawFull(path string) (int, error) {
	ds, err := dicom.ParseFile(path, nil, dicom.SkipProcessingPixelDataValue())
	return len(ds.Elements), err
}

func suyashHeader(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	ds, err := dicom.Parse(f, fi.Size(), nil, dicom.SkipPixelData())
	return len(ds.Elements), err
}
