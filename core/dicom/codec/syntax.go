package codec

import "github.com/pacsforge/pacs/core/dicom/uid"

// Syntax describes how a transfer syntax encodes a data set (PS3.5 §10).
type Syntax struct {
	UID          string
	ExplicitVR   bool
	BigEndian    bool
	Deflated     bool // the data set is compressed with raw deflate (RFC 1951)
	Encapsulated bool // Pixel Data is encapsulated in fragments (PS3.5 §A.4)
}

// The native (uncompressed) transfer syntaxes.
var (
	ImplicitVRLittleEndian         = Syntax{UID: uid.ImplicitVRLittleEndian}
	ExplicitVRLittleEndian         = Syntax{UID: uid.ExplicitVRLittleEndian, ExplicitVR: true}
	ExplicitVRBigEndian            = Syntax{UID: uid.ExplicitVRBigEndian, ExplicitVR: true, BigEndian: true}
	DeflatedExplicitVRLittleEndian = Syntax{UID: uid.DeflatedExplicitVRLittleEndian, ExplicitVR: true, Deflated: true}
)

// LookupSyntax returns the encoding of the transfer syntax uid (trailing NUL
// and space padding ignored). The four native syntaxes (and the retired Papyrus
// 3 implicit syntax) are returned as declared above; every other transfer
// syntax of the UID registry (package uid, PS3.6 Table A-1, retired ones
// included) is Explicit VR Little Endian with Encapsulated set. A UID that is
// not a registered transfer syntax returns false; callers may then assume
// Explicit VR Little Endian.
func LookupSyntax(u string) (Syntax, bool) {
	for len(u) > 0 && (u[len(u)-1] == 0 || u[len(u)-1] == ' ') {
		u = u[:len(u)-1]
	}
	switch u {
	case uid.ImplicitVRLittleEndian:
		return ImplicitVRLittleEndian, true
	case uid.ExplicitVRLittleEndian:
		return ExplicitVRLittleEndian, true
	case uid.ExplicitVRBigEndian:
		return ExplicitVRBigEndian, true
	case uid.DeflatedExplicitVRLittleEndian:
		return DeflatedExplicitVRLittleEndian, true
	case uid.Papyrus3ImplicitVRLittleEndian:
		// Retired; its data sets are Implicit VR Little Endian.
		return Syntax{UID: u}, true
	}
	if uid.IsTransferSyntax(u) {
		return Syntax{UID: u, ExplicitVR: true, Encapsulated: true}, true
	}
	return Syntax{}, false
}
