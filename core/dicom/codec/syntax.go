package codec

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
	ImplicitVRLittleEndian         = Syntax{UID: "1.2.840.10008.1.2"}
	ExplicitVRLittleEndian         = Syntax{UID: "1.2.840.10008.1.2.1", ExplicitVR: true}
	ExplicitVRBigEndian            = Syntax{UID: "1.2.840.10008.1.2.2", ExplicitVR: true, BigEndian: true}
	DeflatedExplicitVRLittleEndian = Syntax{UID: "1.2.840.10008.1.2.1.99", ExplicitVR: true, Deflated: true}
)

// papyrus3Implicit is the retired Papyrus 3 Implicit VR Little Endian syntax,
// encoded as Implicit VR Little Endian.
const papyrus3Implicit = "1.2.840.10008.1.20"

// encapsulatedUIDs lists the transfer syntaxes of the UID registry (PS3.6
// Table A-1, 2024) whose data sets are Explicit VR Little Endian with
// encapsulated Pixel Data.
var encapsulatedUIDs = map[string]bool{
	"1.2.840.10008.1.2.1.98":    true, // Encapsulated Uncompressed Explicit VR Little Endian
	"1.2.840.10008.1.2.4.50":    true, // JPEG Baseline (Process 1)
	"1.2.840.10008.1.2.4.51":    true, // JPEG Extended (Process 2 and 4)
	"1.2.840.10008.1.2.4.52":    true,
	"1.2.840.10008.1.2.4.53":    true,
	"1.2.840.10008.1.2.4.54":    true,
	"1.2.840.10008.1.2.4.55":    true,
	"1.2.840.10008.1.2.4.56":    true,
	"1.2.840.10008.1.2.4.57":    true, // JPEG Lossless (Process 14)
	"1.2.840.10008.1.2.4.58":    true,
	"1.2.840.10008.1.2.4.59":    true,
	"1.2.840.10008.1.2.4.60":    true,
	"1.2.840.10008.1.2.4.61":    true,
	"1.2.840.10008.1.2.4.62":    true,
	"1.2.840.10008.1.2.4.63":    true,
	"1.2.840.10008.1.2.4.64":    true,
	"1.2.840.10008.1.2.4.65":    true,
	"1.2.840.10008.1.2.4.66":    true,
	"1.2.840.10008.1.2.4.70":    true, // JPEG Lossless SV1
	"1.2.840.10008.1.2.4.80":    true, // JPEG-LS Lossless
	"1.2.840.10008.1.2.4.81":    true, // JPEG-LS Near-Lossless
	"1.2.840.10008.1.2.4.90":    true, // JPEG 2000 Lossless
	"1.2.840.10008.1.2.4.91":    true, // JPEG 2000
	"1.2.840.10008.1.2.4.92":    true,
	"1.2.840.10008.1.2.4.93":    true,
	"1.2.840.10008.1.2.4.94":    true, // JPIP Referenced
	"1.2.840.10008.1.2.4.95":    true, // JPIP Referenced Deflate
	"1.2.840.10008.1.2.4.100":   true, // MPEG2
	"1.2.840.10008.1.2.4.100.1": true,
	"1.2.840.10008.1.2.4.101":   true,
	"1.2.840.10008.1.2.4.101.1": true,
	"1.2.840.10008.1.2.4.102":   true, // MPEG-4 AVC/H.264
	"1.2.840.10008.1.2.4.102.1": true,
	"1.2.840.10008.1.2.4.103":   true,
	"1.2.840.10008.1.2.4.103.1": true,
	"1.2.840.10008.1.2.4.104":   true,
	"1.2.840.10008.1.2.4.104.1": true,
	"1.2.840.10008.1.2.4.105":   true,
	"1.2.840.10008.1.2.4.105.1": true,
	"1.2.840.10008.1.2.4.106":   true,
	"1.2.840.10008.1.2.4.106.1": true,
	"1.2.840.10008.1.2.4.107":   true, // HEVC/H.265
	"1.2.840.10008.1.2.4.108":   true,
	"1.2.840.10008.1.2.4.110":   true, // JPEG XL
	"1.2.840.10008.1.2.4.111":   true,
	"1.2.840.10008.1.2.4.112":   true,
	"1.2.840.10008.1.2.4.201":   true, // HTJ2K
	"1.2.840.10008.1.2.4.202":   true,
	"1.2.840.10008.1.2.4.203":   true,
	"1.2.840.10008.1.2.4.204":   true, // JPIP HTJ2K Referenced
	"1.2.840.10008.1.2.4.205":   true,
	"1.2.840.10008.1.2.5":       true, // RLE Lossless
	"1.2.840.10008.1.2.6.1":     true, // RFC 2557 MIME encapsulation (retired)
	"1.2.840.10008.1.2.6.2":     true, // XML Encoding (retired)
	"1.2.840.10008.1.2.7.1":     true, // SMPTE ST 2110-20 progressive
	"1.2.840.10008.1.2.7.2":     true, // SMPTE ST 2110-20 interlaced
	"1.2.840.10008.1.2.7.3":     true, // SMPTE ST 2110-30 PCM audio
	"1.2.840.10008.1.2.8.1":     true, // Deflated Image Frame Compression
}

// LookupSyntax returns the encoding of the transfer syntax uid (trailing NUL
// and space padding ignored). The four native syntaxes (and the retired Papyrus
// 3 implicit syntax) are returned as declared above; every other registered
// transfer syntax is Explicit VR Little Endian with Encapsulated set. An
// unregistered UID returns false; callers may then assume Explicit VR Little
// Endian.
func LookupSyntax(uid string) (Syntax, bool) {
	for len(uid) > 0 && (uid[len(uid)-1] == 0 || uid[len(uid)-1] == ' ') {
		uid = uid[:len(uid)-1]
	}
	switch uid {
	case ImplicitVRLittleEndian.UID:
		return ImplicitVRLittleEndian, true
	case ExplicitVRLittleEndian.UID:
		return ExplicitVRLittleEndian, true
	case ExplicitVRBigEndian.UID:
		return ExplicitVRBigEndian, true
	case DeflatedExplicitVRLittleEndian.UID:
		return DeflatedExplicitVRLittleEndian, true
	case papyrus3Implicit:
		return Syntax{UID: papyrus3Implicit}, true
	}
	if encapsulatedUIDs[uid] {
		return Syntax{UID: uid, ExplicitVR: true, Encapsulated: true}, true
	}
	return Syntax{}, false
}
