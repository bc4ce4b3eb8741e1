package ul

// Abort is an A-ABORT PDU (PS3.8 §9.3.8). Reason is significant only when
// Source is SourceServiceProvider.
type Abort struct {
	Source, Reason byte
}

// Type implements PDU.
func (*Abort) Type() PDUType { return TypeAbort }

func (p *Abort) appendBody(b []byte) ([]byte, error) {
	return append(b, 0, 0, p.Source, p.Reason), nil
}

func decodeAbort(body []byte) (*Abort, error) {
	if err := checkFixed(TypeAbort, body); err != nil {
		return nil, err
	}
	return &Abort{Source: body[2], Reason: body[3]}, nil
}
