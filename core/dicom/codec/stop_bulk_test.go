package codec

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// ctFile returns the CT_small corpus file.
func ctFile(tb testing.TB) corpusFile {
	tb.Helper()
	p := filepath.Join(testdataDir(tb), "transfer-syntax", "explicit-vr-le", "CT_small.dcm")
	b, err := os.ReadFile(p)
	if err != nil {
		p = filepath.Join(testdataDir(tb), "CT_small.dcm")
		if b, err = os.ReadFile(p); err != nil {
			tb.Skip("CT_small.dcm not in the corpus")
		}
	}
	cf, _ := splitPart10(b)
	cf.file = b
	return cf
}

func TestStopAtPixelData(t *testing.T) {
	cf := ctFile(t)
	full, err := ReadDataset(cf.body, cf.syntax)
	if err != nil {
		t.Fatal(err)
	}
	full.DeleteFunc(func(e *dicom.Element) bool { return e.Tag >= dicom.PixelData })
	hdr, err := ReadDataset(cf.body, cf.syntax, WithStopAt(dicom.PixelData))
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, "slice", hdr, full)

	// A file: after the stop it is positioned at the Pixel Data tag.
	f, err := os.Open(filepath.Join(testdataDir(t), "transfer-syntax", "explicit-vr-le", "CT_small.dcm"))
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	if _, err := f.Seek(cf.offset, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := NewReader(f, cf.syntax, WithStopAt(dicom.PixelData))
	hdr, err = r.ReadDataset()
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, "file", hdr, full)
	pos, _ := f.Seek(0, io.SeekCurrent)
	var tag [4]byte
	if _, err := io.ReadFull(f, tag[:]); err != nil || string(tag[:]) != "\xe0\x7f\x10\x00" {
		t.Errorf("file at %d reads % x, want the Pixel Data tag", pos, tag)
	}
	if pos != cf.offset+r.Offset() {
		t.Errorf("file position %d, want %d", pos, cf.offset+r.Offset())
	}

	// A plain reader: Remaining continues at the Pixel Data tag.
	r = NewReader(struct{ io.Reader }{bytes.NewReader(cf.body)}, cf.syntax, WithStopAt(dicom.PixelData))
	if _, err := r.ReadDataset(); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r.Remaining())
	if !bytes.Equal(rest, cf.body[r.Offset():]) || !bytes.HasPrefix(rest, tag[:]) {
		t.Errorf("Remaining() returns %d bytes starting % x", len(rest), head(rest))
	}
}

func TestBulkThreshold(t *testing.T) {
	for _, cf := range corpus(t) {
		if cf.syntax.Deflated {
			continue
		}
		t.Run(cf.name, func(t *testing.T) {
			full, err := ReadDataset(cf.body, cf.syntax)
			if err != nil {
				return
			}
			sources := map[string]func() (*dicom.Dataset, error){
				"slice": func() (*dicom.Dataset, error) {
					return ReadDataset(cf.body, cf.syntax, WithBulkThreshold(256, cf.offset))
				},
				"seeker": func() (*dicom.Dataset, error) {
					return NewReader(bytes.NewReader(cf.body), cf.syntax, WithBulkThreshold(256, cf.offset)).ReadDataset()
				},
				"reader": func() (*dicom.Dataset, error) {
					return NewReader(struct{ io.Reader }{bytes.NewReader(cf.body)}, cf.syntax, WithBulkThreshold(256, cf.offset)).ReadDataset()
				},
			}
			for name, read := range sources {
				ds, err := read()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkBulk(t, cf, ds, full)
			}
			// Written back with a loader, the data set equals the full read.
			ds, _ := ReadDataset(cf.body, cf.syntax, WithBulkThreshold(256, cf.offset))
			var out bytes.Buffer
			w := NewWriter(&out, cf.syntax, WithBulkLoader(func(e *dicom.Element) (io.Reader, error) {
				return bytes.NewReader(cf.file[e.Bulk.Offset : e.Bulk.Offset+e.Bulk.Length]), nil
			}))
			if err := w.WriteDataset(ds); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := ReadDataset(out.Bytes(), cf.syntax)
			if err != nil {
				t.Fatal(err)
			}
			sameDataset(t, "loaded", got, full)
		})
	}
}

// checkBulk compares the bytes at each BulkRef with the value read in full.
func checkBulk(t *testing.T, cf corpusFile, ds, full *dicom.Dataset) {
	t.Helper()
	for e := range ds.All() {
		f := full.Get(e.Tag)
		if f == nil {
			t.Fatalf("%s missing in the full read", e.Tag)
		}
		for i := range e.Items {
			checkBulk(t, cf, e.Items[i], f.Items[i])
		}
		if e.Bulk == nil {
			continue
		}
		b := cf.file[e.Bulk.Offset : e.Bulk.Offset+e.Bulk.Length]
		if e.Bulk.Fragmented {
			want := appendFragmentItems(nil, f.Fragments)
			if !bytes.Equal(b, want) {
				t.Errorf("%s: fragmented bulk bytes differ", e.Tag)
			}
			continue
		}
		if cf.syntax.BigEndian {
			b = append([]byte(nil), b...)
			swap(b, e.VR.ByteWidth())
		}
		if !bytes.Equal(b, f.Value) {
			t.Errorf("%s: bulk bytes at %d differ from the value", e.Tag, e.Bulk.Offset)
		}
	}
}

// appendFragmentItems encodes fragments as items and a sequence delimiter
// (little endian).
func appendFragmentItems(dst []byte, f *dicom.Fragments) []byte {
	c := encoder{buf: dst}
	c.itemHeader(mode{}, dicom.ItemTag, uint32(len(f.OffsetTable)))
	c.raw(f.OffsetTable)
	for _, b := range f.Items {
		c.itemHeader(mode{}, dicom.ItemTag, uint32(len(b)))
		c.raw(b)
	}
	c.itemHeader(mode{}, dicom.SequenceDelimitationItemTag, 0)
	return c.buf
}
