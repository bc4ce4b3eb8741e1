package part10

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/internal/peertest"
)

func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(peertest.TestData(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available", rel)
	}
	return p
}

func TestReadDecodesCharset(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{file: "charset/chrH31.dcm", want: "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{file: "charset/chrI2.dcm", want: "Hong^Gildong=洪^吉洞=홍^길동"},
		{file: "charset/chrX2.dcm", want: "Wang^XiaoDong=王^小东="},
		{file: "charset/chrFren.dcm", want: "Buc^Jérôme"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(corpusFile(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Dataset.String(dicom.PatientName); got != tc.want {
				t.Errorf("PatientName = %q, want %q", got, tc.want)
			}
		})
	}
}

// streamingCorpus is a file of each syntax the readers handle differently,
// with and without File Meta Information.
var streamingCorpus = []string{
	"transfer-syntax/explicit-vr-le/CT_small.dcm",
	"transfer-syntax/implicit-vr-le/MR_small_implicit.dcm",
	"transfer-syntax/explicit-vr-be/MR_small_bigendian.dcm",
	"transfer-syntax/deflated-explicit-vr-le/image_dfl.dcm",
	"no-meta/ExplVR_BigEndNoMeta.dcm",
	"no-meta/ExplVR_LitEndNoMeta.dcm",
}

func TestStreamingMatchesBytes(t *testing.T) {
	for _, rel := range streamingCorpus {
		t.Run(rel, func(t *testing.T) {
			path := corpusFile(t, rel)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ReadBytes(b, WithoutCharset())
			if err != nil {
				t.Fatal(err)
			}
			// A plain io.Reader (no Seek) and the file itself (seekable).
			got, err := Read(struct{ *bytes.Reader }{bytes.NewReader(b)}, WithoutCharset())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			compareLines(t, "stream", ourElements(got.Dataset, 0, nil, nil), ourElements(want.Dataset, 0, nil, nil))
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			got, err = Read(fh, WithoutCharset())
			if err != nil {
				t.Fatalf("Read(file): %v", err)
			}
			compareLines(t, "file", ourElements(got.Dataset, 0, nil, nil), ourElements(want.Dataset, 0, nil, nil))
			if got.Syntax != want.Syntax || got.DatasetOffset != want.DatasetOffset {
				t.Errorf("syntax/offset %v/%d, want %v/%d", got.Syntax, got.DatasetOffset, want.Syntax, want.DatasetOffset)
			}
		})
	}
}

func TestHeaderOnlyAndBulk(t *testing.T) {
	path := corpusFile(t, "transfer-syntax/explicit-vr-le/CT_small.dcm")
	full, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	head, err := ReadFile(path, WithStopAtPixelData())
	if err != nil {
		t.Fatal(err)
	}
	if head.Dataset.Contains(dicom.PixelData) {
		t.Error("header-only read holds Pixel Data")
	}
	wantHead := 0
	for e := range full.Dataset.All() {
		if e.Tag < dicom.PixelData {
			wantHead++
		}
	}
	if head.Dataset.Len() != wantHead {
		t.Errorf("header-only read has %d elements, want %d", head.Dataset.Len(), wantHead)
	}
	bulk, err := ReadFile(path, WithBulkThreshold(1024))
	if err != nil {
		t.Fatal(err)
	}
	pd := bulk.Dataset.Get(dicom.PixelData)
	if pd == nil || pd.Bulk == nil {
		t.Fatalf("Pixel Data not left as a bulk reference: %+v", pd)
	}
	raw, _ := os.ReadFile(path)
	if got, want := raw[pd.Bulk.Offset:pd.Bulk.Offset+pd.Bulk.Length], full.Dataset.Bytes(dicom.PixelData); !bytes.Equal(got, want) {
		t.Error("bulk reference does not point at the pixel data")
	}
	// Writing the bulk-referenced data set with a loader gives the same file
	// as writing the fully read one.
	fh, _ := os.Open(path)
	defer fh.Close()
	var a, b bytes.Buffer
	if err := Write(&a, full); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, bulk, codec.WithBulkLoader(BulkLoader(fh))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("writing from bulk references differs from writing the loaded data set")
	}
}

