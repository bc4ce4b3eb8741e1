package charset

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
)

// samples are the character-set-dependent values of the files in the shared
// corpus's charset folder (raw bytes as stored, padding included) with their
// meaning; FileInfo.txt there and pydicom's test suite agree on the text.
var samples = []struct {
	file  string
	tag   dicom.Tag
	vr    dicom.VR
	terms []string
	raw   string
	want  string
}{
	{file: "chrArab.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 127"},
		raw: "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1 ", want: "قباني^لنزار "},
	{file: "chrFren.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 100"},
		raw: "Buc^J\xe9r\xf4me", want: "Buc^Jérôme"},
	{file: "chrFrenMulti.dcm", tag: 0x00101001, vr: dicom.PN, terms: []string{"ISO_IR 100"},
		raw: "Buc^J\xe9r\xf4me\\Buc^J\xe9r\xf4me ", want: `Buc^Jérôme\Buc^Jérôme `},
	{file: "chrGerm.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 100"},
		raw: "\xc4neas^R\xfcdiger ", want: "Äneas^Rüdiger "},
	{file: "chrGreek.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 126"},
		raw: "\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2 ", want: "Διονυσιος "},
	{file: "chrH31.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"", "ISO 2022 IR 87"},
		raw:  "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
		want: "Yamada^Tarou=山田^太郎=やまだ^たろう"},
	{file: "chrH32.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO 2022 IR 13", "ISO 2022 IR 87"},
		raw:  "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
		want: "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
	{file: "chrHbrw.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 138"},
		raw: "\xf9\xf8\xe5\xef^\xe3\xe1\xe5\xf8\xe4", want: "שרון^דבורה"},
	{file: "chrI2.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"", "ISO 2022 IR 149"},
		raw:  "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf",
		want: "Hong^Gildong=洪^吉洞=홍^길동"},
	{file: "chrJapMulti.dcm", tag: 0x00101001, vr: dicom.PN, terms: []string{"", "ISO 2022 IR 87"},
		raw:  "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B\\\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B ",
		want: `やまだ^たろう\やまだ^たろう `},
	{file: "chrJapMulti.dcm", tag: 0x001021B0, vr: dicom.LT, terms: []string{"", "ISO 2022 IR 87"},
		raw: "\x1b$B$?$m$&\x1b(B", want: "たろう"},
	{file: "chrJapMultiExplicitIR6.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO 2022 IR 6", "ISO 2022 IR 87"},
		raw: "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B ", want: "やまだ^たろう "},
	{file: "chrKoreanMulti.dcm", tag: 0x00101001, vr: dicom.PN, terms: []string{"", "ISO 2022 IR 149"},
		raw: "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B\\\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B ", want: `김희중\김희중 `},
	{file: "chrKoreanMulti.dcm", tag: 0x001021B0, vr: dicom.LT, terms: []string{"", "ISO 2022 IR 149"},
		raw: "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B ", want: "김희중 "},
	{file: "chrRuss.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 144"},
		raw: "\xbb\xee\xdace\xdc\xd1yp\xd3", want: "Люкceмбypг"},
	{file: "chrSQEncoding.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO 2022 IR 13", "ISO 2022 IR 87"},
		raw:  "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B",
		want: "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"},
	{file: "chrX1.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"ISO_IR 192"},
		raw: "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1= ", want: "Wang^XiaoDong=王^小東= "},
	{file: "chrX2.dcm", tag: 0x00100010, vr: dicom.PN, terms: []string{"GB18030"},
		raw: "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", want: "Wang^XiaoDong=王^小东="},
}

func mustNew(t testing.TB, terms ...string) *Codec {
	t.Helper()
	c, err := New(terms)
	if err != nil {
		t.Fatalf("New(%q) error = %v", terms, err)
	}
	return c
}

