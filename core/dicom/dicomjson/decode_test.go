package dicomjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

// TestGoldenRoundTrip decodes every golden file and encodes it again with the
// options that wrote it: JSON → data set → JSON gives the same bytes.
func TestGoldenRoundTrip(t *testing.T) {
	opts := map[string]Options{"text-grouplength": {IncludeGroupLength: true}}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if len(files) == 0 {
		t.Fatal("no golden files (run go test -update)")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := Unmarshal(in)
			if err != nil {
				t.Fatal(err)
			}
			opt := opts[name]
			opt.Indent = bytes.Contains(in, []byte("\n"))
			if strings.Contains(string(in), "BulkDataURI") {
				return // the URIs are not values; see TestDecodeBulkData
			}
			got, err := Marshal(ds, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, in) {
				t.Errorf("round trip differs:\ngot:\n%s\nwant:\n%s", got, in)
			}
		})
	}
}

// TestDatasetRoundTrip checks data set → JSON → data set for data sets whose
// values are already in the canonical form the decoder produces.
func TestDatasetRoundTrip(t *testing.T) {
	canonicalNumbers := func(t testing.TB) *dicom.Dataset {
		ds := numberDataset(t)
		ds.Put(raw(0x00200013, dicom.IS, `12\5\-7\\x1 `))
		ds.Put(raw(0x00281050, dicom.DS, `1.5\2\1\0.5\1e5\7\-0.25E-3\abc`))
		ds.Put(raw(0x00281051, dicom.DS, "40"))
		ds.Put(raw(0x00180088, dicom.DS, "1e999 "))
		ds.Delete(0x00189807) // NaN has many encodings
		return ds
	}
	canonicalText := func(t testing.TB) *dicom.Dataset {
		ds := textDataset(t)
		ds.Delete(0x00080000)
		ds.Put(raw(0x00100020, dicom.LO, "ID 42 "))
		ds.Put(raw(0x00081030, dicom.LO, "Chest \"CT\"\\control\x01 "))
		return ds
	}
	tests := []struct {
		name string
		ds   func(testing.TB) *dicom.Dataset
	}{
		{name: "text", ds: canonicalText},
		{name: "numbers", ds: canonicalNumbers},
		{name: "sequences", ds: sequenceDataset},
		{name: "binary", ds: binaryDataset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.ds(t)
			b, err := Marshal(want, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := equalDatasets(got, want); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnmarshalValues(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want dicom.Element
	}{
		{name: "value before vr", in: `{"Value":["A","B"],"vr":"CS"}`, want: raw(0x00080008, dicom.CS, `A\B `)},
		{name: "unknown keys ignored", in: `{"vr":"CS","x":{"y":[1,2,{}]},"Value":["A"],"z":null}`, want: raw(0x00080008, dicom.CS, `A `)},
		{name: "null value", in: `{"vr":"CS","Value":null}`, want: raw(0x00080008, dicom.CS, "")},
		{name: "empty array", in: `{"vr":"CS","Value":[]}`, want: raw(0x00080008, dicom.CS, "")},
		{name: "nulls", in: `{"vr":"CS","Value":["A",null,"B"]}`, want: raw(0x00080008, dicom.CS, `A\\B`)},
		{name: "trailing spaces trimmed", in: `{"vr":"CS","Value":["A  "," B"]}`, want: raw(0x00080008, dicom.CS, `A\B `)},
		{name: "IS from strings", in: `{"vr":"IS","Value":["+5"," 7",3,"x"]}`, want: raw(0x00080008, dicom.IS, `5\7\3\x `)},
		{name: "DS from strings", in: `{"vr":"DS","Value":["+1.5","1.",2.50,1E3]}`, want: raw(0x00080008, dicom.DS, `1.5\1\2.50\1E3`)},
		{name: "US from string", in: `{"vr":"US","Value":["7",8.0]}`, want: raw(0x00080008, dicom.US, "\x07\x00\x08\x00")},
		{name: "UV as string", in: `{"vr":"UV","Value":["18446744073709551615"]}`, want: dicom.Element{Tag: 0x00080008, VR: dicom.UV, Value: le64(math.MaxUint64)}},
		{name: "SV as number", in: `{"vr":"SV","Value":[-9223372036854775808]}`, want: dicom.Element{Tag: 0x00080008, VR: dicom.SV, Value: le64(1 << 63)}},
		{name: "FD specials", in: `{"vr":"FD","Value":["Infinity","-Infinity",-0]}`, want: dicom.Element{Tag: 0x00080008, VR: dicom.FD, Value: le64(math.Float64bits(math.Inf(1)), math.Float64bits(math.Inf(-1)), 1<<63)}},
		{name: "AT lower case", in: `{"vr":"AT","Value":["7fe00010"]}`, want: raw(0x00080008, dicom.AT, "\xe0\x7f\x10\x00")},
		{name: "PN string", in: `{"vr":"PN","Value":["A^B=C"," =","=^P "]}`, want: raw(0x00080008, dicom.PN, `A^B=C\\=^P`)},
		{name: "PN object", in: `{"vr":"PN","Value":[{"Phonetic":"p","Alphabetic":"a ","Extra":[1]},{}]}`, want: raw(0x00080008, dicom.PN, `a==p\ `)},
		{name: "base64 unpadded", in: `{"vr":"OB","InlineBinary":"AQI"}`, want: raw(0x00080008, dicom.OB, "\x01\x02")},
		{name: "base64 odd padded", in: `{"vr":"OW","InlineBinary":"AQID"}`, want: raw(0x00080008, dicom.OW, "\x01\x02\x03\x00")},
		{name: "bulk without loader", in: `{"vr":"OB","BulkDataURI":"http://x/1"}`, want: raw(0x00080008, dicom.OB, "")},
		{name: "empty SQ", in: `{"vr":"SQ"}`, want: dicom.Element{Tag: 0x00080008, VR: dicom.SQ, Items: []*dicom.Dataset{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := Unmarshal([]byte(`{"00080008":` + tc.in + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if err := equalDatasets(ds, dataset(tc.want)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	deep := strings.Repeat(`{"00081115":{"vr":"SQ","Value":[`, 70) + "{}" + strings.Repeat("]}}", 70)
	tests := []struct {
		name    string
		in      string
		wantTag dicom.Tag
		wantErr error
		wantMsg string
	}{
		{name: "empty", in: ``, wantErr: io.ErrUnexpectedEOF},
		{name: "not an object", in: `[]`, wantMsg: "expected"},
		{name: "truncated", in: `{"00100010":{"vr":"PN","Value":[`, wantTag: 0x00100010, wantErr: io.ErrUnexpectedEOF},
		{name: "bad json", in: `{"00100010":{"vr":"PN",}}`, wantTag: 0x00100010},
		{name: "bad key", in: `{"0010001":{"vr":"PN"}}`, wantMsg: "eight hexadecimal"},
		{name: "missing vr", in: `{"00100010":{"Value":["A"]}}`, wantTag: 0x00100010, wantMsg: "missing"},
		{name: "bad vr", in: `{"00100010":{"vr":"XX"}}`, wantTag: 0x00100010, wantMsg: "invalid vr"},
		{name: "duplicate", in: `{"00100010":{"vr":"PN"},"00100010":{"vr":"PN"}}`, wantTag: 0x00100010, wantMsg: "duplicate"},
		{name: "value and inline", in: `{"00100010":{"vr":"CS","Value":[],"InlineBinary":""}}`, wantTag: 0x00100010, wantMsg: "more than one"},
		{name: "value not array", in: `{"00100010":{"vr":"PN","Value":"A"}}`, wantTag: 0x00100010, wantMsg: "not an array"},
		{name: "backslash", in: `{"00080008":{"vr":"CS","Value":["A\\B"]}}`, wantTag: 0x00080008, wantMsg: "backslash"},
		{name: "PN equals", in: `{"00100010":{"vr":"PN","Value":[{"Alphabetic":"A=B"}]}}`, wantTag: 0x00100010, wantMsg: "'='"},
		{name: "PN four groups", in: `{"00100010":{"vr":"PN","Value":["A=B=C=D"]}}`, wantTag: 0x00100010, wantMsg: "three"},
		{name: "LT two values", in: `{"00104000":{"vr":"LT","Value":["A","B"]}}`, wantTag: 0x00104000, wantMsg: "one value"},
		{name: "US range", in: `{"00280010":{"vr":"US","Value":[65536]}}`, wantTag: 0x00280010, wantMsg: "out of range"},
		{name: "US fraction", in: `{"00280010":{"vr":"US","Value":[1.5]}}`, wantTag: 0x00280010, wantMsg: "invalid"},
		{name: "US null", in: `{"00280010":{"vr":"US","Value":[null]}}`, wantTag: 0x00280010},
		{name: "FD text", in: `{"00189807":{"vr":"FD","Value":["abc"]}}`, wantTag: 0x00189807},
		{name: "AT bad", in: `{"00209165":{"vr":"AT","Value":["0010"]}}`, wantTag: 0x00209165},
		{name: "OB Value", in: `{"7FE00010":{"vr":"OB","Value":[1]}}`, wantTag: 0x7fe00010, wantMsg: "InlineBinary"},
		{name: "inline on text", in: `{"00100010":{"vr":"PN","InlineBinary":"AA=="}}`, wantTag: 0x00100010, wantMsg: "not allowed"},
		{name: "bad base64", in: `{"7FE00010":{"vr":"OB","InlineBinary":"!!!!"}}`, wantTag: 0x7fe00010, wantMsg: "InlineBinary"},
		{name: "SQ inline", in: `{"00081115":{"vr":"SQ","InlineBinary":"AA=="}}`, wantTag: 0x00081115},
		{name: "null item", in: `{"00081115":{"vr":"SQ","Value":[null]}}`, wantTag: 0x00081115},
		{name: "error in item", in: `{"00081115":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":[true]}}]}}`, wantTag: 0x00081150},
		{name: "too deep", in: deep, wantTag: 0x00081115, wantErr: ErrTooDeep},
		{name: "trailing data", in: `{} {}`, wantMsg: "after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tc.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Unmarshal() error = %v, want *SyntaxError", err)
			}
			if se.Tag != tc.wantTag {
				t.Errorf("error tag = %s, want %s (%v)", se.Tag, tc.wantTag, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error = %q, want it to mention %q", err, tc.wantMsg)
			}
			if se.Offset < 0 || se.Offset > int64(len(tc.in)) {
				t.Errorf("error offset %d outside the input (%d bytes)", se.Offset, len(tc.in))
			}
		})
	}
}

func TestUnmarshalMaxDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat(`{"00081115":{"vr":"SQ","Value":[`, n) + "{}" + strings.Repeat("]}}", n))
	}
	if _, err := Unmarshal(nest(DefaultMaxDepth)); err != nil {
		t.Errorf("Unmarshal(depth %d) error = %v", DefaultMaxDepth, err)
	}
	if _, err := Unmarshal(nest(DefaultMaxDepth + 1)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Unmarshal(depth %d) error = %v, want ErrTooDeep", DefaultMaxDepth+1, err)
	}
	if _, err := UnmarshalWith(nest(3), DecodeOptions{MaxDepth: 2}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("UnmarshalWith(depth 3, max 2) error = %v, want ErrTooDeep", err)
	}
	// Nesting kept for later (Value before vr) is bounded too.
	late := strings.Repeat(`{"00081115":{"Value":[`, 70) + "{}" + strings.Repeat(`],"vr":"SQ"}}`, 70)
	if _, err := Unmarshal([]byte(late)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("Unmarshal(deep, value first) error = %v, want ErrTooDeep", err)
	}
}

func TestDecodeBulkData(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "binary-bulk.golden"))
	if err != nil {
		t.Fatal(err)
	}
	want := binaryDataset(t)
	fetch := func(uri string) ([]byte, error) {
		path := strings.TrimPrefix(uri, "https://pacs.example/bulk/")
		switch path {
		case "00660016":
			return want.Get(0x00660016).Value, nil
		case "00540016/0/00283006":
			return want.Items(0x00540016)[0].Get(0x00283006).Value, nil
		case "7FE00010":
			return encapsulate(want.Get(0x7fe00010).Fragments), nil
		}
		return nil, errors.New("not found")
	}
	got, err := UnmarshalWith(in, DecodeOptions{BulkData: fetch})
	if err != nil {
		t.Fatal(err)
	}
	if err := equalDatasets(got, want); err != nil {
		t.Error(err)
	}
	failing := func(string) ([]byte, error) { return nil, errors.New("gone") }
	if _, err := UnmarshalWith(in, DecodeOptions{BulkData: failing}); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Errorf("UnmarshalWith(failing loader) error = %v, want the loader's", err)
	}
}

func TestUnmarshalCharset(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		opt       DecodeOptions
		wantCS    string
		wantValue string
		wantCodec bool
	}{
		{name: "ascii, none", in: `{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe"}]}}`, wantValue: "Doe "},
		{name: "utf-8, none", in: `{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Dö"}]}}`, wantCS: "ISO_IR 192", wantValue: "Dö "},
		{name: "ascii keeps latin-1", in: `{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":["Doe"]}}`, wantCS: "ISO_IR 100", wantValue: "Doe "},
		{name: "utf-8 replaces latin-1", in: `{"00080005":{"vr":"CS","Value":["ISO_IR 100"]},"00100010":{"vr":"PN","Value":["Dö"]}}`, wantCS: "ISO_IR 192", wantValue: "Dö "},
		{name: "item text counts", in: `{"00081115":{"vr":"SQ","Value":[{"00100010":{"vr":"PN","Value":["Dö"]}}]}}`, wantCS: "ISO_IR 192"},
		{
			name: "with codec", in: `{"00080005":{"vr":"CS","Value":["X"]},"00100010":{"vr":"PN","Value":["dö"]},"00080060":{"vr":"CS","Value":["mr"]}}`,
			opt:    DecodeOptions{WithCodec: func(terms []string) (dicom.TextCodec, error) { return upperCodec{}, nil }},
			wantCS: "X", wantValue: "DÖ ", wantCodec: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := UnmarshalWith([]byte(tc.in), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := ds.String(0x00080005); got != tc.wantCS {
				t.Errorf("SpecificCharacterSet = %q, want %q", got, tc.wantCS)
			}
			if e := ds.Get(0x00100010); tc.wantValue != "" && string(e.Value) != tc.wantValue {
				t.Errorf("PatientName bytes = %q, want %q", e.Value, tc.wantValue)
			}
			if (ds.Codec != nil) != tc.wantCodec {
				t.Errorf("Codec = %v, want set: %v", ds.Codec, tc.wantCodec)
			}
			if tc.wantCodec && ds.String(0x00080060) != "mr" {
				t.Errorf("CS value = %q, want it untouched by the codec", ds.Get(0x00080060).Value)
			}
		})
	}
	bad := DecodeOptions{WithCodec: func([]string) (dicom.TextCodec, error) { return nil, errors.New("unknown charset") }}
	if _, err := UnmarshalWith([]byte(`{"00080005":{"vr":"CS","Value":["X"]}}`), bad); err == nil {
		t.Error("UnmarshalWith(failing WithCodec) succeeded")
	}
}

func TestDecodeArray(t *testing.T) {
	in := `[{"00100010":{"vr":"PN","Value":["Dö"]}}, {"00100010":{"vr":"PN","Value":["Doe"]}}]`
	dss, err := DecodeArray(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(dss) != 2 {
		t.Fatalf("DecodeArray() = %d data sets, want 2", len(dss))
	}
	if dss[0].String(0x00080005) != "ISO_IR 192" || dss[1].Contains(0x00080005) {
		t.Errorf("character set decided per data set: got %q and %q", dss[0].String(0x00080005), dss[1].String(0x00080005))
	}
	for _, bad := range []string{``, `{}`, `[{}`, `[1]`} {
		if _, err := DecodeArray(strings.NewReader(bad)); err == nil {
			t.Errorf("DecodeArray(%q) succeeded", bad)
		}
	}
	if dss, err := DecodeArray(strings.NewReader(`[]`)); err != nil || len(dss) != 0 {
		t.Errorf("DecodeArray([]) = %v, %v", dss, err)
	}
}

func TestDecodeReader(t *testing.T) {
	b, _ := Marshal(sequenceDataset(t), Options{})
	ds, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := equalDatasets(ds, sequenceDataset(t)); err != nil {
		t.Error(err)
	}
	if !json.Valid(b) {
		t.Error("invalid JSON")
	}
}