func TestWriteMeta(t *testing.T) {
	ds := &dicom.Dataset{}
	ds.Put(dicom.Element{Tag: dicom.SOPClassUID, VR: dicom.UI, Value: dicom.PadValue([]byte("1.2.840.10008.5.1.4.1.1.7"), dicom.UI)})
	ds.Put(dicom.Element{Tag: dicom.SOPInstanceUID, VR: dicom.UI, Value: dicom.PadValue([]byte("1.2.3.4"), dicom.UI)})
	var buf bytes.Buffer
	if err := Write(&buf, &File{Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checks := map[dicom.Tag]string{
		0x00020002: "1.2.840.10008.5.1.4.1.1.7",
		0x00020003: "1.2.3.4",
		0x00020010: codec.ExplicitVRLittleEndian.UID,
		0x00020012: uid.ImplementationClassUID,
		0x00020013: uid.ImplementationVersionName,
	}
	for tag, want := range checks {
		if got := f.Meta.String(tag); got != want {
			t.Errorf("%s = %q, want %q", tag, got, want)
		}
	}
	gl, _ := f.Meta.Int(0x00020000)
	if want := int64(buf.Len()) - 132 - 12 - int64(f.Dataset.Len()*0) - datasetLen(t, f); gl != want {
		t.Errorf("group length %d, want %d", gl, want)
	}
	if f.Preamble == nil || len(f.Preamble) != PreambleLength {
		t.Errorf("preamble %d bytes", len(f.Preamble))
	}
}

func datasetLen(t *testing.T, f *File) int64 {
	t.Helper()
	var n int64
	for e := range f.Dataset.All() {
		l, err := codec.EncodedLength(e, f.Syntax)
		if err != nil {
			t.Fatal(err)
		}
		n += l
	}
	return n
}

func TestNotDICOM(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":         nil,
		"preamble only": append(make([]byte, 128), "DICM"...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadBytes(b); !errors.Is(err, ErrNotDICOM) {
				t.Errorf("ReadBytes error %v, want ErrNotDICOM", err)
			}
		})
	}
}

// TestLongMetaFromFile reads meta information longer than the first small
// read of a seekable source.
func TestLongMetaFromFile(t *testing.T) {
	ds := &dicom.Dataset{}
	ds.Put(dicom.Element{Tag: dicom.SOPClassUID, VR: dicom.UI, Value: dicom.PadValue([]byte("1.2.840.10008.5.1.4.1.1.7"), dicom.UI)})
	ds.Put(dicom.Element{Tag: dicom.SOPInstanceUID, VR: dicom.UI, Value: dicom.PadValue([]byte("1.2.3.4"), dicom.UI)})
	meta := NewMeta("1.2.840.10008.5.1.4.1.1.7", "1.2.3.4", codec.ExplicitVRLittleEndian.UID)
	// A 3000-byte private-information value (0002,0102) makes the meta group
	// longer than the first read.
	meta.Put(dicom.Element{Tag: 0x00020100, VR: dicom.UI, Value: dicom.PadValue([]byte("1.2.3"), dicom.UI)})
	meta.Put(dicom.Element{Tag: 0x00020102, VR: dicom.OB, Value: bytes.Repeat([]byte{7}, 3000)})
	path := filepath.Join(t.TempDir(), "long-meta.dcm")
	if err := WriteFile(path, &File{Meta: meta, Dataset: ds}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path, WithStopAtPixelData())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Meta.Bytes(0x00020102)); got != 3000 {
		t.Errorf("(0002,0102) holds %d bytes, want 3000", got)
	}
	if got := f.Dataset.String(dicom.SOPInstanceUID); got != "1.2.3.4" {
		t.Errorf("SOPInstanceUID = %q", got)
	}
}

// TestBytesMatchesFileWithOptions: ReadBytes reads in place with the
// streaming options too (stop before Pixel Data, bulk references), and gets
// what ReadFile streams from the file.
func TestBytesMatchesFileWithOptions(t *testing.T) {
	for _, rel := range streamingCorpus {
		path := corpusFile(t, rel)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, opts := range map[string][]Option{
			"stop": {WithoutCharset(), WithStopAtPixelData()},
			"bulk": {WithoutCharset(), WithBulkThreshold(64)},
		} {
			want, err := ReadFile(path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadBytes(b, opts...)
			if err != nil {
				t.Fatalf("%s %s: ReadBytes: %v", rel, name, err)
			}
			compareLines(t, rel+" "+name, ourElements(got.Dataset, 0, nil, nil), ourElements(want.Dataset, 0, nil, nil))
			for _, tag := range []dicom.Tag{dicom.PixelData} {
				g, w := got.Dataset.Get(tag), want.Dataset.Get(tag)
				if (g == nil) != (w == nil) || g != nil && (g.Bulk == nil) != (w.Bulk == nil) || g != nil && g.Bulk != nil && *g.Bulk != *w.Bulk {
					t.Errorf("%s %s: Pixel Data %+v, want %+v", rel, name, g, w)
				}
			}
		}
	}
}
