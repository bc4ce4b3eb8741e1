package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRangeTag(t *testing.T) {
	tests := []struct {
		in      string
		g, e    tagRange
		wantErr bool
	}{
		{in: "(0010,0010)", g: tagRange{0x0010, 0x0010, 'u'}, e: tagRange{0x0010, 0x0010, 'u'}},
		{in: "(6000-60FF,3000)", g: tagRange{0x6000, 0x60ff, 'e'}, e: tagRange{0x3000, 0x3000, 'u'}},
		{in: "(0020,3100-31FF)", g: tagRange{0x0020, 0x0020, 'u'}, e: tagRange{0x3100, 0x31ff, 'e'}},
		{in: "(0009-o-FFFF,0010-u-00FF)", g: tagRange{0x0009, 0xffff, 'o'}, e: tagRange{0x0010, 0x00ff, 'u'}},
		{in: "(0010,001)", wantErr: true},
		{in: "0010,0010", wantErr: true},
		{in: "(60FF-6000,3000)", wantErr: true},
		{in: "(6000-x-60FF,3000)", wantErr: true},
	}
	for _, tc := range tests {
		g, e, err := parseRangeTag(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseRangeTag(%q) error = %v, want error %t", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && (g != tc.g || e != tc.e) {
			t.Errorf("parseRangeTag(%q) = %+v %+v, want %+v %+v", tc.in, g, e, tc.g, tc.e)
		}
	}
}

func TestRangeMask(t *testing.T) {
	tests := []struct {
		r           tagRange
		mask, value uint32
		ok          bool
	}{
		{r: tagRange{0x6000, 0x60ff, 'e'}, mask: 0xff01, value: 0x6000, ok: true},
		{r: tagRange{0x6000, 0x60ff, 'o'}, mask: 0xff01, value: 0x6001, ok: true},
		{r: tagRange{0x3100, 0x31ff, 'u'}, mask: 0xff00, value: 0x3100, ok: true},
		{r: tagRange{0x0010, 0x0010, 'u'}, mask: 0xffff, value: 0x0010, ok: true},
		{r: tagRange{0x0010, 0x00ff, 'u'}}, // not aligned: 0010-001F, 0020-003F, ...
		{r: tagRange{0x0009, 0xffff, 'o'}}, // not aligned
		{r: tagRange{0x0011, 0x0011, 'e'}}, // an odd single value restricted to even
		{r: tagRange{0x3004, 0x3006, 'u'}}, // not a power of two
	}
	for _, tc := range tests {
		mask, value, ok := rangeMask(tc.r)
		if ok != tc.ok || (ok && (mask != tc.mask || value != tc.value)) {
			t.Errorf("rangeMask(%+v) = %04x %04x %t, want %04x %04x %t", tc.r, mask, value, ok, tc.mask, tc.value, tc.ok)
		}
		if !ok {
			continue
		}
		// The mask selects exactly the values of the range.
		for v := uint32(0); v <= 0xffff; v++ {
			in := v >= tc.r.lo && v <= tc.r.hi && (tc.r.parity == 'u' || (tc.r.parity == 'e') == (v%2 == 0))
			if (v&mask == value) != in {
				t.Fatalf("rangeMask(%+v): %04x selected %t, in range %t", tc.r, v, !in, in)
			}
		}
	}
}

func TestPatternMask(t *testing.T) {
	tests := []struct {
		in        string
		tag, mask uint32
	}{
		{in: "(60XX,3000)", tag: 0x60003000, mask: 0xff01ffff},
		{in: "(7FXX,0010)", tag: 0x7f000010, mask: 0xff01ffff},
		{in: "(0020,31XX)", tag: 0x00203100, mask: 0xffffff00},
		{in: "(0028,04X0)", tag: 0x00280400, mask: 0xffffff0f},
		{in: "(1000,XXX5)", tag: 0x10000005, mask: 0xffff000f},
		{in: "(1010,XXXX)", tag: 0x10100000, mask: 0xffff0000},
	}
	for _, tc := range tests {
		tag, mask, err := patternMask(tc.in)
		if err != nil || tag != tc.tag || mask != tc.mask {
			t.Errorf("patternMask(%q) = %08x %08x %v, want %08x %08x", tc.in, tag, mask, err, tc.tag, tc.mask)
		}
	}
	if _, _, err := patternMask("(60XX,300)"); err == nil {
		t.Error("patternMask accepted a short pattern")
	}
}

func TestMapVR(t *testing.T) {
	tests := []struct {
		vr   string
		tag  uint32
		want []string
	}{
		{vr: "PN", want: []string{"PN"}},
		{vr: "up", want: []string{"UL"}},
		{vr: "xs", want: []string{"US", "SS"}},
		{vr: "ox", want: []string{"OB", "OW"}},
		{vr: "px", want: []string{"OB", "OW"}},
		{vr: "lt", tag: 0x00281200, want: []string{"US", "SS", "OW"}},
		{vr: "lt", tag: tagLUTData, want: []string{"US", "OW"}},
		{vr: "na", want: nil},
	}
	for _, tc := range tests {
		got, err := mapVR(tc.vr, tc.tag)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("mapVR(%s, %08x) = %v, %v, want %v", tc.vr, tc.tag, got, err, tc.want)
		}
	}
	if _, err := mapVR("QQ", 0); err == nil {
		t.Error("mapVR accepted an unknown VR")
	}
}

func TestNameFromKeyword(t *testing.T) {
	tests := map[string]string{
		"PatientID":                    "Patient ID",
		"SensitiveContentCodeSequence": "Sensitive Content Code Sequence",
		"RTDoseIntentCodeSequence":     "RT Dose Intent Code Sequence",
		"ReferencePixelX0":             "Reference Pixel X0",
		"EthnicGroups":                 "Ethnic Groups",
		"SOPInstanceUID":               "SOP Instance UID",
	}
	for kw, want := range tests {
		if got := nameFromKeyword(kw); got != want {
			t.Errorf("nameFromKeyword(%q) = %q, want %q", kw, got, want)
		}
	}
}

func TestCollisions(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.go":        "package dicom\n\ntype Tag uint32\n\nconst ItemTag Tag = 1\n\nfunc (Tag) Keyword() string { return \"\" }\n\nvar ErrNotFound error\n",
		"a_test.go":   "package dicom\n\nfunc helperForTest() {}\n",
		"ext_test.go": "package dicom_test\n\nfunc PatientName() {}\n",
		"dict_gen.go": "package dicom\n\nconst PatientID Tag = 0x00100020\n",
		"notes.txt":   "Rows",
		"b.go":        "package dicom\n\nfunc Rows() int { return 0 }\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	declared, err := declaredIdents(dir, "dict_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Tag", "ItemTag", "ErrNotFound", "helperForTest", "Rows"} {
		if _, ok := declared[n]; !ok {
			t.Errorf("%s not found among %v", n, declared)
		}
	}
	for _, n := range []string{"Keyword", "PatientName", "PatientID"} {
		if _, ok := declared[n]; ok {
			t.Errorf("%s reported as a package-level identifier", n)
		}
	}
	err = collisions([]string{"PatientName", "PatientID", "Rows", "Item"}, declared)
	if err == nil || !strings.Contains(err.Error(), "Rows") || strings.Contains(err.Error(), "PatientName") {
		t.Errorf("collisions() = %v, want an error naming Rows only", err)
	}
	if err := collisions([]string{"PatientName"}, declared); err != nil {
		t.Errorf("collisions() = %v, want nil", err)
	}
}
