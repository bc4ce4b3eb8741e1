package part10

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/internal/peertest"
)

// FuzzReadBytes feeds arbitrary bytes to the Part 10 reader. Rejecting is
// fine; panicking, hanging or allocating without bound is not. A file that
// reads must read the same through the streaming reader, and must survive
// write → read with the same elements.
func FuzzReadBytes(f *testing.F) {
	if root, err := peertest.CorpusDir(); err == nil {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if info, err := d.Info(); err == nil && info.Size() <= 64<<10 {
				if b, err := os.ReadFile(p); err == nil {
					f.Add(b)
				}
			}
			return nil
		})
	}
	f.Add(append(make([]byte, 128), "DICM"...))
	f.Add([]byte("DICM\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\x00\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := ReadBytes(b, WithoutCharset())
		// The three ways in: a slice, a sized stream (io.Seeker) and a plain
		// stream of unknown length must agree element for element.
		sfile, serr := Read(bytes.NewReader(b), WithoutCharset())
		pfile, perr := Read(struct{ io.Reader }{bytes.NewReader(b)}, WithoutCharset())
		if (err == nil) != (serr == nil) || (err == nil) != (perr == nil) {
			t.Fatalf("ReadBytes error %v, Read (sized) error %v, Read (plain) error %v", err, serr, perr)
		}
		if err != nil {
			return
		}
		sameFile(t, "sized stream", sfile, file)
		sameFile(t, "plain stream", pfile, file)
		if fmt.Sprint(sfile.Problems) != fmt.Sprint(file.Problems) {
			t.Fatalf("problems differ:\nsized stream %v\nslice        %v", sfile.Problems, file.Problems)
		}
		// A header-only read is the full read up to Pixel Data (when the
		// tags are in order: it stops at the first one past it).
		hfile, err := ReadBytes(b, WithoutCharset(), WithStopAtPixelData())
		if err != nil && !errors.Is(err, ErrNotDICOM) {
			t.Fatalf("header-only read failed: %v", err)
		}
		if err == nil && !strings.Contains(fmt.Sprint(file.Problems), "out of order") {
			if d := datasetDiff(hfile.Dataset, before(file.Dataset, tagPixelData), false); d != "" {
				t.Fatalf("header-only read: %s", d)
			}
		}
		// A read that leaves values over 16 bytes in b reads the same
		// elements, with Bulk references in place of the long values.
		bfile, err := ReadBytes(b, WithoutCharset(), WithBulkThreshold(16))
		if err != nil {
			t.Fatalf("read with bulk threshold failed: %v", err)
		}
		if len(bfile.Problems) != len(file.Problems) || bfile.Dataset.Len() != file.Dataset.Len() {
			t.Fatalf("read with bulk threshold: %d elements, %v; want %d, %v", bfile.Dataset.Len(), bfile.Problems, file.Dataset.Len(), file.Problems)
		}
		if file.Syntax.Encapsulated && file.Dataset.Get(tagPixelData) != nil && file.Dataset.Get(tagPixelData).Fragments == nil {
			return // native Pixel Data under an encapsulated syntax cannot be rewritten as is
		}
		var buf bytes.Buffer
		if err := Write(&buf, file); err != nil {
			return // lenient reads may hold values no writer can encode (e.g. a 70 KB SH)
		}
		back, err := ReadBytes(buf.Bytes(), WithoutCharset())
		if err != nil {
			t.Fatalf("written file does not read back: %v", err)
		}
		// Write leaves out group 0002 elements found in the data set (a file
		// without meta information may hold some); so does the comparison.
		// The Writer pads odd values by one byte.
		if d := datasetDiff(back.Dataset, withoutGroup2(file.Dataset), true); d != "" {
			t.Fatalf("round trip: %s", d)
		}
		// Written with its bulk values loaded from b, the bulk read gives
		// the same data set. (Not always the same bytes: encapsulated pixel
		// data is copied as found, where a value in memory has its odd
		// fragments padded; and not the same meta information when the file
		// has none: the SOP Class and Instance UIDs that Write copies into it
		// may be bulk references, which it leaves out.)
		var bbuf bytes.Buffer
		if err := Write(&bbuf, bfile, codec.WithBulkLoader(BulkLoader(bytes.NewReader(b)))); err != nil {
			t.Fatalf("writing the bulk read failed: %v", err)
		}
		bback, err := ReadBytes(bbuf.Bytes(), WithoutCharset())
		if err != nil {
			t.Fatalf("written bulk read does not read back: %v", err)
		}
		if d := datasetDiff(back.Dataset, bback.Dataset, true); d != "" {
			t.Fatalf("bulk read written differs: %s", d)
		}
	})
}

