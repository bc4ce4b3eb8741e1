package codec

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

func TestWriter(t *testing.T) {
	odd := dicom.NewDataset(2)
	odd.Put(dicom.Element{Tag: tagPatientName, VR: dicom.PN, Value: []byte("Doe")})
	seq := dicom.NewDataset(2)
	item := dicom.NewDataset(1)
	item.Put(dicom.Element{Tag: tagRefSOPInstance, VR: dicom.UI, Value: []byte("1.2\x00")})
	seq.Put(dicom.Element{Tag: tagRefImageSeq, VR: dicom.SQ, Items: []*dicom.Dataset{item}, UndefinedLength: true})
	be := dicom.NewDataset(1)
	be.Put(dicom.Element{Tag: tagRows, VR: dicom.US, Value: []byte{0x00, 0x02}})
	oddBE := dicom.NewDataset(1)
	oddBE.Put(dicom.Element{Tag: 0x00181312, VR: dicom.US, Value: []byte{1, 2, 3}})
	novr := dicom.NewDataset(1)
	novr.Put(dicom.Element{Tag: tagPatientID, Value: []byte("42")})
	tests := []struct {
		name    string
		ds      *dicom.Dataset
		syntax  Syntax
		opts    []WriterOption
		want    []byte
		wantErr error
	}{
		{name: "lenient pads odd", ds: odd, syntax: ExplicitVRLittleEndian, want: explicitLE().str(tagPatientName, "PN", "Doe ").bytes()},
		{name: "strict rejects odd", ds: odd, syntax: ExplicitVRLittleEndian, opts: []WriterOption{WithStrict(true)}, wantErr: ErrNotEncodable},
		{name: "implicit", ds: odd, syntax: ImplicitVRLittleEndian, want: implicitLE().str(tagPatientName, "", "Doe ").bytes()},
		{name: "big endian swaps", ds: be, syntax: ExplicitVRBigEndian, want: explicitBE().el(tagRows, "US", 2, 0x02, 0x00).bytes()},
		{name: "big endian pads odd before swapping", ds: oddBE, syntax: ExplicitVRBigEndian, want: explicitBE().el(0x00181312, "US", 4, 2, 1, 0, 3).bytes()},
		{name: "NoVR takes the dictionary VR", ds: novr, syntax: ExplicitVRLittleEndian, want: explicitLE().str(tagPatientID, "LO", "42").bytes()},
		{name: "undefined sequence kept", ds: seq, syntax: ExplicitVRLittleEndian,
			want: explicitLE().el(tagRefImageSeq, "SQ", 0xffffffff).item(0xffffffff).str(tagRefSOPInstance, "UI", "1.2\x00").itemEnd().seqEnd().bytes()},
		{name: "defined lengths forced", ds: seq, syntax: ExplicitVRLittleEndian, opts: []WriterOption{WithSequenceLengths(true)},
			want: explicitLE().el(tagRefImageSeq, "SQ", 20).item(12).str(tagRefSOPInstance, "UI", "1.2\x00").bytes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf, tc.syntax, tc.opts...)
			err := w.WriteDataset(tc.ds)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("WriteDataset() error = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if !bytes.Equal(buf.Bytes(), tc.want) {
				t.Errorf("wrote % x\nwant  % x", buf.Bytes(), tc.want)
			}
			var n int64
			for e := range tc.ds.All() {
				k, err := EncodedLength(e, tc.syntax)
				if err != nil {
					t.Fatal(err)
				}
				n += k
			}
			if len(tc.opts) == 0 && n != int64(len(tc.want)) {
				t.Errorf("EncodedLength() = %d, want %d", n, len(tc.want))
			}
		})
	}
}

func TestWriterBulkWithoutLoader(t *testing.T) {
	ds := dicom.NewDataset(1)
	ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OW, Bulk: &dicom.BulkRef{Offset: 10, Length: 4}})
	if _, err := AppendDataset(nil, ds, ExplicitVRLittleEndian); !errors.Is(err, ErrBulkNoLoader) {
		t.Fatalf("AppendDataset() error = %v, want ErrBulkNoLoader", err)
	}
}

