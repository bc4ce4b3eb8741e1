package dicomjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// bulkURIs serves every offered value under a URI built from its path.
func bulkURIs(path string, e *dicom.Element) string {
	return "https://pacs.example/bulk/" + path
}

func TestMarshalGolden(t *testing.T) {
	tests := []struct {
		name string
		ds   func(testing.TB) *dicom.Dataset
		opt  Options
	}{
		{name: "text", ds: textDataset},
		{name: "text-indent", ds: textDataset, opt: Options{Indent: true}},
		{name: "text-grouplength", ds: textDataset, opt: Options{IncludeGroupLength: true}},
		{name: "numbers", ds: numberDataset, opt: Options{Indent: true}},
		{name: "sequences", ds: sequenceDataset, opt: Options{Indent: true}},
		{name: "binary-inline", ds: binaryDataset, opt: Options{Indent: true}},
		{name: "binary-bulk", ds: binaryDataset, opt: Options{Indent: true, BulkDataThreshold: 64, BulkDataURI: bulkURIs}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.ds(t), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(got) {
				t.Fatalf("Marshal() wrote invalid JSON:\n%s", got)
			}
			checkGolden(t, tc.name, got)
			var buf bytes.Buffer
			if err := Encode(&buf, tc.ds(t), tc.opt); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), got) {
				t.Errorf("Encode() differs from Marshal()")
			}
		})
	}
}

