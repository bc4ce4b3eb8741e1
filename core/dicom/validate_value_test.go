package dicom

import (
	"errors"
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
