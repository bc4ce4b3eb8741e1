package dicom

// VR is a value representation (PS3.5 §6.2). The zero VR is NoVR, used for
// items and delimiters, which carry no VR.
type VR uint8

// The 34 value representations of PS3.5 (2024), in alphabetical order.
const (
	NoVR VR = iota
	AE
	AS
	AT
	CS
	DA
	DS
	DT
	FD
	FL
	IS
	LO
	LT
	OB
	OD
	OF
	OL
	OV
	OW
	PN
	SH
	SL
	SQ
	SS
	ST
	SV
	TM
	UC
	UI
	UL
	UN
	UR
	US
	UT
	UV
	numVRs
)

// vrInfo describes the encoding rules of one VR.
type vrInfo struct {
	name      [2]byte
	long      bool  // 32-bit length (and 2 reserved bytes) in explicit VR
	text      bool  // character string VR
	multi     bool  // text split into values at backslash
	charset   bool  // value is affected by Specific Character Set
	pad       byte  // padding byte for odd lengths
	width     uint8 // size of one value for binary numeric VRs; swap unit for byte order
	maxLength int   // maximum length in bytes (or characters for charset VRs) of one value; 0 = unbounded
}

var vrTable = [numVRs]vrInfo{
	NoVR: {name: [2]byte{'?', '?'}},
	AE:   {name: [2]byte{'A', 'E'}, text: true, multi: true, pad: ' ', maxLength: 16},
	AS:   {name: [2]byte{'A', 'S'}, text: true, multi: true, pad: ' ', maxLength: 4},
	AT:   {name: [2]byte{'A', 'T'}, width: 2, maxLength: 4},
	CS:   {name: [2]byte{'C', 'S'}, text: true, multi: true, pad: ' ', maxLength: 16},
	DA:   {name: [2]byte{'D', 'A'}, text: true, multi: true, pad: ' ', maxLength: 18},
	DS:   {name: [2]byte{'D', 'S'}, text: true, multi: true, pad: ' ', maxLength: 16},
	DT:   {name: [2]byte{'D', 'T'}, text: true, multi: true, pad: ' ', maxLength: 54},
	FD:   {name: [2]byte{'F', 'D'}, width: 8},
	FL:   {name: [2]byte{'F', 'L'}, width: 4},
	IS:   {name: [2]byte{'I', 'S'}, text: true, multi: true, pad: ' ', maxLength: 12},
	LO:   {name: [2]byte{'L', 'O'}, text: true, multi: true, charset: true, pad: ' ', maxLength: 64},
	LT:   {name: [2]byte{'L', 'T'}, text: true, charset: true, pad: ' ', maxLength: 10240},
	OB:   {name: [2]byte{'O', 'B'}, long: true, pad: 0, width: 1},
	OD:   {name: [2]byte{'O', 'D'}, long: true, width: 8},
	OF:   {name: [2]byte{'O', 'F'}, long: true, width: 4},
	OL:   {name: [2]byte{'O', 'L'}, long: true, width: 4},
	OV:   {name: [2]byte{'O', 'V'}, long: true, width: 8},
	OW:   {name: [2]byte{'O', 'W'}, long: true, width: 2},
	PN:   {name: [2]byte{'P', 'N'}, text: true, multi: true, charset: true, pad: ' ', maxLength: 64},
	SH:   {name: [2]byte{'S', 'H'}, text: true, multi: true, charset: true, pad: ' ', maxLength: 16},
	SL:   {name: [2]byte{'S', 'L'}, width: 4},
	SQ:   {name: [2]byte{'S', 'Q'}, long: true},
	SS:   {name: [2]byte{'S', 'S'}, width: 2},
	ST:   {name: [2]byte{'S', 'T'}, text: true, charset: true, pad: ' ', maxLength: 1024},
	SV:   {name: [2]byte{'S', 'V'}, long: true, width: 8},
	TM:   {name: [2]byte{'T', 'M'}, text: true, multi: true, pad: ' ', maxLength: 28},
	UC:   {name: [2]byte{'U', 'C'}, long: true, text: true, multi: true, charset: true, pad: ' '},
	UI:   {name: [2]byte{'U', 'I'}, text: true, multi: true, pad: 0, maxLength: 64},
	UL:   {name: [2]byte{'U', 'L'}, width: 4},
	UN:   {name: [2]byte{'U', 'N'}, long: true, width: 1},
	UR:   {name: [2]byte{'U', 'R'}, long: true, text: true, pad: ' '},
	US:   {name: [2]byte{'U', 'S'}, width: 2},
	UT:   {name: [2]byte{'U', 'T'}, long: true, text: true, charset: true, pad: ' '},
	UV:   {name: [2]byte{'U', 'V'}, long: true, width: 8},
}

