package codec

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// syntheticCT returns the CT_small header with a Pixel Data value of size
// bytes (a 512x512 16-bit slice is 512 KiB).
func syntheticCT(b *testing.B, size int) []byte {
	b.Helper()
	cf := ctFile(b)
	ds, err := ReadDataset(cf.body, cf.syntax, WithStopAt(dicom.PixelData))
	if err != nil {
		b.Fatal(err)
	}
	out, err := AppendDataset(nil, ds, ExplicitVRLittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	px := make([]byte, size)
	for i := range px {
		px[i] = byte(i * 7)
	}
	pd := dicom.NewDataset(1)
	pd.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OW, Value: px})
	out, err = AppendDataset(out, pd, ExplicitVRLittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkReadCT(b *testing.B) {
	cf := ctFile(b)
	inputs := []struct {
		name string
		in   []byte
	}{
		{"CT_small", cf.body},
		{"512x512x16", syntheticCT(b, 512*512*2)},
	}
	for _, in := range inputs {
		b.Run(in.name+"/bytes", func(b *testing.B) {
			b.SetBytes(int64(len(in.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadDataset(in.in, ExplicitVRLittleEndian); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/reader", func(b *testing.B) {
			b.SetBytes(int64(len(in.in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewReader(bytes.NewReader(in.in), ExplicitVRLittleEndian).ReadDataset(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadHeaderOnly(b *testing.B) {
	big := syntheticCT(b, 200<<20)
	path := filepath.Join(b.TempDir(), "big.dcm")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	inputs := []struct {
		name string
		in   []byte
	}{
		{"512x512x16", syntheticCT(b, 512*512*2)},
		{"200MB", big},
	}
	for _, in := range inputs {
		b.Run(in.name+"/bytes", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadDataset(in.in, ExplicitVRLittleEndian, WithStopAt(dicom.PixelData)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/reader", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewReader(bytes.NewReader(in.in), ExplicitVRLittleEndian, WithStopAt(dicom.PixelData)).ReadDataset(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("200MB/file", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if _, err := NewReader(f, ExplicitVRLittleEndian, WithStopAt(dicom.PixelData)).ReadDataset(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("200MB/file-bulk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				b.Fatal(err)
			}
			if _, err := NewReader(f, ExplicitVRLittleEndian, WithBulkThreshold(4096, 0)).ReadDataset(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkWrite(b *testing.B) {
	in := syntheticCT(b, 512*512*2)
	ds, err := ReadDataset(in, ExplicitVRLittleEndian)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []Syntax{ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian} {
		b.Run(s.UID+"/append", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			buf := make([]byte, 0, len(in)+4096)
			for b.Loop() {
				if _, err := AppendDataset(buf[:0], ds, s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.UID+"/writer", func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				w := NewWriter(io.Discard, s)
				if err := w.WriteDataset(ds); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