func TestDecodeSamples(t *testing.T) {
	for _, tc := range samples {
		t.Run(tc.file+"/"+tc.tag.String(), func(t *testing.T) {
			got, err := mustNew(t, tc.terms...).Decode(tc.vr, []byte(tc.raw))
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("Decode() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEncodeSamples encodes each sample's text back; where the file's writer
// chose the same escape sequences as Encode, the bytes are those of the file.
func TestEncodeSamples(t *testing.T) {
	identical := map[string]bool{"chrH31.dcm": true, "chrH32.dcm": true, "chrI2.dcm": true, "chrJapMulti.dcm": true,
		"chrJapMultiExplicitIR6.dcm": true, "chrX1.dcm": true, "chrX2.dcm": true, "chrArab.dcm": true,
		"chrFren.dcm": true, "chrFrenMulti.dcm": true, "chrGerm.dcm": true, "chrGreek.dcm": true,
		"chrHbrw.dcm": true, "chrRuss.dcm": true}
	for _, tc := range samples {
		t.Run(tc.file+"/"+tc.tag.String(), func(t *testing.T) {
			c := mustNew(t, tc.terms...)
			b, err := c.Encode(tc.vr, tc.want)
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			if identical[tc.file] && string(b) != tc.raw {
				t.Errorf("Encode() = %q, want %q", b, tc.raw)
			}
			if got, err := c.Decode(tc.vr, b); err != nil || got != tc.want {
				t.Errorf("Decode(Encode()) = %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		vr    dicom.VR
		in    string
		want  string
	}{
		{name: "japanese PN", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.PN,
			in:   "Yamada^Tarou=山田^太郎=やまだ^たろう",
			want: "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B"},
		{name: "japanese JIS X 0212", terms: []string{"ISO 2022 IR 6", "ISO 2022 IR 87", "ISO 2022 IR 159"}, vr: dicom.PN,
			in: "Mori^Ogai=森^鷗外=もり^おうがい",
			want: "Mori^Ogai=\x1b$B?9\x1b(B^\x1b$(Dl?\x1b$B30\x1b(B=\x1b$B$b$j\x1b(B^" +
				"\x1b$B$*$&$,$$\x1b(B"},
		{name: "japanese katakana in G1", terms: []string{"ISO 2022 IR 13", "ISO 2022 IR 87"}, vr: dicom.LO,
			in: "あaｱア", want: "\x1b$B$\"\x1b(Ja\xb1\x1b$B%\"\x1b(J"},
		{name: "korean PN", terms: []string{"", "ISO 2022 IR 149"}, vr: dicom.PN,
			in:   "Hong^Gildong=洪^吉洞=홍^길동",
			want: "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf"},
		{name: "korean multi-valued", terms: []string{"", "ISO 2022 IR 149"}, vr: dicom.LO,
			in: `김희중\김 희중`, want: "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\\\x1b$)C\xb1\xe8 \xc8\xf1\xc1\xdf"},
		{name: "chinese GB 2312", terms: []string{"", "ISO 2022 IR 58"}, vr: dicom.PN,
			in: "Zhang^XiaoDong=张^小东=", want: "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab="},
		{name: "GB18030", terms: []string{"GB18030"}, vr: dicom.PN,
			in: "Wang^XiaoDong=王^小东=", want: "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab="},
		{name: "GBK", terms: []string{"GBK"}, vr: dicom.LO, in: `王\乗`, want: "\xcd\xf5\\\x81\\"},
		{name: "UTF-8", terms: []string{"ISO_IR 192"}, vr: dicom.PN, in: "王^小東", want: "王^小東"},
		{name: "latin-1", terms: []string{"ISO_IR 100"}, vr: dicom.PN, in: "Buc^Jérôme", want: "Buc^J\xe9r\xf4me"},
		{name: "latin-9 euro", terms: []string{"ISO_IR 203"}, vr: dicom.LO, in: "5 €", want: "5 \xa4"},
		{name: "latin-5", terms: []string{"ISO 2022 IR 148"}, vr: dicom.PN, in: "Çavuşoğlu", want: "\xc7avu\xfeo\xf0lu"},
		{name: "thai", terms: []string{"ISO_IR 166"}, vr: dicom.PN, in: "นามสกุล", want: "\xb9\xd2\xc1\xca\xa1\xd8\xc5"},
		{name: "JIS X 0201", terms: []string{"ISO_IR 13"}, vr: dicom.PN, in: "ﾔﾏﾀﾞ^ﾀﾛｳ", want: "\xd4\xcf\xc0\xde^\xc0\xdb\xb3"},
		{name: "G1 switch and return", terms: []string{"ISO 2022 IR 100", "ISO 2022 IR 144"}, vr: dicom.LO,
			in: "Jérôme Люк", want: "J\xe9r\xf4me \x1b-L\xbb\xee\xda\x1b-A"},
		{name: "G1 return before line end", terms: []string{"ISO 2022 IR 100", "ISO 2022 IR 126"}, vr: dicom.LT,
			in: "Δ\r\né\\Δ", want: "\x1b-F\xc4\x1b-A\r\n\xe9\\\x1b-F\xc4\x1b-A"},
		{name: "ascii passes", terms: []string{"ISO_IR 6"}, vr: dicom.LO, in: `A^B\C`, want: `A^B\C`},
		{name: "empty", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.PN, in: "", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.terms...)
			got, err := c.Encode(tc.vr, tc.in)
			if err != nil {
				t.Fatalf("Encode() error = %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("Encode() = %q, want %q", got, tc.want)
			}
			if back, err := c.Decode(tc.vr, got); err != nil || back != tc.in {
				t.Errorf("Decode(Encode()) = %q, %v, want %q", back, err, tc.in)
			}
		})
	}
}

func TestEncodeUnencodable(t *testing.T) {
	tests := []struct {
		name  string
		terms []string
		in    string
	}{
		{name: "default repertoire", terms: nil, in: "Jérôme"},
		{name: "cyrillic in latin-1", terms: []string{"ISO_IR 100"}, in: "Люк"},
		{name: "katakana without IR 13", terms: []string{"", "ISO 2022 IR 149"}, in: "ﾔﾏﾀﾞ"},
		{name: "hangul in JIS", terms: []string{"", "ISO 2022 IR 87"}, in: "홍"},
		{name: "ESC with code extensions", terms: []string{"", "ISO 2022 IR 87"}, in: "a\x1b(Bb"},
		{name: "emoji in GBK", terms: []string{"GBK"}, in: "王😀"},
		{name: "invalid UTF-8", terms: []string{"ISO_IR 192"}, in: "a\xffb"},
		{name: "U+FFFD in latin-1", terms: []string{"ISO_IR 100"}, in: "\uFFFD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := New(tc.terms)
			if _, err := c.Encode(dicom.LO, tc.in); !errors.Is(err, ErrUnencodable) {
				t.Fatalf("Encode() error = %v, want %v", err, ErrUnencodable)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		terms   []string
		vr      dicom.VR
		raw     string
		want    string
		wantErr error
	}{
		// A byte 0x5C inside a multi-byte character is no value delimiter.
		{name: "GBK trail byte 0x5C", terms: []string{"GBK"}, vr: dicom.LO, raw: "\x81\\\\\xcd\xf5", want: `乗\王`},
		{name: "GB18030 trail byte 0x5C", terms: []string{"GB18030"}, vr: dicom.LO, raw: "\x81\\", want: "乗"},
		{name: "JIS X 0208 byte 0x5C", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.PN,
			raw: "\x1b$B%\\\x1b(B\\\x1b$B%\\\x1b(B", want: `ボ\ボ`},
		// Lenient reading.
		{name: "ISO 2022 single-byte escapes", terms: []string{"ISO 2022 IR 13"}, vr: dicom.PN,
			raw: "\x1b)I\xd4\xcf\xc0\xde^\x1b)I\xc0\xdb\xb3", want: "ﾔﾏﾀﾞ^ﾀﾛｳ"},
		{name: "greek escape", terms: []string{"ISO 2022 IR 126"}, vr: dicom.PN,
			raw: "\x1b-F\xc4\xe9\xef\xed\xf5\xf3\xe9\xef\xf2", want: "Διονυσιος"},
		{name: "thai escape", terms: []string{"ISO 2022 IR 166"}, vr: dicom.PN,
			raw: "\x1b-T\xb9\xd2\xc1\xca\xa1\xd8\xc5", want: "นามสกุล"},
		{name: "unlisted set is honoured", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.PN,
			raw: "\x1b$)C\xb1\xe8", want: "김"},
		{name: "G1 kept across delimiter", terms: []string{"", "ISO 2022 IR 149"}, vr: dicom.PN,
			raw: "\x1b$)C\xb1\xe8^\xc8\xf1", want: "김^희"},
		{name: "G0 reset at line end", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LT,
			raw: "\x1b$B$d\n$d", want: "や\n$d"},
		{name: "caret is text outside PN", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO,
			raw: "\x1b$B$d$^\x1b(B", want: "やま"},
		{name: "JIS C 6226 escape", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO,
			raw: "\x1b$@$d\x1b(B", want: "や"},
		{name: "ISO_IR 6 in UTF-8", terms: nil, vr: dicom.LO, raw: "Jérôme", want: "Jérôme", wantErr: ErrInvalidBytes},
		{name: "ISO_IR 6 in latin-1", terms: []string{"ISO_IR 6"}, vr: dicom.LO, raw: "J\xe9r\xf4me", want: "Jérôme", wantErr: ErrInvalidBytes},
		// Invalid bytes.
		{name: "bad UTF-8", terms: []string{"ISO_IR 192"}, vr: dicom.LO, raw: "a\xffb\xe7\x8e", want: "a\uFFFDb\uFFFD\uFFFD", wantErr: ErrInvalidBytes},
		{name: "undefined arabic byte", terms: []string{"ISO_IR 127"}, vr: dicom.LO, raw: "a\xa1", want: "a\uFFFD", wantErr: ErrInvalidBytes},
		{name: "unknown escape", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO, raw: "a\x1b(Zb", want: "a\uFFFDb", wantErr: ErrInvalidBytes},
		{name: "malformed escape", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO, raw: "a\x1b\x01b", want: "a\uFFFD\x01b", wantErr: ErrInvalidBytes},
		{name: "truncated escape", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO, raw: "a\x1b$", want: "a\uFFFD", wantErr: ErrInvalidBytes},
		{name: "truncated JIS character", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO, raw: "\x1b$B$", want: "\uFFFD", wantErr: ErrInvalidBytes},
		{name: "G1 byte without G1 set", terms: []string{"", "ISO 2022 IR 87"}, vr: dicom.LO, raw: "\xb1", want: "\uFFFD", wantErr: ErrInvalidBytes},
		{name: "truncated korean", terms: []string{"", "ISO 2022 IR 149"}, vr: dicom.LO, raw: "\x1b$)C\xb1", want: "\uFFFD", wantErr: ErrInvalidBytes},
		{name: "bad GB18030", terms: []string{"GB18030"}, vr: dicom.LO, raw: "\xcd", want: "\uFFFD", wantErr: ErrInvalidBytes},
		{name: "C1 controls", terms: []string{"ISO_IR 100"}, vr: dicom.LO, raw: "\x85", want: "\u0085"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := New(tc.terms)
			got, err := c.Decode(tc.vr, []byte(tc.raw))
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Decode() error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Decode() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name        string
		terms       []string
		wantTerms   []string
		wantDefault bool
		wantErr     error
	}{
		{name: "none", terms: nil, wantTerms: []string{}, wantDefault: true},
		{name: "empty", terms: []string{""}, wantTerms: []string{""}, wantDefault: true},
		{name: "ISO_IR 6", terms: []string{"ISO_IR 6"}, wantTerms: []string{"ISO_IR 6"}, wantDefault: true},
		{name: "latin-1", terms: []string{"ISO_IR 100"}, wantTerms: []string{"ISO_IR 100"}},
		{name: "padded", terms: []string{" ISO_IR 100 "}, wantTerms: []string{"ISO_IR 100"}},
		{name: "misspelled", terms: []string{"iso-ir 100"}, wantTerms: []string{"ISO_IR 100"}},
		{name: "UTF-8 alias", terms: []string{"UTF-8"}, wantTerms: []string{"ISO_IR 192"}},
		{name: "korean without 2022", terms: []string{"ISO_IR 149"}, wantTerms: []string{"ISO 2022 IR 149"}},
		{name: "code extensions", terms: []string{"", "ISO 2022 IR 87"}, wantTerms: []string{"", "ISO 2022 IR 87"}},
		{name: "unknown", terms: []string{"ISO_IR 999"}, wantTerms: []string{"ISO_IR 999"}, wantDefault: true, wantErr: ErrUnknownCharset},
		{name: "unknown extension", terms: []string{"ISO 2022 IR 100", "ISO 2022 IR 146"},
			wantTerms: []string{"ISO 2022 IR 100", "ISO 2022 IR 146"}, wantErr: ErrUnknownCharset},
		{name: "stand-alone with extensions", terms: []string{"ISO_IR 192", "ISO 2022 IR 87"},
			wantTerms: []string{"ISO_IR 192", "ISO 2022 IR 87"}, wantErr: ErrUnknownCharset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.terms)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("New() error = %v, want %v", err, tc.wantErr)
			}
			if c == nil {
				t.Fatal("New() returned a nil Codec")
			}
			if got := c.Terms(); strings.Join(got, `\`) != strings.Join(tc.wantTerms, `\`) || len(got) != len(tc.wantTerms) {
				t.Errorf("Terms() = %q, want %q", got, tc.wantTerms)
			}
			if got := c.IsDefault(); got != tc.wantDefault {
				t.Errorf("IsDefault() = %v, want %v", got, tc.wantDefault)
			}
			// Every Codec is usable, whatever the error.
			if got, err := c.Decode(dicom.PN, []byte("Doe^John")); err != nil || got != "Doe^John" {
				t.Errorf("Decode() = %q, %v", got, err)
			}
			c2, err2 := New(tc.terms)
			if c2 != c || (err2 == nil) != (err == nil) {
				t.Errorf("second New() = %p, %v; want the cached %p, %v", c2, err2, c, err)
			}
		})
	}
}

func TestUnknownTermsAreSkipped(t *testing.T) {
	c, err := New([]string{"ISO 2022 IR 100", "ISO 2022 IR 146", "ISO 2022 IR 126"})
	if !errors.Is(err, ErrUnknownCharset) {
		t.Fatalf("New() error = %v, want %v", err, ErrUnknownCharset)
	}
	b, err := c.Encode(dicom.LO, "é Δ")
	if err != nil {
		t.Fatalf("Encode() error = %v", err)
	}
	if want := "\xe9 \x1b-F\xc4\x1b-A"; string(b) != want {
		t.Errorf("Encode() = %q, want %q", b, want)
	}
}

// TestRoundTrip checks Decode(Encode(s)) == s for text in every set.
func TestRoundTrip(t *testing.T) {
	texts := []string{
		"", "Doe^John", `a\b\c`, "Buc^Jérôme", "Äneas^Rüdiger", "Wałęsa", "antaŭnomo", "vārds",
		"Люкceмбypг", "قباني^لنزار", "Διονυσιος", "שרון^דבורה", "Çavuşoğlu", "€uro", "นามสกุล",
		"ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", "Mori^Ogai=森^鷗外=もり^おうがい", "Hong^Gildong=洪^吉洞=홍^길동",
		"Zhang^XiaoDong=张^小东=", "line one\r\nline two\tδ\r\n", "Jérôme Люк Δ 山田 ﾔ 홍 张",
	}
	termLists := [][]string{
		{"ISO_IR 192"}, {"GB18030"},
		{"ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144",
			"ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203",
			"ISO 2022 IR 166", "ISO 2022 IR 13", "ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
			"ISO 2022 IR 58"},
		{"", "ISO 2022 IR 149", "ISO 2022 IR 87", "ISO 2022 IR 58", "ISO 2022 IR 126", "ISO 2022 IR 144",
			"ISO 2022 IR 100", "ISO 2022 IR 159", "ISO 2022 IR 13", "ISO 2022 IR 101", "ISO 2022 IR 166"},
	}
	for _, terms := range termLists {
		c := mustNew(t, terms...)
		for _, s := range texts {
			for _, vr := range []dicom.VR{dicom.PN, dicom.LO, dicom.LT} {
				b, err := c.Encode(vr, s)
				if err != nil {
					// Only the last list lacks some sets.
					if !errors.Is(err, ErrUnencodable) || len(terms) != 11 {
						t.Errorf("%q: Encode(%s, %q) error = %v", terms, vr, s, err)
					}
					continue
				}
				if got, err := c.Decode(vr, b); err != nil || got != s {
					t.Errorf("%q: Decode(%s, %q) = %q, %v, want %q", terms, vr, b, got, err, s)
				}
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, tc := range samples {
				c, err := New(tc.terms)
				if err != nil {
					t.Errorf("New() error = %v", err)
					return
				}
				if got, _ := c.Decode(tc.vr, []byte(tc.raw)); got != tc.want {
					t.Errorf("Decode() = %q, want %q", got, tc.want)
				}
			}
		}()
	}
	wg.Wait()
}

// TestDecodeASCIIAllocs checks that a pure ASCII value costs only the string.
func TestDecodeASCIIAllocs(t *testing.T) {
	raw := []byte(`Doe^John^^Dr\Roe^Jane `)
	for _, terms := range [][]string{nil, {"ISO_IR 100"}, {"ISO_IR 192"}, {"GB18030"}, {"GBK"}, {"ISO_IR 13"},
		{"", "ISO 2022 IR 87"}, {"ISO 2022 IR 100", "ISO 2022 IR 149"}} {
		c := mustNew(t, terms...)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := c.Decode(dicom.PN, raw); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 1 {
			t.Errorf("%q: Decode() allocations = %v, want at most 1", terms, allocs)
		}
	}
}

// TestTables checks a few code points of every built-in table.
func TestTables(t *testing.T) {
	tests := []struct {
		set  *gset
		code uint16 // one byte for single-byte sets, two for wide ones
		want rune
	}{
		{setLatin1, 0xE9, 'é'}, {setLatin2, 0xB3, 'ł'}, {setLatin3, 0xFD, 'ŭ'}, {setLatin4, 0xE0, 'ā'},
		{setCyrillic, 0xBB, 'Л'}, {setArabic, 0xC8, 'ب'}, {setGreek, 0xC4, 'Δ'}, {setHebrew, 0xF9, 'ש'},
		{setLatin5, 0xFE, 'ş'}, {setLatin9, 0xA4, '€'}, {setThai, 0xA1, 'ก'}, {setKatakana, 0xB1, 'ｱ'},
		{setJIS0208, 0x3B33, '山'}, {setJIS0212, 0x6C3F, '鷗'}, {setKSX1001, 0x3168, '김'}, {setGB2312, 0x5545, '张'},
	}
	for _, tc := range tests {
		var got rune
		var ok bool
		if tc.set.wide {
			got, ok = tc.set.decode2(byte(tc.code>>8), byte(tc.code))
		} else {
			got, ok = tc.set.decode1(byte(tc.code))
		}
		if !ok || got != tc.want {
			t.Errorf("%s: code %#x = %q, %v, want %q", tc.set.name, tc.code, got, ok, tc.want)
		}
		b, ok := tc.set.appendRune(nil, tc.want)
		want := []byte{byte(tc.code)}
		if tc.set.wide {
			want = []byte{byte(tc.code >> 8), byte(tc.code)}
			if tc.set.g1 {
				want[0], want[1] = want[0]|0x80, want[1]|0x80
			}
		}
		if !ok || !bytes.Equal(b, want) {
			t.Errorf("%s: encode %q = %x, %v, want %x", tc.set.name, tc.want, b, ok, want)
		}
	}
}

func TestDecodeAlwaysValidUTF8(t *testing.T) {
	raw := make([]byte, 256)
	for i := range raw {
		raw[i] = byte(i)
	}
	for _, terms := range fuzzTerms {
		c, _ := New(terms)
		for _, vr := range []dicom.VR{dicom.PN, dicom.LO, dicom.LT} {
			if got, _ := c.Decode(vr, raw); !utf8.ValidString(got) {
				t.Errorf("%q: Decode() = %q, not valid UTF-8", terms, got)
			}
		}
	}
}
