package dicom

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// failCodec decodes by upper-casing ASCII, and fails on byte 0xFF.
type failCodec struct{}

func (failCodec) Decode(vr VR, raw []byte) (string, error) {
	if strings.IndexByte(string(raw), 0xff) >= 0 {
		return strings.ToValidUTF8(string(raw), "\uFFFD"), errors.New("invalid byte")
	}
	return strings.ToUpper(string(raw)), nil
}

func (failCodec) Encode(vr VR, s string) ([]byte, error) { return []byte(s), nil }

func TestElementValidate(t *testing.T) {
	tag := NewTag(0x0009, 0x1001)
	tests := []struct {
		name string
		e    Element
		tc   TextCodec
		want []string // "index rule"
	}{
		{name: "valid CS", e: Element{Tag: tag, VR: CS, Value: []byte(`ORIGINAL\PRIMARY`)}},
		{name: "empty", e: Element{Tag: tag, VR: DA}},
		{name: "spaces only", e: Element{Tag: tag, VR: AE, Value: []byte("    ")}},
		{name: "odd text", e: Element{Tag: tag, VR: CS, Value: []byte("MR1")}, want: []string{"-1 odd-length"}},
		{name: "UI space padding", e: Element{Tag: tag, VR: UI, Value: []byte("1.2.3 ")}, want: []string{"-1 padding"}},
		{name: "UI NUL padding", e: Element{Tag: tag, VR: UI, Value: []byte("1.2.3\x00")}},
		{name: "text NUL padding", e: Element{Tag: tag, VR: SH, Value: []byte("ABC\x00")}, want: []string{"-1 padding"}},
		{name: "second value bad", e: Element{Tag: tag, VR: CS, Value: []byte(`ORIGINAL\primary`)}, want: []string{"1 charset"}},
		{name: "two bad values", e: Element{Tag: tag, VR: DA, Value: []byte(`20241301\20240101\2024`)}, want: []string{"0 syntax", "2 syntax"}},
		{name: "many problems in one value", e: Element{Tag: tag, VR: CS, Value: []byte("abcdefghijklmnopqr")}, want: []string{"0 length", "0 charset"}},
		{name: "UI multi NUL inside", e: Element{Tag: tag, VR: UI, Value: []byte("1.2\x00\\1.3\x00")}, want: []string{"-1 odd-length", "0 padding"}},
		{name: "US odd", e: Element{Tag: tag, VR: US, Value: []byte{1, 2, 3}}, want: []string{"-1 odd-length"}},
		{name: "UL not multiple", e: Element{Tag: tag, VR: UL, Value: make([]byte, 6)}, want: []string{"-1 length"}},
		{name: "FD ok", e: Element{Tag: tag, VR: FD, Value: make([]byte, 16)}},
		{name: "AT not multiple", e: Element{Tag: tag, VR: AT, Value: make([]byte, 6)}, want: []string{"-1 length"}},
		{name: "AT ok", e: Element{Tag: tag, VR: AT, Value: make([]byte, 8)}},
		{name: "OB odd", e: Element{Tag: tag, VR: OB, Value: []byte{1}}, want: []string{"-1 odd-length"}},
		{name: "US beyond 16-bit length", e: Element{Tag: tag, VR: US, Value: make([]byte, 70000)}, want: []string{"-1 length"}},
		{name: "OW long is fine", e: Element{Tag: tag, VR: OW, Value: make([]byte, 70000)}},
		{name: "bulk odd", e: Element{Tag: tag, VR: OW, Bulk: &BulkRef{Length: 7}}, want: []string{"-1 odd-length"}},
		{name: "fragments not checked", e: Element{Tag: tag, VR: OB, Fragments: &Fragments{Items: [][]byte{{1}}}}},
		{name: "sequence not entered", e: Element{Tag: tag, VR: SQ, Items: []*Dataset{{}}}},
		{name: "no VR", e: Element{Tag: tag}, want: []string{"-1 vr"}},
		{name: "latin-1 without codec", e: Element{Tag: tag, VR: LO, Value: []byte("M\xfcller ")}, want: []string{"-1 odd-length", "0 charset"}},
		{name: "UTF-8 without codec", e: Element{Tag: tag, VR: LO, Value: []byte("Müller ")}},
		{name: "codec failure", e: Element{Tag: tag, VR: LO, Value: []byte("ab\xff ")}, tc: failCodec{}, want: []string{"-1 charset"}},
		{name: "codec decodes before checks", e: Element{Tag: tag, VR: LO, Value: []byte("ab")}, tc: failCodec{}},
		{name: "codec counts characters", e: Element{Tag: tag, VR: SH, Value: []byte(strings.Repeat("é", 16))}, tc: failCodec{}},
		{name: "ASCII VR ignores codec", e: Element{Tag: tag, VR: CS, Value: []byte("mr")}, tc: failCodec{}, want: []string{"0 charset"}},
		{name: "LT keeps backslash", e: Element{Tag: tag, VR: LT, Value: []byte(`a\b `)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := tc.e.Validate(tc.tc)
			got := make([]string, len(vs))
			for i, v := range vs {
				got[i] = fmt.Sprintf("%d %s", v.Index, v.Rule)
				if v.Path != tag.String() || v.Tag != tag || v.VR != tc.e.VR || v.Msg == "" {
					t.Errorf("violation %+v: want path and tag %s, VR %s and a message", v, tag, tc.e.VR)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("Validate() = %v, want %v (%v)", got, tc.want, vs)
			}
		})
	}
}

func mustElement(t testing.TB, tag Tag, vr VR, value any) Element {
	t.Helper()
	e, err := NewElement(tag, vr, value, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDatasetValidate(t *testing.T) {
	seq, modality := NewTag(0x0040, 0x0100), NewTag(0x0008, 0x0060)
	tests := []struct {
		name  string
		build func(ds *Dataset)
		want  []string // "path index rule"
	}{
		{name: "valid", build: func(ds *Dataset) {
			ds.Put(mustElement(t, SpecificCharacterSet, CS, []string{"", "ISO 2022 IR 87"}))
			ds.Put(mustElement(t, PatientName, PN, "Doe^John"))
			ds.Put(mustElement(t, SOPInstanceUID, UI, "1.2.3.4"))
		}},
		{name: "VM too many", build: func(ds *Dataset) {
			ds.Put(mustElement(t, PatientName, PN, []string{"A", "B"}))
		}, want: []string{"(0010,0010) -1 vm"}},
		{name: "UID VM", build: func(ds *Dataset) {
			ds.Put(mustElement(t, SOPInstanceUID, UI, []string{"1.2", "1.3"}))
		}, want: []string{"(0008,0018) -1 vm"}},
		{name: "empty value passes VM", build: func(ds *Dataset) {
			ds.Put(Element{Tag: SOPInstanceUID, VR: UI})
		}},
		{name: "wrong VR", build: func(ds *Dataset) {
			ds.Put(mustElement(t, PatientName, LO, []string{"A", "B"}))
		}, want: []string{"(0010,0010) -1 vr"}},
		{name: "UN accepted", build: func(ds *Dataset) {
			ds.Put(Element{Tag: PatientName, VR: UN, Value: []byte("A\\B ")})
		}},
		{name: "OW pixel data", build: func(ds *Dataset) {
			ds.Put(Element{Tag: PixelData, VR: OW, Value: make([]byte, 4)})
		}},
		{name: "nested path", build: func(ds *Dataset) {
			item := &Dataset{}
			item.Put(mustElement(t, modality, CS, "mr"))
			ok := &Dataset{}
			ok.Put(mustElement(t, modality, CS, "CT"))
			ds.SetItems(seq, ok, item)
		}, want: []string{"(0040,0100)[1].(0008,0060) 0 charset"}},
		{name: "private creator VR", build: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0029, 0x0010), SH, "ACME 1"))
		}, want: []string{"(0029,0010) -1 vr"}},
		{name: "private dictionary VR", build: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0029, 0x0010), LO, "SIEMENS CSA HEADER"))
			ds.Put(mustElement(t, NewTag(0x0029, 0x1010), LO, "x"))
			ds.Put(Element{Tag: NewTag(0x0029, 0x1020), VR: OB, Value: []byte{1, 2}})
		}, want: []string{"(0029,1010) -1 vr"}},
		{name: "private dictionary VM", build: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0019, 0x0011), LO, "SIEMENS MR HEADER"))
			ds.Put(mustElement(t, NewTag(0x0019, 0x110e), FD, []float64{1, 0}))
		}, want: []string{"(0019,110e) -1 vm"}},
		{name: "unknown private", build: func(ds *Dataset) {
			ds.Put(mustElement(t, NewTag(0x0011, 0x1001), LO, []string{"a", "b"}))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := &Dataset{}
			tc.build(ds)
			var got []string
			for _, v := range ds.Validate() {
				got = append(got, fmt.Sprintf("%s %d %s", v.Path, v.Index, v.Rule))
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("Validate() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDatasetValidateItemCodec(t *testing.T) {
	// The item's own codec decodes its LO; the parent has none.
	item := &Dataset{Codec: failCodec{}}
	item.Put(Element{Tag: NewTag(0x0008, 0x0070), VR: LO, Value: []byte("a\xff")})
	ds := &Dataset{}
	ds.SetItems(NewTag(0x0040, 0x0100), item)
	vs := ds.Validate()
	if len(vs) != 1 || vs[0].Path != "(0040,0100)[0].(0008,0070)" || vs[0].Rule != RuleCharset || !strings.Contains(vs[0].Msg, "invalid byte") {
		t.Fatalf("Validate() = %v, want one decoding failure from the item's codec", vs)
	}
}

func TestDatasetValidateCycle(t *testing.T) {
	ds := &Dataset{}
	ds.SetItems(NewTag(0x0040, 0x0100), ds)
	vs := ds.Validate()
	if len(vs) != 1 || vs[0].Rule != RuleSyntax {
		t.Fatalf("Validate() of a cyclic data set = %d violations, want 1 depth report", len(vs))
	}
	if n := strings.Count(vs[0].Path, "."); n != MaxWalkDepth-1 {
		t.Fatalf("depth report at %d steps, want %d", n+1, MaxWalkDepth)
	}
}

func TestVMAllows(t *testing.T) {
	tests := []struct {
		vm        string
		n         int
		ok, known bool
	}{
		{"1", 1, true, true},
		{"1", 2, false, true},
		{"3", 3, true, true},
		{"1-3", 3, true, true},
		{"1-3", 4, false, true},
		{"1-n", 99, true, true},
		{"2-n", 1, false, true},
		{"2-2n", 4, true, true},
		{"2-2n", 3, false, true},
		{"3-3n", 6, true, true},
		{"3-3n", 3, true, true},
		{"6-n", 5, false, true},
		{"1-99", 99, true, true},
		{"", 1, false, false},
		{"x", 1, false, false},
		{"1-xn", 1, false, false},
		{"1-0n", 1, false, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d", tc.vm, tc.n), func(t *testing.T) {
			if ok, known := vmAllows(tc.vm, tc.n); ok != tc.ok || known != tc.known {
				t.Fatalf("vmAllows(%q, %d) = %v, %v, want %v, %v", tc.vm, tc.n, ok, known, tc.ok, tc.known)
			}
		})
	}
}

// sampleValues holds a valid value for each VR that benchDataset uses.
var sampleValues = map[VR]any{
	AE: "STORESCP", AS: "045Y", CS: "MR", DA: "20240131", DS: 1.5, DT: "20240131120000.5+0100",
	IS: int64(7), LO: "Some description", LT: "text\r\nmore", PN: "Doe^John=ドウ^ジョン", SH: "SH1",
	ST: "short text", TM: "120000.123", UC: "unlimited", UI: "1.2.826.0.1.3680043.2.1125.1.1", UR: "http://example.com/x",
	UT: "unlimited text", US: uint16(512), UL: uint32(70000), SS: int64(-2), SL: int64(-70000), FL: float32(1.5),
	FD: 2.5, AT: PatientName,
}

// benchDataset builds a data set of about 100 elements of mixed VRs taken from
// the dictionary (VM 1, not retired), with one sequence of two items.
func benchDataset(tb testing.TB) *Dataset {
	ds := NewDataset(100)
	ds.Put(mustElement(tb, PatientName, PN, "Doe^John"))
	for _, d := range DictionaryEntries() {
		if ds.Len() == 96 {
			break
		}
		v, ok := sampleValues[d.VR]
		if !ok || d.Retired || d.VM != "1" || d.Mask != 0xffffffff || d.Tag.Group() < 8 || d.Tag.IsGroupLength() {
			continue
		}
		ds.Put(mustElement(tb, d.Tag, d.VR, v))
	}
	items := make([]*Dataset, 2)
	for i := range items {
		it := &Dataset{}
		it.Put(mustElement(tb, NewTag(0x0008, 0x0060), CS, "MR"))
		it.Put(mustElement(tb, NewTag(0x0040, 0x0002), DA, "20240131"))
		it.Put(mustElement(tb, NewTag(0x0040, 0x0009), SH, "SPS1"))
		items[i] = it
	}
	ds.SetItems(NewTag(0x0040, 0x0100), items...)
	return ds
}

func BenchmarkDatasetValidate(b *testing.B) {
	ds := benchDataset(b)
	if vs := ds.Validate(); len(vs) != 0 {
		b.Fatalf("benchmark data set is not valid: %v", vs)
	}
	b.ReportMetric(float64(ds.Len()), "elements")
	b.ReportAllocs()
	for b.Loop() {
		_ = ds.Validate()
	}
}