// before returns the top-level elements of ds whose tags are below t.
func before(ds *dicom.Dataset, t dicom.Tag) *dicom.Dataset {
	out := dicom.NewDataset(ds.Len())
	for e := range ds.All() {
		if e.Tag < t {
			out.Append(*e)
		}
	}
	return out
}

// sameFile fails unless got has the syntax, meta information and data set of
// want, byte for byte.
func sameFile(t *testing.T, name string, got, want *File) {
	t.Helper()
	if got.Syntax != want.Syntax || got.DatasetOffset != want.DatasetOffset || !bytes.Equal(got.Preamble, want.Preamble) {
		t.Fatalf("%s: syntax %+v at %d, slice has %+v at %d", name, got.Syntax, got.DatasetOffset, want.Syntax, want.DatasetOffset)
	}
	if d := datasetDiff(got.Meta, want.Meta, false); d != "" {
		t.Fatalf("%s: meta information: %s", name, d)
	}
	if d := datasetDiff(got.Dataset, want.Dataset, false); d != "" {
		t.Fatalf("%s: data set: %s", name, d)
	}
}

// datasetDiff describes the first difference between two data sets, or
// returns "" when they hold the same elements with the same bytes (when
// padded, an odd-length value of want may have gained a pad byte in got).
func datasetDiff(got, want *dicom.Dataset, padded bool) string {
	if got.Len() != want.Len() {
		return fmt.Sprintf("%d elements, want %d (%v, want %v)", got.Len(), want.Len(), tagList(got), tagList(want))
	}
	for i := 0; i < want.Len(); i++ {
		g, w := got.At(i), want.At(i)
		if g.Tag != w.Tag || g.VR != w.VR || g.UndefinedLength != w.UndefinedLength {
			return fmt.Sprintf("%s %s (undefined %v), want %s %s (undefined %v)", g.Tag, g.VR, g.UndefinedLength, w.Tag, w.VR, w.UndefinedLength)
		}
		if !sameBytes(g.Value, w.Value, padded) || (g.Value == nil) != (w.Value == nil) {
			return fmt.Sprintf("%s: value % x, want % x", w.Tag, g.Value, w.Value)
		}
		if (g.Items == nil) != (w.Items == nil) || len(g.Items) != len(w.Items) {
			return fmt.Sprintf("%s: %d items, want %d", w.Tag, len(g.Items), len(w.Items))
		}
		for j := range w.Items {
			if d := datasetDiff(g.Items[j], w.Items[j], padded); d != "" {
				return fmt.Sprintf("%s item %d: %s", w.Tag, j, d)
			}
		}
		if (g.Fragments == nil) != (w.Fragments == nil) || (g.Bulk == nil) != (w.Bulk == nil) {
			return fmt.Sprintf("%s: fragments or bulk reference differ", w.Tag)
		}
		if w.Fragments != nil {
			if !sameBytes(g.Fragments.OffsetTable, w.Fragments.OffsetTable, padded) || len(g.Fragments.Items) != len(w.Fragments.Items) {
				return fmt.Sprintf("%s: fragments differ", w.Tag)
			}
			for j := range w.Fragments.Items {
				if !sameBytes(g.Fragments.Items[j], w.Fragments.Items[j], padded) {
					return fmt.Sprintf("%s: fragment %d differs", w.Tag, j)
				}
			}
		}
	}
	return ""
}

// withoutGroup2 returns ds without its top-level group 0002 elements.
func withoutGroup2(ds *dicom.Dataset) *dicom.Dataset {
	out := dicom.NewDataset(ds.Len())
	for e := range ds.All() {
		if e.Tag.Group() != 2 {
			out.Append(*e)
		}
	}
	return out
}

func tagList(ds *dicom.Dataset) []dicom.Tag {
	var ts []dicom.Tag
	for e := range ds.All() {
		ts = append(ts, e.Tag)
	}
	return ts
}

// sameBytes reports whether got equals want, or, when padded, want of odd
// length followed by one pad byte.
func sameBytes(got, want []byte, padded bool) bool {
	if padded && len(want)&1 == 1 && len(got) == len(want)+1 {
		got = got[:len(want)]
	}
	return bytes.Equal(got, want)
}
