package dicom

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pacsforge/pacs/internal/peertest"
)

func TestLookupTag(t *testing.T) {
	// The sample tags of the standard tables' README, checked against every
	// source there.
	tests := []struct {
		tag     Tag
		vrs     []VR
		vm      string
		keyword string
		name    string
		retired bool
	}{
		{tag: 0x00100010, vrs: []VR{PN}, vm: "1", keyword: "PatientName", name: "Patient's Name"},
		{tag: 0x7fe00010, vrs: []VR{OB, OW}, vm: "1", keyword: "PixelData", name: "Pixel Data"},
		{tag: 0x00080005, vrs: []VR{CS}, vm: "1-n", keyword: "SpecificCharacterSet", name: "Specific Character Set"},
		{tag: 0x00280010, vrs: []VR{US}, vm: "1", keyword: "Rows", name: "Rows"},
		{tag: 0x00400275, vrs: []VR{SQ}, vm: "1", keyword: "RequestAttributesSequence", name: "Request Attributes Sequence"},
		{tag: 0x00080018, vrs: []VR{UI}, vm: "1", keyword: "SOPInstanceUID", name: "SOP Instance UID"},
		{tag: 0x00020010, vrs: []VR{UI}, vm: "1", keyword: "TransferSyntaxUID", name: "Transfer Syntax UID"},
		{tag: 0x00000100, vrs: []VR{US}, vm: "1", keyword: "CommandField", name: "Command Field"},
		{tag: 0x00080008, vrs: []VR{CS}, vm: "2-n", keyword: "ImageType", name: "Image Type"},
		{tag: 0x0020000d, vrs: []VR{UI}, vm: "1", keyword: "StudyInstanceUID", name: "Study Instance UID"},
		{tag: 0x00281050, vrs: []VR{DS}, vm: "1-n", keyword: "WindowCenter", name: "Window Center"},
		{tag: 0x00280106, vrs: []VR{US, SS}, vm: "1", keyword: "SmallestImagePixelValue", name: "Smallest Image Pixel Value"},
		{tag: 0x00080119, vrs: []VR{UC}, vm: "1", keyword: "LongCodeValue", name: "Long Code Value"},
		{tag: 0x0040a160, vrs: []VR{UT}, vm: "1", keyword: "TextValue", name: "Text Value"},
		{tag: 0x00181310, vrs: []VR{US}, vm: "4", keyword: "AcquisitionMatrix", name: "Acquisition Matrix"},
		{tag: 0x00720054, vrs: []VR{LO}, vm: "1-n", keyword: "SelectorSequencePointerPrivateCreator", name: "Selector Sequence Pointer Private Creator"},
		{tag: 0x00080054, vrs: []VR{AE}, vm: "1-n", keyword: "RetrieveAETitle", name: "Retrieve AE Title"},
		{tag: 0x00100030, vrs: []VR{DA}, vm: "1", keyword: "PatientBirthDate", name: "Patient's Birth Date"},
		{tag: 0x0040a168, vrs: []VR{SQ}, vm: "1", keyword: "ConceptCodeSequence", name: "Concept Code Sequence"},
		{tag: 0x00660040, vrs: []VR{OL}, vm: "1", keyword: "LongPrimitivePointIndexList", name: "Long Primitive Point Index List"},
		// PS3.6 gives LUT Data "US or OW", not dcmtk's generic "US or SS or OW".
		{tag: 0x00283006, vrs: []VR{US, OW}, vm: "1-n", keyword: "LUTData", name: "LUT Data"},
		{tag: 0x00281200, vrs: []VR{US, SS, OW}, vm: "1-n", keyword: "GrayLookupTableData", name: "Gray Lookup Table Data", retired: true},
		// dcmtk's internal VR "up" is UL.
		{tag: 0x00041400, vrs: []VR{UL}, vm: "1", keyword: "OffsetOfTheNextDirectoryRecord", name: "Offset of the Next Directory Record"},
		{tag: 0x00181318, vrs: []VR{DS}, vm: "1", keyword: "dBdt", name: "dB/dt"},
		{tag: 0xfffee000, vm: "1", keyword: "Item", name: "Item"},
		{tag: 0xfffee0dd, vm: "1", keyword: "SequenceDelimitationItem", name: "Sequence Delimitation Item"},
		// Retired elements keep their keyword without dcmtk's RETIRED_ prefix.
		{tag: 0x00080001, vrs: []VR{UL}, vm: "1", keyword: "LengthToEnd", name: "Length to End", retired: true},
		{tag: 0x00102160, vrs: []VR{SH}, vm: "1", keyword: "EthnicGroup", name: "Ethnic Group", retired: true},
		// DICOS and DICONDE elements.
		{tag: 0x40101001, vrs: []VR{SQ}, vm: "1", keyword: "ThreatROIVoxelSequence", name: "Threat ROI Voxel Sequence"},
		{tag: 0x00143050, vrs: []VR{OB, OW}, vm: "1", keyword: "DarkCurrentCounts", name: "Dark Current Counts"},
	}
	for _, tc := range tests {
		t.Run(tc.keyword, func(t *testing.T) {
			d, ok := LookupTag(tc.tag)
			if !ok {
				t.Fatalf("LookupTag(%v) not found", tc.tag)
			}
			wantVR := NoVR
			if len(tc.vrs) > 0 {
				wantVR = tc.vrs[0]
			}
			if d.Tag != tc.tag || d.Mask != 0xffffffff || d.VR != wantVR || !slices.Equal(d.VRs, tc.vrs) ||
				d.VM != tc.vm || d.Keyword != tc.keyword || d.Name != tc.name || d.Retired != tc.retired {
				t.Errorf("LookupTag(%v) = %+v, want VRs %v VM %s %s %q retired %t", tc.tag, d, tc.vrs, tc.vm, tc.keyword, tc.name, tc.retired)
			}
			if got, ok := LookupKeyword(tc.keyword); !ok || got != tc.tag {
				t.Errorf("LookupKeyword(%q) = %v, %t, want %v", tc.keyword, got, ok, tc.tag)
			}
			if got := tc.tag.Keyword(); got != tc.keyword {
				t.Errorf("(%v).Keyword() = %q, want %q", tc.tag, got, tc.keyword)
			}
		})
	}
}

