package dump

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/golden"
)

func element(t *testing.T, tag dicom.Tag, vr dicom.VR, v any) dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tag, vr, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestWrite prints a data set with every kind of value: text, numbers,
// floats, tags, bytes, words, an empty value, a sequence of defined and one
// of undefined length, encapsulated pixel data and a bulk reference.
func TestWrite(t *testing.T) {
	item := &dicom.Dataset{}
	item.Put(element(t, dicom.CodeValue, dicom.SH, "T-A0100"))
	ds := &dicom.Dataset{}
	for _, e := range []dicom.Element{
		element(t, dicom.SpecificCharacterSet, dicom.CS, "ISO_IR 100"),
		element(t, dicom.ImageType, dicom.CS, []string{"ORIGINAL", "PRIMARY"}),
		element(t, dicom.AccessionNumber, dicom.SH, ""),
		element(t, dicom.PatientName, dicom.PN, "Doe^John"),
		element(t, dicom.SliceThickness, dicom.DS, "1.25"),
		element(t, dicom.Rows, dicom.US, 512),
		element(t, dicom.FrameIncrementPointer, dicom.AT, dicom.FrameTime),
		element(t, dicom.RealWorldValueSlope, dicom.FD, 0.5),
		element(t, dicom.FileMetaInformationVersion, dicom.OB, []byte{0, 1}),
		element(t, dicom.RedPaletteColorLookupTableData, dicom.OW, []byte{1, 0, 2, 0}),
		{Tag: dicom.AnatomicRegionSequence, VR: dicom.SQ, Items: []*dicom.Dataset{item}},
		{Tag: dicom.ReferencedImageSequence, VR: dicom.SQ, Items: []*dicom.Dataset{item}, UndefinedLength: true},
		{Tag: dicom.PixelData, VR: dicom.OB, Fragments: &dicom.Fragments{Items: [][]byte{{0xff, 0xd8, 0xff, 0xd9}}}, UndefinedLength: true},
		{Tag: dicom.FloatPixelData, VR: dicom.OF, Bulk: &dicom.BulkRef{Offset: 1024, Length: 4096}},
	} {
		ds.Put(e)
	}
	var out bytes.Buffer
	if err := Write(&out, ds, Options{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "write.golden"), out.Bytes())
}

// TestRawQuotesNonASCII: Raw prints the encoded bytes, non-ASCII as octal.
func TestRawQuotesNonASCII(t *testing.T) {
	e := dicom.Element{Tag: dicom.PatientName, VR: dicom.PN, Value: []byte("Buc^J\xe9r\xf4me")}
	if got, want := Value(&e, nil, true), `Buc^J\351r\364me`; got != want {
		t.Errorf("Value(raw) = %q, want %q", got, want)
	}
}