func TestDeflatedRoundTrip(t *testing.T) {
	cf := ctFile(t)
	ds, err := ReadDataset(cf.body, cf.syntax)
	if err != nil {
		t.Fatal(err)
	}
	b, err := AppendDataset(nil, ds, DeflatedExplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadDataset(b, DeflatedExplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, "deflated", got, ds)
	for _, s := range []Syntax{ImplicitVRLittleEndian, ExplicitVRBigEndian} {
		b, err := AppendDataset(nil, ds, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadDataset(b, s)
		if err != nil {
			t.Fatal(err)
		}
		if s.ExplicitVR {
			sameDataset(t, s.UID, got, ds)
		} else if got.Len() != ds.Len() {
			t.Errorf("%s: %d elements, want %d", s.UID, got.Len(), ds.Len())
		}
	}
}

// TestWriterBulkMatchesValue checks that a value left in its source as a
// BulkRef is written exactly as the same value read into memory, odd
// lengths and partial units included, in every native syntax.
func TestWriterBulkMatchesValue(t *testing.T) {
	for _, src := range []Syntax{ExplicitVRLittleEndian, ExplicitVRBigEndian} {
		for _, n := range []uint32{4, 6, 7, 11, 83} {
			value := make([]byte, n)
			for i := range value {
				value[i] = byte(i + 1)
			}
			f := explicitLE()
			if src.BigEndian {
				f = explicitBE()
			}
			in := f.el(0x00181310, "UL", n, value...).bytes() // Acquisition Matrix, any 4-byte VR
			full, err := ReadDataset(in, src)
			if err != nil {
				t.Fatal(err)
			}
			bulk, err := ReadDataset(in, src, WithBulkThreshold(2, 0))
			if err != nil || bulk.Get(0x00181310).Bulk == nil {
				t.Fatalf("bulk read: %v", err)
			}
			for _, dst := range []Syntax{ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian} {
				want, err := AppendDataset(nil, full, dst)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				w := NewWriter(&buf, dst, WithBulkLoader(func(e *dicom.Element) (io.Reader, error) {
					return bytes.NewReader(in[e.Bulk.Offset : e.Bulk.Offset+e.Bulk.Length]), nil
				}))
				if err := w.WriteDataset(bulk); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s, %d bytes, to %s: bulk wrote % x, value % x", src.UID, n, dst.UID, buf.Bytes(), want)
				}
			}
		}
	}
}

// TestWriterFragments checks that odd fragments are padded to an even item
// length, and that encapsulated pixel data left as a BulkRef is copied with a
// clean sequence delimiter.
func TestWriterFragments(t *testing.T) {
	ds := dicom.NewDataset(1)
	ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OB, UndefinedLength: true,
		Fragments: &dicom.Fragments{OffsetTable: []byte{0, 0, 0, 0}, Items: [][]byte{{1, 2, 3}, {4, 5}}}})
	want := explicitLE().el(dicom.PixelData, "OB", 0xffffffff).item(4).raw(0, 0, 0, 0).item(4).raw(1, 2, 3, 0).item(2).raw(4, 5).seqEnd().bytes()
	b, err := AppendDataset(nil, ds, ExplicitVRLittleEndian)
	if err != nil || !bytes.Equal(b, want) {
		t.Fatalf("AppendDataset() = % x, %v; want % x", b, err, want)
	}
	if n, err := EncodedLength(ds.Get(dicom.PixelData), ExplicitVRLittleEndian); err != nil || n != int64(len(want)) {
		t.Errorf("EncodedLength() = %d, %v; want %d", n, err, len(want))
	}
	// A source whose delimiter has a non-zero length field.
	in := explicitLE().el(dicom.PixelData, "OB", 0xffffffff).item(0).item(2).raw(4, 5).tag(dicom.SequenceDelimitationItemTag).u32(0xed00).bytes()
	bulk, err := ReadDataset(in, ExplicitVRLittleEndian, WithBulkThreshold(0, 0))
	if err != nil || bulk.Get(dicom.PixelData).Bulk == nil {
		t.Fatalf("bulk read: %v", err)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf, ExplicitVRLittleEndian, WithBulkLoader(func(e *dicom.Element) (io.Reader, error) {
		return bytes.NewReader(in[e.Bulk.Offset : e.Bulk.Offset+e.Bulk.Length]), nil
	}))
	if err := w.WriteDataset(bulk); err != nil {
		t.Fatal(err)
	}
	want = explicitLE().el(dicom.PixelData, "OB", 0xffffffff).item(0).item(2).raw(4, 5).seqEnd().bytes()
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("bulk wrote % x, want % x", buf.Bytes(), want)
	}
}
