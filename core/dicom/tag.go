package dicom

import (
	"fmt"
	"strconv"
)

// Tag identifies a data element: the group number in the high 16 bits, the
// element number in the low 16 bits (PS3.5 §7.1).
type Tag uint32

// NewTag returns the tag (group,element).
func NewTag(group, element uint16) Tag { return Tag(uint32(group)<<16 | uint32(element)) }

// Group returns the group number.
func (t Tag) Group() uint16 { return uint16(t >> 16) }

// Element returns the element number.
func (t Tag) Element() uint16 { return uint16(t) }

// String formats t as dcmdump does: "(0010,0010)".
func (t Tag) String() string {
	const hex = "0123456789abcdef"
	var b [11]byte
	b[0], b[5], b[10] = '(', ',', ')'
	for i := 0; i < 4; i++ {
		b[4-i] = hex[(t>>(16+4*i))&0xf]
		b[9-i] = hex[(t>>(4*i))&0xf]
	}
	return string(b[:])
}

// IsPrivate reports whether t is in an odd group (PS3.5 §7.8), excluding the
// illegal groups 0001, 0003, 0005, 0007 and FFFF.
func (t Tag) IsPrivate() bool {
	g := t.Group()
	return g&1 == 1 && g > 7 && g != 0xffff
}

// IsPrivateCreator reports whether t is a Private Creator element (gggg,0010-00FF).
func (t Tag) IsPrivateCreator() bool {
	e := t.Element()
	return t.IsPrivate() && e >= 0x10 && e <= 0xff
}

// PrivateCreator returns the tag of the Private Creator element that reserves
// the block holding the private element t, and false if t is not a private
// data element (gggg,xxyy with xx in 10-FF).
func (t Tag) PrivateCreator() (Tag, bool) {
	e := t.Element()
	if !t.IsPrivate() || e < 0x1000 {
		return 0, false
	}
	return NewTag(t.Group(), e>>8), true
}

// IsGroupLength reports whether t is a group length element (gggg,0000).
func (t Tag) IsGroupLength() bool { return t.Element() == 0 }

// ParseTag parses "(gggg,eeee)", "gggg,eeee" or "ggggeeee" (hexadecimal).
func ParseTag(s string) (Tag, error) {
	orig := s
	if len(s) >= 2 && s[0] == '(' && s[len(s)-1] == ')' {
		s = s[1 : len(s)-1]
	}
	if len(s) == 9 && s[4] == ',' {
		s = s[:4] + s[5:]
	}
	if len(s) != 8 {
		return 0, fmt.Errorf("dicom: invalid tag %q", orig)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("dicom: invalid tag %q", orig)
	}
	return Tag(v), nil
}

// Item, sequence and delimitation tags (PS3.5 §7.5).
const (
	ItemTag                     Tag = 0xfffee000
	ItemDelimitationItemTag     Tag = 0xfffee00d
	SequenceDelimitationItemTag Tag = 0xfffee0dd
)

// UndefinedLength is the value length 0xFFFFFFFF of sequences, items and
// encapsulated pixel data whose end is marked by a delimitation item.
const UndefinedLength uint32 = 0xffffffff
