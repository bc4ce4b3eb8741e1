package charset

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// gset is one graphic character set that ISO 2022 can designate into G0 or
// G1 (PS3.3 Tables C.12-3 and C.12-4). Its code table is built on first use.
type gset struct {
	name  string // ISO-IR registration, for messages
	esc   string // escape sequence that designates the set
	g1    bool   // designated into G1 (bytes with the high bit set)
	ascii bool   // G0 set that is ASCII for our purposes (ISO-IR 6, ISO-IR 14)
	wide  bool   // 94×94 set: two bytes per character

	once  sync.Once
	build func() []rune // single-byte: runes for 0xA0..0xFF; wide: 94×94 runes
	dec   []rune        // 0 = no character at that code
	enc   map[rune]uint16
}

// load builds the code tables of s once and returns s.
func (s *gset) load() *gset {
	s.once.Do(func() {
		s.dec = s.build()
		s.enc = make(map[rune]uint16, len(s.dec))
		for i, r := range s.dec {
			if r == 0 {
				continue
			}
			if _, dup := s.enc[r]; !dup { // the lowest code wins
				s.enc[r] = uint16(i)
			}
		}
	})
	return s
}

// decode1 returns the character of the single-byte G1 code b (0xA0..0xFF), or
// false if the set has none there.
func (s *gset) decode1(b byte) (rune, bool) {
	r := s.load().dec[b-0xA0]
	return r, r != 0
}

// decode2 returns the character of the two-byte code b1 b2 (each 0x21..0x7E,
// the high bit removed), or false if the set has none there.
func (s *gset) decode2(b1, b2 byte) (rune, bool) {
	if b1 < 0x21 || b1 > 0x7E || b2 < 0x21 || b2 > 0x7E {
		return 0, false
	}
	r := s.load().dec[int(b1-0x21)*94+int(b2-0x21)]
	return r, r != 0
}

// appendRune appends the code of r in s to dst (with the high bit set for G1
// sets), and reports false, leaving dst as it was, if s cannot encode r.
func (s *gset) appendRune(dst []byte, r rune) ([]byte, bool) {
	if s.ascii {
		if r >= 0x80 {
			return dst, false
		}
		return append(dst, byte(r)), true
	}
	i, ok := s.load().enc[r]
	if !ok {
		return dst, false
	}
	if !s.wide {
		return append(dst, byte(i)+0xA0), true
	}
	b1, b2 := byte(i/94)+0x21, byte(i%94)+0x21
	if s.g1 {
		b1, b2 = b1|0x80, b2|0x80
	}
	return append(dst, b1, b2), true
}

// usable reports whether a decoded rune may stand in a code table: control
// characters and U+FFFD mean "no character here".
func usable(r rune) bool {
	return r >= 0xA0 && r != utf8.RuneError
}

// charmapTable returns the runes of m for 0xA0..0xFF.
func charmapTable(m *charmap.Charmap) func() []rune {
	return func() []rune {
		t := make([]rune, 0x60)
		for i := range t {
			if r := m.DecodeByte(byte(0xA0 + i)); usable(r) || (i == 0 && r == 0xA0) {
				t[i] = r
			}
		}
		return t
	}
}

// thaiTable returns TIS 620 (ISO-IR 166) for 0xA0..0xFF; Windows-874 agrees
// with it there, and 0xA0 is NO-BREAK SPACE as in ISO 8859-11.
func thaiTable() []rune { return charmapTable(charmap.Windows874)() }

// katakanaTable returns JIS X 0201 katakana (ISO-IR 13) for 0xA0..0xFF.
func katakanaTable() []rune {
	t := make([]rune, 0x60)
	for b := 0xA1; b <= 0xDF; b++ {
		t[b-0xA0] = rune(b) + (0xFF61 - 0xA1)
	}
	return t
}

// wideTable decodes every code of a 94×94 set with e, after prefix and the two
// bytes with the high bit set (the EUC form of the set).
func wideTable(e encoding.Encoding, prefix string) func() []rune {
	return func() []rune {
		t := make([]rune, 94*94)
		dec := e.NewDecoder()
		src := make([]byte, 0, 3)
		var dst [8]byte
		for i := range t {
			src = append(append(src[:0], prefix...), byte(i/94)+0xA1, byte(i%94)+0xA1)
			dec.Reset()
			n, _, err := dec.Transform(dst[:], src, true)
			if err != nil {
				continue
			}
			r, size := utf8.DecodeRune(dst[:n])
			if size == n && usable(r) {
				t[i] = r
			}
		}
		return t
	}
}