// String returns the two-letter name of v ("??" for NoVR or an invalid VR).
func (v VR) String() string {
	if v >= numVRs {
		return "??"
	}
	return string(vrTable[v].name[:])
}

// Valid reports whether v is one of the 34 VRs.
func (v VR) Valid() bool { return v > NoVR && v < numVRs }

// vrByCode maps two upper-case letters (26*(a-'A')+(b-'A')) to the VR they spell.
var vrByCode = func() (t [26 * 26]VR) {
	for v := AE; v < numVRs; v++ {
		n := vrTable[v].name
		t[26*int(n[0]-'A')+int(n[1]-'A')] = v
	}
	return t
}()

// LookupVR returns the VR spelled by the two bytes a, b, and false if they
// spell none of the 34 VRs.
func LookupVR(a, b byte) (VR, bool) {
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return NoVR, false
	}
	v := vrByCode[26*int(a-'A')+int(b-'A')]
	return v, v != NoVR
}

// ParseVR returns the VR named s ("PN"), and false if s names none.
func ParseVR(s string) (VR, bool) {
	if len(s) != 2 {
		return NoVR, false
	}
	return LookupVR(s[0], s[1])
}

// HasLongLength reports whether v is encoded in explicit VR with two reserved
// bytes and a 32-bit length (PS3.5 Table 7.1-1): OB OD OF OL OV OW SQ SV UC UN
// UR UT UV.
func (v VR) HasLongLength() bool { return v < numVRs && vrTable[v].long }

// IsText reports whether v is a character string VR.
func (v VR) IsText() bool { return v < numVRs && vrTable[v].text }

// IsMultiValued reports whether a text value of v holds several values separated
// by backslash; false for LT, ST, UT and UR, whose values may contain backslash.
func (v VR) IsMultiValued() bool { return v < numVRs && vrTable[v].multi }

// UsesCharset reports whether values of v are encoded in the data set's
// Specific Character Set (SH LO ST LT PN UC UT); other text VRs are ASCII.
func (v VR) UsesCharset() bool { return v < numVRs && vrTable[v].charset }

// PadByte returns the byte that pads a value of v to even length: NUL for UI and
// OB (and other binary VRs), space for text.
func (v VR) PadByte() byte {
	if v >= numVRs {
		return 0
	}
	return vrTable[v].pad
}

// ByteWidth returns the size in bytes of one value of a binary VR (2 for US, SS,
// OW and AT; 4 for UL, SL, FL, OF, OL; 8 for FD, OD, OV, SV, UV), 1 for OB and UN,
// and 0 for text VRs and SQ. It is also the unit swapped between byte orders.
func (v VR) ByteWidth() int {
	if v >= numVRs {
		return 0
	}
	return int(vrTable[v].width)
}

// IsBinary reports whether v holds binary (not character) data: every VR with a
// non-zero ByteWidth.
func (v VR) IsBinary() bool { return v.ByteWidth() > 0 }

// MaxLength returns the maximum length of one value of v defined by PS3.5
// Table 6.2-1 (in characters for SH LO ST LT PN, in bytes otherwise), or 0 if the
// VR has no fixed bound (UC UR UT and the O* VRs are bounded only by 2^32-2).
func (v VR) MaxLength() int {
	if v >= numVRs {
		return 0
	}
	return vrTable[v].maxLength
}