func TestLookupTagRepeating(t *testing.T) {
	tests := []struct {
		name    string
		tag     Tag
		want    string // keyword, "" for not found
		first   Tag
		retired bool
	}{
		{name: "overlay group 6000", tag: 0x60003000, want: "OverlayData", first: 0x60003000},
		{name: "overlay group 6002", tag: 0x60023000, want: "OverlayData", first: 0x60003000},
		{name: "overlay group 60FE", tag: 0x60fe0010, want: "OverlayRows", first: 0x60000010},
		{name: "odd overlay group is private", tag: 0x60013000},
		{name: "odd overlay group 60FF", tag: 0x60ff0010},
		{name: "curve data", tag: 0x50023000, want: "CurveData", first: 0x50003000, retired: true},
		{name: "curve group 501E", tag: 0x501e0005, want: "CurveDimensions", first: 0x50000005, retired: true},
		{name: "odd curve group", tag: 0x50033000},
		{name: "variable pixel data", tag: 0x7f020010, want: "VariablePixelData", first: 0x7f000010, retired: true},
		{name: "pixel data is not variable pixel data", tag: 0x7fe00010, want: "PixelData", first: 0x7fe00010},
		{name: "source image IDs 3100", tag: 0x00203100, want: "SourceImageIDs", first: 0x00203100, retired: true},
		{name: "source image IDs 3101", tag: 0x00203101, want: "SourceImageIDs", first: 0x00203100, retired: true},
		{name: "source image IDs 31FF", tag: 0x002031ff, want: "SourceImageIDs", first: 0x00203100, retired: true},
		{name: "rows for nth order 04x0", tag: 0x00280420, want: "RowsForNthOrderCoefficients", first: 0x00280410, retired: true},
		{name: "04x0 does not hide transform label", tag: 0x00280400, want: "TransformLabel", first: 0x00280400, retired: true},
		{name: "code label 08x0", tag: 0x002808f0, want: "CodeLabel", first: 0x00280800, retired: true},
		{name: "escape triplet xxx0", tag: 0x10001230, want: "EscapeTriplet", first: 0x10000010, retired: true},
		{name: "shift table triplet xxx5", tag: 0x1000fff5, want: "ShiftTableTriplet", first: 0x10000015, retired: true},
		{name: "zonal map", tag: 0x1010abcd, want: "ZonalMap", first: 0x10100004, retired: true},
		{name: "zonal map group length", tag: 0x10100000, want: "GenericGroupLength", first: 0x10100000},
		{name: "unknown element", tag: 0x00100011 + 0x0f00},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := LookupTag(tc.tag)
			if ok != (tc.want != "") || d.Keyword != tc.want {
				t.Fatalf("LookupTag(%v) = %s, %t, want %q", tc.tag, d.Keyword, ok, tc.want)
			}
			if ok && (d.Tag != tc.first || d.Retired != tc.retired) {
				t.Errorf("LookupTag(%v) = Tag %v retired %t, want %v %t", tc.tag, d.Tag, d.Retired, tc.first, tc.retired)
			}
		})
	}
	if got, ok := LookupKeyword("OverlayData"); !ok || got != 0x60003000 {
		t.Errorf("LookupKeyword(OverlayData) = %v, %t, want (6000,3000)", got, ok)
	}
	if OverlayData != 0x60003000 || CurveData != 0x50003000 || SourceImageIDs != 0x00203100 {
		t.Errorf("repeating constants: OverlayData %v CurveData %v SourceImageIDs %v", OverlayData, CurveData, SourceImageIDs)
	}
}

