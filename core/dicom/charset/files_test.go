package charset

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/peertest"
)

// charsetDir returns the folder of the character set sample files: charset/
// in the shared corpus, or pydicom's charset_files beside its test_files.
func charsetDir(t *testing.T) string {
	t.Helper()
	root := peertest.TestData(t)
	for _, dir := range []string{filepath.Join(root, "charset"), filepath.Join(root, "..", "charset_files")} {
		if _, err := os.Stat(filepath.Join(dir, "chrH31.dcm")); err == nil {
			return dir
		}
	}
	t.Skipf("no character set sample files (chrH31.dcm) under %s", root)
	return ""
}

// findValue returns the value of the first element with tag t and VR vr in the
// Explicit VR Little Endian bytes of a file, found by its header bytes, and
// the offset of that header; it is a test helper, not a parser.
func findValue(b []byte, t dicom.Tag, vr dicom.VR) ([]byte, int, bool) {
	var hdr [6]byte
	binary.LittleEndian.PutUint16(hdr[0:], t.Group())
	binary.LittleEndian.PutUint16(hdr[2:], t.Element())
	copy(hdr[4:], vr.String())
	i := bytes.Index(b, hdr[:])
	if i < 0 || i+8 > len(b) {
		return nil, 0, false
	}
	n := int(binary.LittleEndian.Uint16(b[i+6:]))
	if i+8+n > len(b) {
		return nil, 0, false
	}
	return b[i+8 : i+8+n], i, true
}

// TestSampleFiles checks that the table of samples holds the bytes of the
// files, with the Specific Character Set in force where each value stands.
func TestSampleFiles(t *testing.T) {
	dir := charsetDir(t)
	for _, tc := range samples {
		t.Run(tc.file+"/"+tc.tag.String(), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			raw, at, ok := findValue(b, tc.tag, tc.vr)
			if !ok {
				t.Fatalf("%s %s not found", tc.tag, tc.vr)
			}
			if string(raw) != tc.raw {
				t.Errorf("value = %q, want %q", raw, tc.raw)
			}
			// The last Specific Character Set before the value is in force.
			var cs []byte
			for off := 0; ; {
				v, i, found := findValue(b[off:at], dicom.Tag(0x00080005), dicom.CS)
				if !found {
					break
				}
				cs, off = v, off+i+8
			}
			terms := strings.Split(strings.TrimRight(string(cs), " \x00"), `\`)
			for i := range terms {
				terms[i] = strings.TrimSpace(terms[i])
			}
			if strings.Join(terms, `\`) != strings.Join(tc.terms, `\`) {
				t.Errorf("Specific Character Set = %q, want %q", terms, tc.terms)
			}
			got, err := mustNew(t, terms...).Decode(tc.vr, raw)
			if err != nil || got != tc.want {
				t.Errorf("Decode() = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}
