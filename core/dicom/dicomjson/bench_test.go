package dicomjson

import (
	"bytes"
	"io"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// headerDataset is a typical image header: about 100 elements of mixed VRs,
// with a small sequence.
func headerDataset(b testing.TB) *dicom.Dataset {
	ds := &dicom.Dataset{}
	for e := range textDataset(b).All() {
		ds.Put(*e)
	}
	for e := range numberDataset(b).All() {
		ds.Put(*e)
	}
	for e := range sequenceDataset(b).All() {
		ds.Put(*e)
	}
	for i := range 30 {
		ds.Put(el(b, dicom.Tag(0x00190000+0x1000+i), dicom.LO, "Vendor specific text value"))
		ds.Put(el(b, dicom.Tag(0x00210000+0x1000+i), dicom.DS, []float64{1.25, -3.5, float64(i)}))
		ds.Put(el(b, dicom.Tag(0x00230000+0x1000+i), dicom.US, []uint16{uint16(i), 512}))
	}
	return ds
}

func BenchmarkMarshal(b *testing.B) {
	ds := headerDataset(b)
	out, _ := Marshal(ds, Options{})
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(ds, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	ds := headerDataset(b)
	out, _ := Marshal(ds, Options{})
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(io.Discard, ds, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	in, _ := Marshal(headerDataset(b), Options{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Unmarshal(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	in, _ := Marshal(headerDataset(b), Options{})
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
