package charset

import (
	"testing"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
)

// fuzzTerms are the term lists the fuzz targets choose from.
var fuzzTerms = [][]string{
	nil, {"ISO_IR 100"}, {"ISO_IR 101"}, {"ISO_IR 109"}, {"ISO_IR 110"}, {"ISO_IR 144"}, {"ISO_IR 127"},
	{"ISO_IR 126"}, {"ISO_IR 138"}, {"ISO_IR 148"}, {"ISO_IR 203"}, {"ISO_IR 166"}, {"ISO_IR 13"},
	{"ISO_IR 192"}, {"GB18030"}, {"GBK"}, {"ISO 2022 IR 6"}, {"ISO 2022 IR 100"}, {"ISO 2022 IR 13"},
	{"", "ISO 2022 IR 87"}, {"ISO 2022 IR 13", "ISO 2022 IR 87"}, {"", "ISO 2022 IR 87", "ISO 2022 IR 159"},
	{"", "ISO 2022 IR 149"}, {"", "ISO 2022 IR 58"}, {"ISO 2022 IR 100", "ISO 2022 IR 144", "ISO 2022 IR 126"},
	{"ISO 2022 IR 166", "ISO 2022 IR 138"}, {"ISO_IR 999"},
	{"ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144",
		"ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203",
		"ISO 2022 IR 166", "ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
		"ISO 2022 IR 58"},
}

// charsetVRs are the VRs whose values use the character set.
var charsetVRs = func() (vrs []dicom.VR) {
	for v := dicom.VR(1); v.Valid(); v++ {
		if v.UsesCharset() {
			vrs = append(vrs, v)
		}
	}
	return vrs
}()

// FuzzDecode decodes random bytes with random character sets: Decode must not
// panic and must return valid UTF-8, and any text Encode accepts must come
// back unchanged from Decode.
func FuzzDecode(f *testing.F) {
	for i, tc := range samples {
		f.Add(uint8(i), uint8(i), []byte(tc.raw))
	}
	f.Add(uint8(19), uint8(0), []byte("\x1b$B%\\\x1b(B\\\x1b$)C\xb1\xe8^\x1b$(D\x1b-A\xe9\r\n\x1b"))
	f.Fuzz(func(t *testing.T, termIdx, vrIdx uint8, raw []byte) {
		terms := fuzzTerms[int(termIdx)%len(fuzzTerms)]
		vr := charsetVRs[int(vrIdx)%len(charsetVRs)]
		c, _ := New(terms)
		s, _ := c.Decode(vr, raw)
		if !utf8.ValidString(s) {
			t.Fatalf("%q: Decode(%s, %q) = %q, not valid UTF-8", terms, vr, raw, s)
		}
		roundTrip(t, c, vr, s)
		roundTrip(t, c, vr, string(raw))
	})
}

// FuzzEncode encodes random text: whatever Encode accepts, Decode returns.
func FuzzEncode(f *testing.F) {
	for i, tc := range samples {
		f.Add(uint8(i), uint8(i), tc.want)
	}
	f.Fuzz(func(t *testing.T, termIdx, vrIdx uint8, s string) {
		terms := fuzzTerms[int(termIdx)%len(fuzzTerms)]
		vr := charsetVRs[int(vrIdx)%len(charsetVRs)]
		c, _ := New(terms)
		roundTrip(t, c, vr, s)
	})
}

func roundTrip(t *testing.T, c *Codec, vr dicom.VR, s string) {
	t.Helper()
	b, err := c.Encode(vr, s)
	if err != nil {
		return
	}
	if got, err := c.Decode(vr, b); got != s {
		t.Fatalf("%q: Decode(%s, Encode(%q) = %q) = %q, %v", c.Terms(), vr, s, b, got, err)
	}
}