// TestLookupTagMaskedIndex compares LookupTag with a linear scan of every
// repeating entry, over the groups where they live.
func TestLookupTagMaskedIndex(t *testing.T) {
	elements := []uint16{0x31ab, 0x04f3, 0x08e8, 0x1234, 0xfff5, 0x0001}
	for _, d := range dictMasked {
		elements = append(elements, d.Tag.Element())
	}
	for _, hb := range []uint16{0x00, 0x10, 0x50, 0x60, 0x7f} {
		for g := hb << 8; g <= hb<<8|0xff; g++ {
			for _, e := range elements {
				tag := NewTag(g, e)
				if tag.IsPrivate() || e == 0 || slices.Contains(dictTags, tag) {
					continue
				}
				want := ""
				for _, d := range dictMasked {
					if tag&d.Mask == d.Tag&d.Mask {
						want = d.Keyword
						break
					}
				}
				if got, _ := LookupTag(tag); got.Keyword != want {
					t.Fatalf("LookupTag(%v) = %q, linear scan %q", tag, got.Keyword, want)
				}
			}
		}
	}
}

func TestLookupTagGroupLength(t *testing.T) {
	tests := []struct {
		tag  Tag
		want string
	}{
		{tag: 0x00000000, want: "CommandGroupLength"},
		{tag: 0x00020000, want: "FileMetaInformationGroupLength"},
		{tag: 0x00080000, want: "GenericGroupLength"},
		{tag: 0x60020000, want: "GenericGroupLength"},
		{tag: 0x7fe00000, want: "GenericGroupLength"},
		{tag: 0x00090000}, // private group
		{tag: 0x00290000},
	}
	for _, tc := range tests {
		d, ok := LookupTag(tc.tag)
		if ok != (tc.want != "") || d.Keyword != tc.want {
			t.Errorf("LookupTag(%v) = %q, %t, want %q", tc.tag, d.Keyword, ok, tc.want)
			continue
		}
		if ok && (d.Tag != tc.tag || d.VR != UL || d.VM != "1") {
			t.Errorf("LookupTag(%v) = %+v, want UL 1 with the same tag", tc.tag, d)
		}
	}
}

func TestLookupMisses(t *testing.T) {
	// (0018,9445) is a "RET - See Note" row and (0018,9855) is in no source.
	for _, tag := range []Tag{0x00090010, 0x00091001, 0x00111000, 0xffffffff, 0x00100001, 0x7fe10010, 0x00189445, 0x00189855} {
		if d, ok := LookupTag(tag); ok {
			t.Errorf("LookupTag(%v) = %s, want not found", tag, d.Keyword)
		}
	}
	for _, kw := range []string{"", "patientName", "PatientsName", "RETIRED_LengthToEnd", "GenericGroupLength"} {
		if tag, ok := LookupKeyword(kw); ok {
			t.Errorf("LookupKeyword(%q) = %v, want not found", kw, tag)
		}
	}
}

func TestConstants(t *testing.T) {
	tests := []struct {
		got, want Tag
	}{
		{PatientName, 0x00100010},
		{SOPClassUID, 0x00080016},
		{TransferSyntaxUID, 0x00020010},
		{CommandGroupLength, 0x00000000},
		{AffectedSOPClassUID, 0x00000002},
		{PixelData, 0x7fe00010},
		{Item, ItemTag},
		{ItemDelimitationItem, ItemDelimitationItemTag},
		{SequenceDelimitationItem, SequenceDelimitationItemTag},
		{DBdt, 0x00181318},
		{LengthToEnd, 0x00080001},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("constant %v, want %v", tc.got, tc.want)
		}
	}
}