func TestMarshalArray(t *testing.T) {
	dss := []*dicom.Dataset{textDataset(t), sequenceDataset(t)}
	got, err := MarshalArray(dss, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeArray(&buf, slices.Values(dss), Options{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), got) {
		t.Errorf("EncodeArray() differs from MarshalArray()")
	}
	back, err := DecodeArray(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 {
		t.Fatalf("DecodeArray() = %d data sets, want 2", len(back))
	}
	if got, _ := MarshalArray(nil, Options{}); string(got) != "[]" {
		t.Errorf("MarshalArray(nil) = %s, want []", got)
	}
	if got, _ := MarshalArray(nil, Options{Indent: true}); string(got) != "[]" {
		t.Errorf("MarshalArray(nil, indent) = %s, want []", got)
	}
}

func TestMarshalValues(t *testing.T) {
	tests := []struct {
		name string
		e    dicom.Element
		want string
	}{
		{name: "empty text", e: raw(0x00100020, dicom.LO, ""), want: `{"vr":"LO"}`},
		{name: "padding only", e: raw(0x00100020, dicom.LO, "  "), want: `{"vr":"LO"}`},
		{name: "UI NUL padding", e: raw(0x0020000d, dicom.UI, "1.2\x00"), want: `{"vr":"UI","Value":["1.2"]}`},
		{name: "all empty values", e: raw(0x00080008, dicom.CS, `\\`), want: `{"vr":"CS","Value":[null,null,null]}`},
		{name: "PN empty groups", e: raw(0x00100010, dicom.PN, `==`), want: `{"vr":"PN","Value":[null]}`},
		{name: "PN phonetic only", e: raw(0x00100010, dicom.PN, `==pho`), want: `{"vr":"PN","Value":[{"Phonetic":"pho"}]}`},
		{name: "IS overflow", e: raw(0x00200013, dicom.IS, `99999999999999999999`), want: `{"vr":"IS","Value":["99999999999999999999"]}`},
		{name: "DS exponent", e: raw(0x00281050, dicom.DS, `1.E5`), want: `{"vr":"DS","Value":[100000]}`},
		{name: "DS hex is text", e: raw(0x00281050, dicom.DS, `0x10`), want: `{"vr":"DS","Value":["0x10"]}`},
		{name: "DS NaN is text", e: raw(0x00281050, dicom.DS, `NaN`), want: `{"vr":"DS","Value":["NaN"]}`},
		{name: "US odd byte dropped", e: raw(0x00280010, dicom.US, "\x01\x00\x02"), want: `{"vr":"US","Value":[1]}`},
		{name: "invalid UTF-8", e: raw(0x00100020, dicom.LO, "a\xffb"), want: `{"vr":"LO","Value":["a\ufffdb"]}`},
		{name: "line separator", e: raw(0x00100020, dicom.LO, "a\u2028"), want: `{"vr":"LO","Value":["a\u2028"]}`},
		{name: "invalid VR", e: dicom.Element{Tag: 0x00091001, VR: dicom.VR(200), Value: []byte{1, 2}}, want: `{"vr":"UN","InlineBinary":"AQI="}`},
		{name: "UN sequence", e: dicom.Element{Tag: 0x00091002, VR: dicom.UN, Items: []*dicom.Dataset{{}}}, want: `{"vr":"SQ","Value":[{}]}`},
		{name: "empty fragments", e: dicom.Element{Tag: 0x7fe00010, VR: dicom.OB, Fragments: &dicom.Fragments{}}, want: `{"vr":"OB","InlineBinary":"/v8A4AAAAAD+/93gAAAAAA=="}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(dataset(tc.e), Options{})
			if err != nil {
				t.Fatal(err)
			}
			want := `{"` + string(appendTag(nil, tc.e.Tag)) + `":` + tc.want + `}`
			if string(got) != want {
				t.Errorf("Marshal() = %s, want %s", got, want)
			}
		})
	}
}

func TestNormalizeDS(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"1.5", "1.5", true},
		{"-0", "-0", true},
		{"+1.5", "1.5", true},
		{"1.", "1", true},
		{".5", "0.5", true},
		{"-.5", "-0.5", true},
		{"007", "7", true},
		{"1e5", "1e5", true},
		{"1E+05", "1E+05", true},
		{"1.e5", "100000", true},
		{"+1e-7", "1e-7", true},
		{"1e999", "", false},
		{"", "", false},
		{"abc", "", false},
		{"Inf", "", false},
		{"0x1p3", "", false},
		{"1_0", "", false},
		{"--1", "", false},
	}
	for _, tc := range tests {
		got, ok := normalizeDS(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("normalizeDS(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
		if ok && !json.Valid([]byte(got)) {
			t.Errorf("normalizeDS(%q) = %q is not JSON", tc.in, got)
		}
	}
}

func TestMarshalBulk(t *testing.T) {
	deferred := dataset(dicom.Element{Tag: 0x7fe00010, VR: dicom.OW, Bulk: &dicom.BulkRef{Offset: 1000, Length: 1 << 20}})
	if _, err := Marshal(deferred, Options{}); !errors.Is(err, ErrNoBulkDataURI) {
		t.Errorf("Marshal(deferred, no URI) error = %v, want ErrNoBulkDataURI", err)
	}
	var paths []string
	opt := Options{BulkDataURI: func(path string, e *dicom.Element) string {
		paths = append(paths, path)
		return "bulk/" + path
	}}
	got, err := Marshal(deferred, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"7FE00010":{"vr":"OW","BulkDataURI":"bulk/7FE00010"}}`; string(got) != want {
		t.Errorf("Marshal(deferred) = %s, want %s", got, want)
	}
	// Threshold 0: plain binary values stay inline, fragments still go out as bulk.
	paths = nil
	if _, err := Marshal(binaryDataset(t), opt); err != nil {
		t.Fatal(err)
	}
	if want := []string{"7FE00010"}; !slices.Equal(paths, want) {
		t.Errorf("BulkDataURI asked for %q, want %q", paths, want)
	}
	paths = nil
	opt.BulkDataThreshold = 64
	if _, err := Marshal(binaryDataset(t), opt); err != nil {
		t.Fatal(err)
	}
	if want := []string{"00540016/0/00283006", "00660016", "7FE00010"}; !slices.Equal(paths, want) {
		t.Errorf("BulkDataURI asked for %q, want %q", paths, want)
	}
}

func TestMarshalCycle(t *testing.T) {
	ds := &dicom.Dataset{}
	ds.Put(dicom.Element{Tag: 0x00081115, VR: dicom.SQ, Items: []*dicom.Dataset{ds}})
	if _, err := Marshal(ds, Options{}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Marshal(cyclic) error = %v, want ErrTooDeep", err)
	}
}

// upperCodec is a toy character set: it stores text upper-cased, and reads it back
// lower-cased, so tests can see where it is used.
type upperCodec struct{}

func (upperCodec) Decode(vr dicom.VR, b []byte) (string, error) {
	return strings.ToLower(string(b)), nil
}
func (upperCodec) Encode(vr dicom.VR, s string) ([]byte, error) {
	return []byte(strings.ToUpper(s)), nil
}

func TestMarshalCodecInherited(t *testing.T) {
	item := dataset(raw(0x00100010, dicom.PN, "DOE^JOHN"), raw(0x00080060, dicom.CS, "MR"))
	ds := dataset(raw(0x00100010, dicom.PN, "ROE^JANE"), sq(0x00081115, item))
	ds.Codec = upperCodec{}
	got, err := Marshal(ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"00081115":{"vr":"SQ","Value":[{"00080060":{"vr":"CS","Value":["MR"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"doe^john"}]}}]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"roe^jane"}]}}`
	if string(got) != want {
		t.Errorf("Marshal() = %s\nwant %s", got, want)
	}
}

func TestEncodeStreams(t *testing.T) {
	// A data set larger than the flush size reaches the writer in several writes.
	ds := &dicom.Dataset{}
	for i := range 200 {
		ds.Put(dicom.Element{Tag: dicom.Tag(0x00090000 + 0x1000 + i), VR: dicom.OB, Value: bytes.Repeat([]byte{byte(i)}, 1024)})
	}
	w := &countingWriter{}
	if err := Encode(w, ds, Options{}); err != nil {
		t.Fatal(err)
	}
	if w.writes < 2 {
		t.Errorf("Encode() made %d writes, want several", w.writes)
	}
	want, _ := Marshal(ds, Options{})
	if !bytes.Equal(w.buf.Bytes(), want) {
		t.Errorf("Encode() output differs from Marshal()")
	}
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}
