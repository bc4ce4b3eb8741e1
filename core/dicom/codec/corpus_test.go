package codec

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// testdataDir returns the DICOM test corpus: ../shared/testdata/dicom next to
// the repository root, else pydicom's test files, else the test is skipped.
func testdataDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
	for _, d := range []string{
		filepath.Join(dir, "..", "shared", "testdata", "dicom"),
		"/usr/lib/python3/dist-packages/pydicom/data/test_files",
	} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	tb.Skip("no DICOM test corpus: neither ../shared/testdata/dicom nor pydicom's test files exist")
	return ""
}

// corpusFile is one test file split into its data set and syntax.
type corpusFile struct {
	name   string // path relative to the corpus
	body   []byte // the data set (after the File Meta Information)
	offset int64  // offset of body in the file
	syntax Syntax
	file   []byte
}

// corpus loads every DICOM file of the test corpus.
func corpus(tb testing.TB) []corpusFile {
	tb.Helper()
	root := testdataDir(tb)
	var out []corpusFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".txt", ".md", ".json", ".xml", ".py", ".gz", ".bz2", ".zip", ".jpg", ".png", ".j2k", ".dump":
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		cf, ok := splitPart10(b)
		if !ok {
			return nil
		}
		cf.name, cf.file = rel, b
		out = append(out, cf)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(out) == 0 {
		tb.Skip("test corpus holds no DICOM files")
	}
	return out
}

// splitPart10 parses the Part 10 wrapper minimally: preamble, "DICM", group
// 0002 in Explicit VR LE, (0002,0010). Without a preamble it guesses the
// syntax from the first bytes.
func splitPart10(b []byte) (corpusFile, bool) {
	pos := 0
	if len(b) >= 132 && string(b[128:132]) == "DICM" {
		pos = 132
	} else if len(b) < 8 {
		return corpusFile{}, false
	}
	syntax, haveTS := ExplicitVRLittleEndian, false
	for pos+8 <= len(b) && binary.LittleEndian.Uint16(b[pos:]) == 2 {
		el := binary.LittleEndian.Uint16(b[pos+2:])
		vr, ok := dicom.LookupVR(b[pos+4], b[pos+5])
		if !ok {
			break
		}
		var n, hdr int
		if vr.HasLongLength() {
			if pos+12 > len(b) {
				return corpusFile{}, false
			}
			n, hdr = int(binary.LittleEndian.Uint32(b[pos+8:])), 12
		} else {
			n, hdr = int(binary.LittleEndian.Uint16(b[pos+6:])), 8
		}
		if n < 0 || pos+hdr+n > len(b) {
			return corpusFile{}, false
		}
		if el == 0x0010 {
			uid := string(b[pos+hdr : pos+hdr+n])
			if s, ok := LookupSyntax(uid); ok {
				syntax = s
			}
			haveTS = true
		}
		pos += hdr + n
	}
	if !haveTS {
		if pos == 0 && !looksDICOM(b) {
			return corpusFile{}, false
		}
		if pos+6 <= len(b) {
			if _, ok := dicom.LookupVR(b[pos+4], b[pos+5]); !ok {
				syntax = ImplicitVRLittleEndian
			}
		}
	}
	return corpusFile{body: b[pos:], offset: int64(pos), syntax: syntax}, true
}

// looksDICOM reports whether a file without preamble starts like a data set:
// a small even group number.
func looksDICOM(b []byte) bool {
	g := binary.LittleEndian.Uint16(b)
	return g >= 2 && g <= 0x0010 && g&1 == 0
}

// sameDataset compares two data sets element by element (tag, VR, value,
// items, fragments), allowing the pad byte a lenient writer adds to an odd
// value, and a VR that became UN because the value outgrew a 16-bit length.
func sameDataset(t *testing.T, path string, got, want *dicom.Dataset) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Errorf("%s: %d elements, want %d", path, got.Len(), want.Len())
		return
	}
	for i := 0; i < want.Len(); i++ {
		g, w := got.At(i), want.At(i)
		p := path + "/" + w.Tag.String()
		if g.Tag != w.Tag {
			t.Errorf("%s: tag %s, want %s", path, g.Tag, w.Tag)
			return
		}
		if g.VR != w.VR && !(g.VR == dicom.UN && len(w.Value) > 0xffff) {
			t.Errorf("%s: VR %s, want %s", p, g.VR, w.VR)
		}
		gv, wv := g.Value, w.Value
		if len(wv)&1 == 1 && len(gv) == len(wv)+1 {
			gv = gv[:len(wv)]
		}
		if !bytes.Equal(gv, wv) {
			t.Errorf("%s: value % x, want % x", p, head(gv), head(wv))
		}
		if len(g.Items) != len(w.Items) {
			t.Errorf("%s: %d items, want %d", p, len(g.Items), len(w.Items))
			continue
		}
		for j := range w.Items {
			sameDataset(t, p, g.Items[j], w.Items[j])
		}
		if (g.Fragments == nil) != (w.Fragments == nil) {
			t.Errorf("%s: fragments %v, want %v", p, g.Fragments != nil, w.Fragments != nil)
		} else if w.Fragments != nil {
			if !bytes.Equal(g.Fragments.OffsetTable, w.Fragments.OffsetTable) || len(g.Fragments.Items) != len(w.Fragments.Items) {
				t.Errorf("%s: fragments differ", p)
				continue
			}
			for j := range w.Fragments.Items {
				a, b := g.Fragments.Items[j], w.Fragments.Items[j]
				if len(b)&1 == 1 && len(a) == len(b)+1 {
					a = a[:len(b)]
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s: fragment %d differs", p, j)
				}
			}
		}
	}
}

func head(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

func tagList(ds *dicom.Dataset) []dicom.Tag {
	var out []dicom.Tag
	for e := range ds.All() {
		out = append(out, e.Tag)
	}
	return out
}
