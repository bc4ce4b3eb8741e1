package charset

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/pacsforge/pacs/core/dicom"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Encode converts s, a UTF-8 value of vr (all its backslash-separated values
// and, for PN, all its component groups), to the Codec's character sets. It
// adds no padding.
//
// With code extensions, each character is written in the active set if that
// set has it, else in the first listed set that has it, with an escape
// sequence designating that set. Before each delimiter at which the initial
// sets become active again (see Decode) and at the end of the value, escape
// sequences return to the initial sets (PS3.5 §6.1.2.5.3), so that each PN
// component group and each value stands on its own.
//
// A character none of the sets can represent, or s that is not valid UTF-8,
// is an error wrapping ErrUnencodable; ESC cannot be encoded with code
// extensions. The default repertoire represents ASCII only. For every s that
// Encode accepts, Decode returns s again.
func (c *Codec) Encode(vr dicom.VR, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("encode %s value: %w: invalid UTF-8", vr, ErrUnencodable)
	}
	switch c.kind {
	case kindDefault:
		for _, r := range s {
			if r >= 0x80 {
				return nil, c.unencodable(vr, r)
			}
		}
		return []byte(s), nil
	case kindUTF8:
		return []byte(s), nil
	case kindGB18030, kindGBK:
		return c.encodeChinese(vr, s)
	}
	return c.encodeTable(vr, s)
}

func (c *Codec) unencodable(vr dicom.VR, r rune) error {
	return fmt.Errorf("encode %s value: %w: %U in %q", vr, ErrUnencodable, r, c.name)
}

// encodeChinese encodes GB18030 or GBK with golang.org/x/text.
func (c *Codec) encodeChinese(vr dicom.VR, s string) ([]byte, error) {
	if asciiOnly([]byte(s), false) {
		return []byte(s), nil
	}
	enc := simplifiedchinese.GBK.NewEncoder()
	if c.kind == kindGB18030 {
		enc = simplifiedchinese.GB18030.NewEncoder()
	}
	b, err := enc.Bytes([]byte(s))
	if err != nil {
		for _, r := range s { // name the first character GBK lacks
			if _, err := enc.String(string(r)); err != nil {
				return nil, c.unencodable(vr, r)
			}
		}
		return nil, fmt.Errorf("encode %s value: %w: %v", vr, ErrUnencodable, err)
	}
	if c.kind == kindGB18030 {
		// golang.org/x/text maps some private-use characters to GB18030
		// bytes that decode to other characters (the 2005 and 2022
		// editions moved them): those are refused rather than altered.
		dec := simplifiedchinese.GB18030.NewDecoder()
		for _, r := range s {
			if !unicode.In(r, unicode.Co) {
				continue
			}
			rb, err := enc.String(string(r))
			if err != nil {
				return nil, c.unencodable(vr, r)
			}
			if back, err := dec.String(rb); err != nil || back != string(r) {
				return nil, c.unencodable(vr, r)
			}
		}
	}
	return b, nil
}

// encodeTable encodes the single-byte sets and ISO 2022 code extensions.
func (c *Codec) encodeTable(vr dicom.VR, s string) ([]byte, error) {
	out := make([]byte, 0, len(s)+16) // room for a few escape sequences
	g0, g1 := c.init0, c.init1
	restore := func() {
		if g0 != c.init0 {
			out = append(out, c.init0.esc...)
		}
		if g1 != c.init1 && c.init1 != nil {
			out = append(out, c.init1.esc...)
		}
		g0, g1 = c.init0, c.init1
	}
	for _, r := range s {
		switch {
		case r == 0x1B && c.iso2022:
			return nil, c.unencodable(vr, r)
		case r < 0x80:
			b := byte(r)
			if isDelimiter(vr, b) {
				restore()
			} else if !g0.ascii {
				out = append(out, c.init0.esc...)
				g0 = c.init0
			}
			out = append(out, b)
			continue
		case r < 0xA0: // C1 control characters stand for themselves
			out = append(out, byte(r))
			continue
		}
		var ok bool
		if g0.wide {
			if out, ok = g0.appendRune(out, r); ok {
				continue
			}
		}
		if g1 != nil {
			if out, ok = g1.appendRune(out, r); ok {
				continue
			}
		}
		if !c.iso2022 {
			return nil, c.unencodable(vr, r)
		}
		for _, set := range c.sets {
			if set == g0 || set == g1 {
				continue
			}
			mark := len(out)
			if out, ok = set.appendRune(append(out, set.esc...), r); ok {
				if set.g1 {
					g1 = set
				} else {
					g0 = set
				}
				break
			}
			out = out[:mark]
		}
		if !ok {
			return nil, c.unencodable(vr, r)
		}
	}
	restore()
	return out, nil
}