// TestDictionaryCounts checks the totals of the tables (README of the
// standard tables): 5347 PS3.6/PS3.7 entries of dcmtk's dictionary, 489 of
// them retired, the 46 command elements of PS3.7 and 22 File Meta elements.
func TestDictionaryCounts(t *testing.T) {
	all := DictionaryEntries()
	var retired, commands, meta int
	for _, d := range all {
		if d.Retired {
			retired++
		}
		switch d.Tag.Group() {
		case 0x0000:
			commands++
		case 0x0002:
			meta++
		}
	}
	if len(all) != 5347 || retired != 489 || commands != 46 || meta != 22 {
		t.Errorf("dictionary has %d entries, %d retired, %d in group 0000, %d in group 0002; want 5347, 489, 46, 22",
			len(all), retired, commands, meta)
	}
	if len(dictMasked) != 88 {
		t.Errorf("%d repeating entries, want 88", len(dictMasked))
	}
}

// TestDictionaryConsistent checks invariants of the generated tables.
func TestDictionaryConsistent(t *testing.T) {
	for i, d := range dictEntries {
		if i > 0 && dictEntries[i-1].Tag >= d.Tag {
			t.Errorf("dictEntries not sorted at %v", d.Tag)
		}
		if d.Mask != 0xffffffff {
			t.Errorf("%v: mask %08x in dictEntries", d.Tag, uint32(d.Mask))
		}
	}
	seen := map[string]bool{}
	for _, d := range DictionaryEntries() {
		if seen[d.Keyword] {
			t.Errorf("keyword %s listed twice", d.Keyword)
		}
		seen[d.Keyword] = true
		if d.Keyword == "" || d.Name == "" || d.VM == "" {
			t.Errorf("%v: empty keyword, name or VM: %+v", d.Tag, d)
		}
		if len(d.VRs) == 0 {
			if d.VR != NoVR || d.Tag.Group() != 0xfffe {
				t.Errorf("%v %s: no VRs", d.Tag, d.Keyword)
			}
		} else if d.VR != d.VRs[0] || slices.ContainsFunc(d.VRs, func(v VR) bool { return !v.Valid() }) {
			t.Errorf("%v %s: VR %v, VRs %v", d.Tag, d.Keyword, d.VR, d.VRs)
		}
		if tag, ok := LookupKeyword(d.Keyword); !ok || tag != d.Tag {
			t.Errorf("LookupKeyword(%s) = %v, %t, want %v", d.Keyword, tag, ok, d.Tag)
		}
		if got, ok := LookupTag(d.Tag); !ok || got.Keyword != d.Keyword {
			// A repeating entry's first tag may be shadowed by a single tag,
			// as (7Fxx,0010) is at (7FE0,0010); its first tag never is.
			t.Errorf("LookupTag(%v) = %s, want %s", d.Tag, got.Keyword, d.Keyword)
		}
		if d.Mask != 0xffffffff && d.Tag.Group()>>8 != 0x7f && d.Tag.Group() >= 0x5000 && d.Mask>>16 != 0xff01 {
			t.Errorf("%v %s: repeating group mask %08x, want even groups only", d.Tag, d.Keyword, uint32(d.Mask))
		}
	}
}

func TestLookupTagAllocs(t *testing.T) {
	tags := []Tag{PatientName, PixelData, 0x60023000, 0x00080000, 0x00091001}
	allocs := testing.AllocsPerRun(100, func() {
		for _, tag := range tags {
			LookupTag(tag)
		}
	})
	if allocs != 0 {
		t.Errorf("LookupTag allocates %v times per run, want 0", allocs)
	}
}

func BenchmarkLookupTag(b *testing.B) {
	cases := []struct {
		name string
		tags []Tag
	}{
		{"exact", []Tag{PatientName, PixelData, SOPInstanceUID, ReferencedImageSequence, CommandField, Rows}},
		{"repeating", []Tag{0x60023000, 0x50020010, 0x00203101}},
		{"private", []Tag{0x00091001, 0x00290010, 0x7fe10010}},
		{"unknown", []Tag{0x00100f11, 0x00080003}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				LookupTag(c.tags[i%len(c.tags)])
			}
		})
	}
}

func BenchmarkLookupKeyword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		LookupKeyword("PatientName")
	}
}

// TestGeneratedUpToDate regenerates dict_gen.go and uid/uid_gen.go into a
// temporary directory and compares them with the checked-in files.
func TestGeneratedUpToDate(t *testing.T) {
	std := peertest.StandardDir(t)
	if testing.Short() {
		t.Skip("skipping generator run in short mode")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: go command not found")
	}
	out := t.TempDir()
	cmd := exec.Command(goBin, "run", "./internal/gendict", "-standard", std, "-out", out, "-pkg", ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gendict: %v\n%s", err, b)
	}
	for _, name := range []string{"dict_gen.go", filepath.Join("uid", "uid_gen.go")} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate in core/dicom", name)
		}
	}
}
