package codec

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/internal/peertest"
)

const (
	tagWaveformSeq        dicom.Tag = 0x54000100
	tagIconImageSeq       dicom.Tag = 0x00880200
	tagModalityLUTSeq     dicom.Tag = 0x00283000
	tagRealWorldValueSeq  dicom.Tag = 0x00409096
	tagPixelRepresentaton dicom.Tag = 0x00280103
)

// TestImplicitMultiVR checks the VR given in Implicit VR to elements whose
// dictionary entry allows several VRs; the expectations were taken from
// dcmtk 3.6.7 (dcmconv +ti, then +te, of files made by dump2dcm), which
// TestImplicitMultiVRMatchesDcmtk re-checks when dcmtk is installed.
func TestImplicitMultiVR(t *testing.T) {
	pr := func(v byte) *enc { return implicitLE().el(tagPixelRepresentaton, "", 2, v, 0) }
	tests := []struct {
		name string
		in   *enc
		path []dicom.Tag // sequence, then the element in its first item; or the element alone
		want dicom.VR
	}{
		{name: "pixel data", in: implicitLE().el(tagPixelData, "", 4, 1, 2, 3, 4), path: []dicom.Tag{tagPixelData}, want: dicom.OW},
		{name: "overlay data", in: implicitLE().el(0x60003000, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x60003000}, want: dicom.OW},
		{name: "overlay data of another group", in: implicitLE().el(0x60023000, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x60023000}, want: dicom.OW},
		{name: "waveform data", in: implicitLE().el(tagWaveformSeq, "", 20).item(12).el(0x54001010, "", 4, 1, 2, 3, 4),
			path: []dicom.Tag{tagWaveformSeq, 0x54001010}, want: dicom.OB},
		{name: "channel minimum value", in: implicitLE().el(tagWaveformSeq, "", 18).item(10).el(0x54000110, "", 2, 1, 0),
			path: []dicom.Tag{tagWaveformSeq, 0x54000110}, want: dicom.OB},
		{name: "curve data (retired)", in: implicitLE().el(0x50003000, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x50003000}, want: dicom.OB},
		{name: "audio sample data (retired)", in: implicitLE().el(0x5000200c, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x5000200c}, want: dicom.OB},
		{name: "variable pixel data (retired)", in: implicitLE().el(0x7f000010, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x7f000010}, want: dicom.OB},
		{name: "dark current counts", in: implicitLE().el(0x00143050, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x00143050}, want: dicom.OB},
		{name: "LUT data (US or OW)", in: implicitLE().el(tagModalityLUTSeq, "", 18).item(10).el(0x00283006, "", 2, 1, 0),
			path: []dicom.Tag{tagModalityLUTSeq, 0x00283006}, want: dicom.OW},
		{name: "gray LUT data (US or SS or OW, retired)", in: pr(1).el(0x00281200, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x00281200}, want: dicom.OW},
		{name: "red palette LUT data (OW only)", in: implicitLE().el(0x00281201, "", 4, 1, 2, 3, 4), path: []dicom.Tag{0x00281201}, want: dicom.OW},
		{name: "smallest pixel value without pixel representation", in: implicitLE().el(0x00280106, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280106}, want: dicom.US},
		{name: "smallest pixel value, unsigned", in: pr(0).el(0x00280106, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280106}, want: dicom.US},
		{name: "smallest pixel value, signed", in: pr(1).el(0x00280106, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280106}, want: dicom.SS},
		{name: "pixel padding value, signed", in: pr(1).el(0x00280120, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280120}, want: dicom.SS},
		{name: "histogram first bin, signed", in: pr(1).el(0x00603004, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00603004}, want: dicom.SS},
		{name: "real world first value mapped, signed", in: pr(1).el(0x00409216, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00409216}, want: dicom.SS},
		{name: "palette descriptor stays US when signed", in: pr(1).el(0x00281101, "", 6, 0, 1, 0, 0, 16, 0), path: []dicom.Tag{0x00281101}, want: dicom.US},
		{name: "perimeter value stays US when signed", in: pr(1).el(0x00280071, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280071}, want: dicom.US},
		{name: "smallest valid pixel value (retired) stays US when signed", in: pr(1).el(0x00280104, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280104}, want: dicom.US},
		{name: "LUT descriptor in an item with its own pixel representation", in: implicitLE().el(tagModalityLUTSeq, "", 32).item(24).
			el(tagPixelRepresentaton, "", 2, 1, 0).el(0x00283002, "", 6, 0, 1, 0, 0, 16, 0), path: []dicom.Tag{tagModalityLUTSeq, 0x00283002}, want: dicom.SS},
		{name: "item does not inherit the top-level sign", in: pr(1).el(tagRealWorldValueSeq, "", 18).item(10).el(0x00409216, "", 2, 1, 0),
			path: []dicom.Tag{tagRealWorldValueSeq, 0x00409216}, want: dicom.US},
		{name: "top level does not inherit an item's sign", in: implicitLE().el(0x00081140, "", 18).item(10).el(tagPixelRepresentaton, "", 2, 1, 0).
			el(0x00280106, "", 2, 0xff, 0xff), path: []dicom.Tag{0x00280106}, want: dicom.US},
		{name: "icon image item with its own pixel representation", in: pr(0).el(tagIconImageSeq, "", 28).item(20).el(tagPixelRepresentaton, "", 2, 1, 0).
			el(0x00280106, "", 2, 0xff, 0xff), path: []dicom.Tag{tagIconImageSeq, 0x00280106}, want: dicom.SS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ReadDataset(tc.in.bytes(), ImplicitVRLittleEndian)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range tc.path[:len(tc.path)-1] {
				items := ds.Items(tag)
				if len(items) == 0 {
					t.Fatalf("no item in %s", tag)
				}
				ds = items[0]
			}
			e := ds.Get(tc.path[len(tc.path)-1])
			if e == nil {
				t.Fatalf("%s not read", tc.path[len(tc.path)-1])
			}
			if e.VR != tc.want {
				t.Errorf("%s read as %s, want %s", e.Tag, e.VR, tc.want)
			}
		})
	}
}

