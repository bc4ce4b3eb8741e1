package charset

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Decode converts raw, an encoded value of vr (all its backslash-separated
// values and, for PN, all its component groups, padding included), to UTF-8.
// The whole value is decoded before the caller splits it at backslash, since
// a byte 0x5C inside a GBK, GB18030 or JIS X 0208 character is no delimiter.
//
// With code extensions, the initial character sets are active again at the
// start of the value, after each control character (CR, LF, FF, TAB), after
// each backslash of a multi-valued VR and after each '^' and '=' of PN (PS3.5
// §6.1.2.5.3); escape sequences of any set this package knows are honoured.
//
// Bytes that are not valid in the character set become U+FFFD and the error
// wraps ErrInvalidBytes; the string is still usable. For the default
// repertoire, non-ASCII bytes are taken as UTF-8 if they are valid UTF-8 and
// as ISO 8859-1 otherwise, again with an error wrapping ErrInvalidBytes.
// Decode never panics; a pure ASCII value costs one allocation, the result.
func (c *Codec) Decode(vr dicom.VR, raw []byte) (string, error) {
	switch c.kind {
	case kindDefault:
		return decodeDefault(vr, raw)
	case kindUTF8:
		return decodeUTF8(vr, raw)
	case kindGB18030, kindGBK:
		return c.decodeChinese(vr, raw)
	}
	return c.decodeTable(vr, raw)
}

// asciiOnly reports whether b holds only bytes below 0x80, and no ESC if esc.
func asciiOnly(b []byte, esc bool) bool {
	for _, x := range b {
		if x >= 0x80 || (esc && x == 0x1B) {
			return false
		}
	}
	return true
}

func invalidAt(vr dicom.VR, off int) error {
	return fmt.Errorf("decode %s value: %w at byte %d", vr, ErrInvalidBytes, off)
}

func decodeDefault(vr dicom.VR, raw []byte) (string, error) {
	if asciiOnly(raw, false) {
		return string(raw), nil
	}
	off := firstNonASCII(raw)
	if utf8.Valid(raw) {
		return string(raw), invalidAt(vr, off)
	}
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/2)
	for _, x := range raw {
		b.WriteRune(rune(x)) // ISO 8859-1
	}
	return b.String(), invalidAt(vr, off)
}

func firstNonASCII(b []byte) int {
	for i, x := range b {
		if x >= 0x80 {
			return i
		}
	}
	return len(b)
}

func decodeUTF8(vr dicom.VR, raw []byte) (string, error) {
	if utf8.Valid(raw) {
		return string(raw), nil
	}
	var b strings.Builder
	b.Grow(len(raw) + 8)
	bad := -1
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			if bad < 0 {
				bad = i
			}
			n = 1
		}
		b.WriteRune(r)
		i += n
	}
	return b.String(), invalidAt(vr, bad)
}

// decodeChinese decodes GB18030 or GBK with golang.org/x/text.
func (c *Codec) decodeChinese(vr dicom.VR, raw []byte) (string, error) {
	if asciiOnly(raw, false) {
		return string(raw), nil
	}
	dec := simplifiedchinese.GBK.NewDecoder()
	if c.kind == kindGB18030 {
		dec = simplifiedchinese.GB18030.NewDecoder()
	}
	out, err := dec.Bytes(raw)
	if err != nil {
		// The decoders replace bad input; an error here is unexpected.
		return strings.ToValidUTF8(string(raw), "\uFFFD"), fmt.Errorf("decode %s value: %w: %v", vr, ErrInvalidBytes, err)
	}
	s := string(out)
	if i := strings.IndexRune(s, utf8.RuneError); i >= 0 {
		return s, fmt.Errorf("decode %s value: %w", vr, ErrInvalidBytes)
	}
	return s, nil
}

// decodeTable decodes the single-byte sets and ISO 2022 code extensions.
func (c *Codec) decodeTable(vr dicom.VR, raw []byte) (string, error) {
	if asciiOnly(raw, c.iso2022) {
		return string(raw), nil
	}
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/2 + 4)
	g0, g1 := c.init0, c.init1
	var lastG1 *gset // designated G1 set, kept across resets when init1 is nil
	bad := -1
	fail := func(i int) {
		b.WriteRune(utf8.RuneError)
		if bad < 0 {
			bad = i
		}
	}
	for i := 0; i < len(raw); {
		ch := raw[i]
		switch {
		case ch == 0x1B && c.iso2022:
			n, s := parseEscape(raw[i:])
			switch {
			case s == nil:
				fail(i)
			case s.g1:
				g1, lastG1 = s, s
			default:
				g0 = s
			}
			i += n
		case ch < 0x80 && (g0.ascii || ch <= 0x20 || ch == 0x7F):
			b.WriteByte(ch)
			if isDelimiter(vr, ch) {
				g0, g1 = c.init0, c.init1
			}
			i++
		case ch < 0x80: // a 94×94 set in G0
			if i+1 < len(raw) {
				if r, ok := g0.decode2(ch, raw[i+1]); ok {
					b.WriteRune(r)
					i += 2
					continue
				}
			}
			fail(i)
			i++
		case ch < 0xA0: // C1 control characters
			b.WriteRune(rune(ch))
			i++
		default:
			s := g1
			if s == nil {
				s = lastG1
			}
			switch {
			case s == nil:
				fail(i)
				i++
			case s.wide:
				if i+1 < len(raw) {
					if r, ok := s.decode2(ch&0x7F, raw[i+1]&0x7F); ok && raw[i+1] >= 0xA1 {
						b.WriteRune(r)
						i += 2
						continue
					}
				}
				fail(i)
				i++
			default:
				if r, ok := s.decode1(ch); ok {
					b.WriteRune(r)
				} else {
					fail(i)
				}
				i++
			}
		}
	}
	if bad >= 0 {
		return b.String(), invalidAt(vr, bad)
	}
	return b.String(), nil
}