// The graphic sets, named by their ISO-IR registration numbers. ISO-IR 14
// (JIS X 0201 romaji) is read as ASCII: its YEN SIGN and OVERLINE at 0x5C and
// 0x7E stay backslash and tilde, since 0x5C is the value delimiter.
var (
	setASCII    = &gset{name: "ISO-IR 6", esc: "\x1b(B", ascii: true}
	setRomaji   = &gset{name: "ISO-IR 14", esc: "\x1b(J", ascii: true}
	setKatakana = &gset{name: "ISO-IR 13", esc: "\x1b)I", g1: true, build: katakanaTable}
	setLatin1   = &gset{name: "ISO-IR 100", esc: "\x1b-A", g1: true, build: charmapTable(charmap.ISO8859_1)}
	setLatin2   = &gset{name: "ISO-IR 101", esc: "\x1b-B", g1: true, build: charmapTable(charmap.ISO8859_2)}
	setLatin3   = &gset{name: "ISO-IR 109", esc: "\x1b-C", g1: true, build: charmapTable(charmap.ISO8859_3)}
	setLatin4   = &gset{name: "ISO-IR 110", esc: "\x1b-D", g1: true, build: charmapTable(charmap.ISO8859_4)}
	setCyrillic = &gset{name: "ISO-IR 144", esc: "\x1b-L", g1: true, build: charmapTable(charmap.ISO8859_5)}
	setArabic   = &gset{name: "ISO-IR 127", esc: "\x1b-G", g1: true, build: charmapTable(charmap.ISO8859_6)}
	setGreek    = &gset{name: "ISO-IR 126", esc: "\x1b-F", g1: true, build: charmapTable(charmap.ISO8859_7)}
	setHebrew   = &gset{name: "ISO-IR 138", esc: "\x1b-H", g1: true, build: charmapTable(charmap.ISO8859_8)}
	setLatin5   = &gset{name: "ISO-IR 148", esc: "\x1b-M", g1: true, build: charmapTable(charmap.ISO8859_9)}
	setLatin9   = &gset{name: "ISO-IR 203", esc: "\x1b-b", g1: true, build: charmapTable(charmap.ISO8859_15)}
	setThai     = &gset{name: "ISO-IR 166", esc: "\x1b-T", g1: true, build: thaiTable}
	setJIS0208  = &gset{name: "ISO-IR 87", esc: "\x1b$B", wide: true, build: wideTable(japanese.EUCJP, "")}
	setJIS0212  = &gset{name: "ISO-IR 159", esc: "\x1b$(D", wide: true, build: wideTable(japanese.EUCJP, "\x8f")}
	setKSX1001  = &gset{name: "ISO-IR 149", esc: "\x1b$)C", g1: true, wide: true, build: wideTable(korean.EUCKR, "")}
	setGB2312   = &gset{name: "ISO-IR 58", esc: "\x1b$)A", g1: true, wide: true, build: wideTable(simplifiedchinese.GBK, "")}
)

// byEscape maps every escape sequence the decoder honours to its set. It
// includes ESC $ @ (JIS C 6226-1978), which older writers use for JIS X 0208.
var byEscape = func() map[string]*gset {
	m := make(map[string]*gset)
	for _, s := range []*gset{setASCII, setRomaji, setKatakana, setLatin1, setLatin2, setLatin3,
		setLatin4, setCyrillic, setArabic, setGreek, setHebrew, setLatin5, setLatin9, setThai,
		setJIS0208, setJIS0212, setKSX1001, setGB2312} {
		m[s.esc] = s
	}
	m["\x1b$@"] = setJIS0208
	return m
}()

// maxEscapeLen bounds the length of an escape sequence: ESC, at most three
// intermediate bytes (02/00..02/15) and a final byte (03/00..07/14).
const maxEscapeLen = 5

// parseEscape parses the escape sequence at the start of b (b[0] is ESC). It
// returns its length (at least 1) and its set, or nil if the sequence is
// malformed or designates a set this package does not know.
func parseEscape(b []byte) (int, *gset) {
	i := 1
	for ; i < len(b) && i < maxEscapeLen; i++ {
		switch c := b[i]; {
		case c >= 0x20 && c <= 0x2F:
			continue
		case c >= 0x30 && c <= 0x7E && i > 1:
			return i + 1, byEscape[string(b[:i+1])]
		}
		break
	}
	return i, nil
}
