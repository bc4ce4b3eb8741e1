package dicom

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateValue(t *testing.T) {
	tests := []struct {
		name     string
		vr       VR
		value    string
		query    bool
		wantRule string // "" for valid
	}{
		{name: "AE ok", vr: AE, value: "STORESCP"},
		{name: "AE spaces around", vr: AE, value: "  SCP  "},
		{name: "AE backslash", vr: AE, value: `A\B`, wantRule: RuleCharset},
		{name: "AE control", vr: AE, value: "A\x01B", wantRule: RuleCharset},
		{name: "AE too long", vr: AE, value: "ABCDEFGHIJKLMNOPQ", wantRule: RuleLength},
		{name: "AS ok", vr: AS, value: "045Y"},
		{name: "AS short", vr: AS, value: "45Y", wantRule: RuleSyntax},
		{name: "AS bad unit", vr: AS, value: "045X", wantRule: RuleCharset},
		{name: "AS no unit", vr: AS, value: "0450", wantRule: RuleSyntax},
		{name: "CS ok", vr: CS, value: "ORIGINAL"},
		{name: "CS underscore space digit", vr: CS, value: "ISO_IR 100"},
		{name: "CS lower case", vr: CS, value: "Original", wantRule: RuleCharset},
		{name: "CS too long", vr: CS, value: "ABCDEFGHIJKLMNOPQ", wantRule: RuleLength},
		{name: "CS padded with NUL", vr: CS, value: "MR\x00", wantRule: RulePadding},
		{name: "CS wildcard in query", vr: CS, value: "ORIG*", query: true},
		{name: "CS wildcard stored", vr: CS, value: "ORIG*", wantRule: RuleCharset},
		{name: "DA ok", vr: DA, value: "20240229"},
		{name: "DA not leap year", vr: DA, value: "20230229", wantRule: RuleSyntax},
		{name: "DA month 13", vr: DA, value: "20241301", wantRule: RuleSyntax},
		{name: "DA day 0", vr: DA, value: "20240100", wantRule: RuleSyntax},
		{name: "DA dashes", vr: DA, value: "2024-01-01", wantRule: RuleLength},
		{name: "DA letter", vr: DA, value: "2024010a", wantRule: RuleCharset},
		{name: "DA old dots", vr: DA, value: "2024.01.01", wantRule: RuleLength},
		{name: "LO not UTF-8", vr: LO, value: "M\xfcller", wantRule: RuleCharset},
		{name: "DA seven digits", vr: DA, value: "2024010", wantRule: RuleSyntax},
		{name: "DA range stored", vr: DA, value: "20240101-20240131", wantRule: RuleLength},
		{name: "DA range query", vr: DA, value: "20240101-20240131", query: true},
		{name: "DA open start query", vr: DA, value: "-20240131", query: true},
		{name: "DA open end query", vr: DA, value: "20240101-", query: true},
		{name: "DA dash only query", vr: DA, value: "-", query: true, wantRule: RuleSyntax},
		{name: "DA bad end query", vr: DA, value: "20240101-2024013", query: true, wantRule: RuleSyntax},
		{name: "DA two dashes query", vr: DA, value: "2024-0101-1", query: true, wantRule: RuleSyntax},
		{name: "DA wildcard query", vr: DA, value: "2024*", query: true, wantRule: RuleCharset},
		{name: "DS ok", vr: DS, value: "1.5"},
		{name: "DS exponent", vr: DS, value: "-1e3"},
		{name: "DS spaces around", vr: DS, value: " 12 "},
		{name: "DS leading plus dot", vr: DS, value: "+.5"},
		{name: "DS comma", vr: DS, value: "1,5", wantRule: RuleCharset},
		{name: "DS embedded space", vr: DS, value: "1 2", wantRule: RuleSyntax},
		{name: "DS no mantissa", vr: DS, value: "e5", wantRule: RuleSyntax},
		{name: "DS too long", vr: DS, value: "1234567890.123456", wantRule: RuleLength},
		{name: "DS overflow", vr: DS, value: "1e999", wantRule: RuleSyntax},
		{name: "DT full", vr: DT, value: "20240101120000.123456+0100"},
		{name: "DT year", vr: DT, value: "2024"},
		{name: "DT minutes", vr: DT, value: "202401011200"},
		{name: "DT negative offset", vr: DT, value: "2024-1200"},
		{name: "DT seven fraction digits", vr: DT, value: "20240101120000.1234567", wantRule: RuleSyntax},
		{name: "DT offset out of range", vr: DT, value: "20240101+1500", wantRule: RuleSyntax},
		{name: "DT offset short", vr: DT, value: "20240101+100", wantRule: RuleSyntax},
		{name: "DT odd digits", vr: DT, value: "20240", wantRule: RuleSyntax},
		{name: "DT month 13", vr: DT, value: "20241301", wantRule: RuleSyntax},
		{name: "DT minute 60", vr: DT, value: "20240101126000", wantRule: RuleSyntax},
		{name: "DT leap second", vr: DT, value: "20161231235960"},
		{name: "DT range query", vr: DT, value: "20240101-20240102", query: true},
		{name: "DT range with offsets query", vr: DT, value: "20240101+0100-20240102+0100", query: true},
		{name: "DT open end query", vr: DT, value: "20240101-", query: true},
		{name: "DT bad range query", vr: DT, value: "20240101-2024x", query: true, wantRule: RuleCharset},
		{name: "IS ok", vr: IS, value: "42"},
		{name: "IS min", vr: IS, value: "-2147483648"},
		{name: "IS plus and spaces", vr: IS, value: " +7 "},
		{name: "IS overflow", vr: IS, value: "2147483648", wantRule: RuleSyntax},
		{name: "IS decimal", vr: IS, value: "1.0", wantRule: RuleCharset},
		{name: "IS embedded space", vr: IS, value: "1 2", wantRule: RuleSyntax},
		{name: "IS sign only", vr: IS, value: "-", wantRule: RuleSyntax},
		{name: "IS twelve chars", vr: IS, value: "-00000000001"},
		{name: "IS thirteen", vr: IS, value: "+000000000001", wantRule: RuleLength},
		{name: "empty is fine", vr: IS, value: ""},
		{name: "LO ok", vr: LO, value: "Hello World"},
		{name: "LO backslash", vr: LO, value: `a\b`, wantRule: RuleCharset},
		{name: "LO tab", vr: LO, value: "a\tb", wantRule: RuleCharset},
		{name: "LO escape", vr: LO, value: "a\x1b$Bb"},
		{name: "LO 65 chars", vr: LO, value: strings.Repeat("a", 65), wantRule: RuleLength},
		{name: "LO 64 two-byte chars", vr: LO, value: strings.Repeat("é", 64)},
		{name: "LO wildcard query", vr: LO, value: "Hos*", query: true},
		{name: "LT lines", vr: LT, value: "line1\r\nline2\ttab\fpage"},
		{name: "LT backslash", vr: LT, value: `C:\dir`},
		{name: "LT bell", vr: LT, value: "bell\x07", wantRule: RuleCharset},
		{name: "LT too long", vr: LT, value: strings.Repeat("x", 10241), wantRule: RuleLength},
		{name: "PN ok", vr: PN, value: "Doe^John^^Dr.^III"},
		{name: "PN three groups", vr: PN, value: "Yamada^Tarou=山田^太郎=やまだ^たろう"},
		{name: "PN six components", vr: PN, value: "A^B^C^D^E^F", wantRule: RuleSyntax},
		{name: "PN four groups", vr: PN, value: "a=b=c=d", wantRule: RuleSyntax},
		{name: "PN group too long", vr: PN, value: strings.Repeat("a", 65) + "=b", wantRule: RuleLength},
		{name: "PN 64 per group", vr: PN, value: strings.Repeat("a", 64) + "=" + strings.Repeat("b", 64)},
		{name: "PN newline", vr: PN, value: "Doe\nJohn", wantRule: RuleCharset},
		{name: "PN wildcard query", vr: PN, value: "Doe*", query: true},
		{name: "SH 16 chars of two bytes", vr: SH, value: strings.Repeat("ü", 16)},
		{name: "SH 17", vr: SH, value: strings.Repeat("a", 17), wantRule: RuleLength},
		{name: "ST too long", vr: ST, value: strings.Repeat("x", 1025), wantRule: RuleLength},
		{name: "TM full", vr: TM, value: "235960.123456"},
		{name: "TM hours", vr: TM, value: "12"},
		{name: "TM minutes", vr: TM, value: "1230"},
		{name: "TM one fraction digit", vr: TM, value: "120000.1"},
		{name: "TM hour 24", vr: TM, value: "240000", wantRule: RuleSyntax},
		{name: "TM minute 60", vr: TM, value: "126000", wantRule: RuleSyntax},
		{name: "TM second 61", vr: TM, value: "120061", wantRule: RuleSyntax},
		{name: "TM colons", vr: TM, value: "12:00:00", wantRule: RuleCharset},
		{name: "TM dot without fraction", vr: TM, value: "120000.", wantRule: RuleSyntax},
		{name: "TM odd digits", vr: TM, value: "12000", wantRule: RuleSyntax},
		{name: "TM fraction without seconds", vr: TM, value: "1200.5", wantRule: RuleSyntax},
		{name: "TM range query", vr: TM, value: "0800-1200", query: true},
		{name: "TM open range query", vr: TM, value: "-1200", query: true},
		{name: "TM range stored", vr: TM, value: "0800-1200", wantRule: RuleCharset},
		{name: "UC long", vr: UC, value: strings.Repeat("u", 70000)},
		{name: "UI ok", vr: UI, value: "1.2.840.10008.1.1"},
		{name: "UI NUL padded", vr: UI, value: "1.2.840.10008.1.2\x00"},
		{name: "UI zero component", vr: UI, value: "1.0.3"},
		{name: "UI leading zero", vr: UI, value: "1.02.3", wantRule: RuleSyntax},
		{name: "UI empty component", vr: UI, value: "1..2", wantRule: RuleSyntax},
		{name: "UI leading dot", vr: UI, value: ".1", wantRule: RuleSyntax},
		{name: "UI trailing dot", vr: UI, value: "1.", wantRule: RuleSyntax},
		{name: "UI letter", vr: UI, value: "1.2a", wantRule: RuleCharset},
		{name: "UI space padded", vr: UI, value: "1.2.3 ", wantRule: RulePadding},
		{name: "UI too long", vr: UI, value: "1." + strings.Repeat("2", 63), wantRule: RuleLength},
		{name: "UI wildcard query", vr: UI, value: "1.2.*", query: true, wantRule: RuleCharset},
		{name: "UR ok", vr: UR, value: "http://example.com/a?b=c%20d#f"},
		{name: "UR trailing space", vr: UR, value: "urn:oid:1.2.3 "},
		{name: "UR leading space", vr: UR, value: " http://x", wantRule: RuleSyntax},
		{name: "UR embedded space", vr: UR, value: "http://x y", wantRule: RuleSyntax},
		{name: "UR bad percent", vr: UR, value: "http://x/%zz", wantRule: RuleSyntax},
		{name: "UR truncated percent", vr: UR, value: "http://x/%2", wantRule: RuleSyntax},
		{name: "UR angle bracket", vr: UR, value: "http://x/<", wantRule: RuleCharset},
		{name: "UT text", vr: UT, value: "anything goes\r\n\\ here"},
		{name: "UT NUL inside", vr: UT, value: "a\x00b", wantRule: RuleCharset},
		{name: "US ok", vr: US, value: "65535"},
		{name: "US overflow", vr: US, value: "65536", wantRule: RuleSyntax},
		{name: "US negative", vr: US, value: "-1", wantRule: RuleSyntax},
		{name: "SS min", vr: SS, value: "-32768"},
		{name: "SL overflow", vr: SL, value: "2147483648", wantRule: RuleSyntax},
		{name: "UV max", vr: UV, value: "18446744073709551615"},
		{name: "FD ok", vr: FD, value: "1.5e300"},
		{name: "FL overflow", vr: FL, value: "1e300", wantRule: RuleSyntax},
		{name: "FD not a number", vr: FD, value: "abc", wantRule: RuleSyntax},
		{name: "AT ok", vr: AT, value: "(0010,0010)"},
		{name: "AT bad", vr: AT, value: "0010", wantRule: RuleSyntax},
		{name: "OB anything", vr: OB, value: "\x00\xff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := ValidateValue
			if tc.query {
				check = ValidateQueryValue
			}
			err := check(tc.vr, tc.value)
			if tc.wantRule == "" {
				if err != nil {
					t.Fatalf("validate %s: %v, want nil", tc.vr, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("validate %s: error %v, want ErrInvalidValue", tc.vr, err)
			}
			if got := err.Error(); !strings.Contains(got, " "+tc.wantRule+": ") {
				t.Fatalf("validate %s: %v, want rule %q", tc.vr, err, tc.wantRule)
			}
		})
	}
}

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

func TestValidUID(t *testing.T) {
	tests := []struct {
		uid  string
		want bool
	}{
		{"1.2.840.10008.1.2.1", true},
		{"0", true},
		{"", false},
		{"1.2.", false},
		{"1.02", false},
		{"1.2 ", false},
		{"1." + strings.Repeat("1", 62), true},
		{"1." + strings.Repeat("1", 63), false},
	}
	for _, tc := range tests {
		if got := validUID(tc.uid); got != tc.want {
			t.Errorf("validUID(%q) = %v, want %v", tc.uid, got, tc.want)
		}
	}
}

func FuzzValidateValue(f *testing.F) {
	seeds := []struct {
		vr VR
		s  string
	}{
		{DA, "20240101-20240131"}, {DT, "20240101+0100-20240102-0500"}, {TM, "235960.123456"},
		{UI, "1.2.840.10008.1.1\x00"}, {PN, "A^B=C^D=E^F"}, {DS, "-1.5e3"}, {IS, "+12"},
		{UR, "http://x/%20"}, {AS, "045Y"}, {LO, "a\x1b$B"}, {US, "65535"}, {AT, "(0010,0010)"},
	}
	for _, s := range seeds {
		f.Add(uint8(s.vr), s.s)
	}
	f.Fuzz(func(t *testing.T, vrb uint8, s string) {
		vr := VR(vrb % uint8(numVRs))
		err := ValidateValue(vr, s)
		qerr := ValidateQueryValue(vr, s)
		if err != nil && !errors.Is(err, ErrInvalidValue) {
			t.Fatalf("ValidateValue error %v does not wrap ErrInvalidValue", err)
		}
		if err == nil && qerr != nil {
			t.Fatalf("%s %q is valid stored but not as a query key: %v", vr, s, qerr)
		}
		e := Element{Tag: NewTag(0x0009, 0x1001), VR: vr, Value: []byte(s)}
		_ = e.Validate(nil)
		_ = e.Validate(failCodec{})
	})
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
