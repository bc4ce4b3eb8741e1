package ul

import (
	"encoding/binary"
	"fmt"
)

// pdvHeaderLength is the length of a PDV item's length, context ID and
// message control header fields (PS3.8 §9.3.5.1).
const pdvHeaderLength = 6

// PDV is one presentation data value of a P-DATA-TF PDU (PS3.8 §9.3.5.1,
// Annex E.2). Data returned by ReadPDV is valid until the next ReadPDV call.
type PDV struct {
	ContextID byte
	Command   bool // message control header bit 0: command (else data set)
	Last      bool // bit 1: last fragment of the command or data set
	Data      []byte
}

// PDataTF is a P-DATA-TF PDU (PS3.8 §9.3.5): one or more PDVs. A decoded
// PDataTF's PDV data alias the buffer it was read into.
type PDataTF struct {
	PDVs []PDV
}

// Type implements PDU.
func (*PDataTF) Type() PDUType { return TypePDataTF }

func (p *PDataTF) appendBody(b []byte) ([]byte, error) {
	for _, v := range p.PDVs {
		if uint64(len(v.Data))+2 > 0xFFFFFFFF {
			return b, fmt.Errorf("pdv of %d bytes", len(v.Data))
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v.Data)+2))
		b = append(b, v.ContextID, controlHeader(v.Command, v.Last))
		b = append(b, v.Data...)
	}
	return b, nil
}

// controlHeader returns the message control header byte (PS3.8 E.2).
func controlHeader(command, last bool) byte {
	var h byte
	if command {
		h |= 1
	}
	if last {
		h |= 2
	}
	return h
}

// decodePDataTF splits body into PDVs aliasing it. Reserved bits of the
// message control header are ignored.
func decodePDataTF(body []byte) (*PDataTF, error) {
	p := &PDataTF{}
	for i := 0; i < len(body); {
		if len(body)-i < pdvHeaderLength {
			return nil, &PDUError{Type: TypePDataTF, Offset: PDUHeaderLength + i, Reason: AbortInvalidPDUParameterValue, Msg: "truncated pdv item"}
		}
		n := binary.BigEndian.Uint32(body[i:])
		if n < 2 || uint64(n) > uint64(len(body)-i-4) {
			return nil, &PDUError{Type: TypePDataTF, Offset: PDUHeaderLength + i, Reason: AbortInvalidPDUParameterValue, Msg: fmt.Sprintf("pdv item length %d does not fit its pdu", n)}
		}
		h := body[i+5]
		p.PDVs = append(p.PDVs, PDV{ContextID: body[i+4], Command: h&1 != 0, Last: h&2 != 0, Data: body[i+6 : i+4+int(n) : i+4+int(n)]})
		i += 4 + int(n)
	}
	if len(p.PDVs) == 0 {
		return nil, &PDUError{Type: TypePDataTF, Offset: PDUHeaderLength, Reason: AbortInvalidPDUParameterValue, Msg: "no pdv item"}
	}
	return p, nil
}