// TestImplicitMultiVRMatchesDcmtk writes every dictionary element with
// several VRs in Implicit VR (at the top level with Pixel Representation 1,
// and in items with 0, 1 and no Pixel Representation), has dcmconv rewrite
// the data set in Explicit VR, and checks that each element gets the VR
// dcmtk chose.
func TestImplicitMultiVRMatchesDcmtk(t *testing.T) {
	peertest.Need(t, "dcmconv")
	var multi []dicom.Tag
	for _, d := range dicom.DictionaryEntries() {
		if len(d.VRs) > 1 && d.Tag != tagPixelRepresentaton {
			multi = append(multi, d.Tag)
		}
	}
	multi = append(multi, 0x60023000, 0x50023000)
	sort.Slice(multi, func(i, j int) bool { return multi[i] < multi[j] })
	// elements appends the multi-VR elements below limit, with Pixel
	// Representation pr in its place (none when pr < 0).
	elements := func(f *enc, pr int, limit dicom.Tag) *enc {
		done := pr < 0
		for _, tag := range multi {
			if tag >= limit {
				break
			}
			if tag > tagPixelRepresentaton && !done {
				f.el(tagPixelRepresentaton, "", 2, byte(pr), 0)
				done = true
			}
			f.el(tag, "", 6, 0, 1, 0, 0, 16, 0)
		}
		return f
	}
	top := elements(implicitLE(), 1, 0x00880000)
	// Items with no, unsigned and signed Pixel Representation, in public
	// sequences that sort between the top-level elements.
	for _, tc := range []struct {
		seq dicom.Tag
		pr  int
	}{{tagIconImageSeq, -1}, {0x04000550, 0}, {0x04000561, 1}} {
		b := elements(implicitLE(), tc.pr, tagPixelData).bytes()
		top.el(tc.seq, "", uint32(len(b)+8)).item(uint32(len(b))).raw(b...)
	}
	for _, tag := range multi {
		if tag >= 0x00880000 {
			top.el(tag, "", 6, 0, 1, 0, 0, 16, 0)
		}
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "implicit.raw"), filepath.Join(dir, "explicit.raw")
	if err := os.WriteFile(in, top.bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command("dcmconv", "-q", "-f", "-ti", "-F", "+te", in, out).CombinedOutput(); err != nil {
		t.Fatalf("dcmconv: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ReadDataset(b, ExplicitVRLittleEndian)
	if err != nil {
		t.Fatalf("reading dcmconv's output: %v", err)
	}
	ours, err := ReadDataset(top.bytes(), ImplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	flatten(ours, &got)
	flatten(theirs, &want)
	if len(got) != len(want) {
		t.Fatalf("%d elements, dcmconv wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("element %d: got %s, dcmtk %s", i, got[i], want[i])
		}
	}
}
