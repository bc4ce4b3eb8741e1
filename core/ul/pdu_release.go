package ul

// ReleaseRQ is an A-RELEASE-RQ PDU (PS3.8 §9.3.6).
type ReleaseRQ struct{}

// ReleaseRP is an A-RELEASE-RP PDU (PS3.8 §9.3.7).
type ReleaseRP struct{}

// Type implements PDU.
func (*ReleaseRQ) Type() PDUType { return TypeReleaseRQ }

// Type implements PDU.
func (*ReleaseRP) Type() PDUType { return TypeReleaseRP }

func (*ReleaseRQ) appendBody(b []byte) ([]byte, error) { return append(b, 0, 0, 0, 0), nil }

func (*ReleaseRP) appendBody(b []byte) ([]byte, error) { return append(b, 0, 0, 0, 0), nil }
