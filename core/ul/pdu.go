package ul

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// PDUType is the first byte of a PDU (PS3.8 §9.3).
type PDUType byte

// The seven PDU types of PS3.8 §9.3.
const (
	TypeAssociateRQ PDUType = 0x01
	TypeAssociateAC PDUType = 0x02
	TypeAssociateRJ PDUType = 0x03
	TypePDataTF     PDUType = 0x04
	TypeReleaseRQ   PDUType = 0x05
	TypeReleaseRP   PDUType = 0x06
	TypeAbort       PDUType = 0x07
)

// String returns the PS3.8 name of the type.
func (t PDUType) String() string {
	switch t {
	case TypeAssociateRQ:
		return "A-ASSOCIATE-RQ"
	case TypeAssociateAC:
		return "A-ASSOCIATE-AC"
	case TypeAssociateRJ:
		return "A-ASSOCIATE-RJ"
	case TypePDataTF:
		return "P-DATA-TF"
	case TypeReleaseRQ:
		return "A-RELEASE-RQ"
	case TypeReleaseRP:
		return "A-RELEASE-RP"
	case TypeAbort:
		return "A-ABORT"
	}
	return fmt.Sprintf("PDU(0x%02x)", byte(t))
}

// Limits.
const (
	// PDUHeaderLength is the length of the PDU type, reserved and length fields.
	PDUHeaderLength = 6
	// DefaultMaxPDULength is the maximum P-DATA-TF length announced when the
	// options leave it zero (64 KiB).
	DefaultMaxPDULength uint32 = 64 << 10
	// MaxAssociatePDULength bounds A-ASSOCIATE-RQ/AC PDUs read during
	// negotiation; it leaves room for many contexts and a SAML assertion.
	MaxAssociatePDULength uint32 = 1 << 20
	// UnlimitedPDULength bounds what is read when our maximum length is 0
	// ("unlimited" in PS3.8 D.1): a single PDU above it is refused.
	UnlimitedPDULength uint32 = 64 << 20
	// readChunk is the largest allocation made ahead of the bytes that fill
	// it: bodies above it grow as they arrive, never to their claimed length.
	readChunk = 64 << 10
)

// PDU is one of the seven protocol data units: *AssociateRQ, *AssociateAC,
// *AssociateRJ, *PDataTF, *ReleaseRQ, *ReleaseRP or *Abort.
type PDU interface {
	// Type returns the PDU type.
	Type() PDUType
	// appendBody appends the encoded variable part (after the 6-byte header).
	appendBody(b []byte) ([]byte, error)
}

// ReadPDU reads one PDU from r (PS3.8 §9.3). It returns io.EOF only if no
// byte was read, and io.ErrUnexpectedEOF if the stream ends inside a PDU. A
// PDU whose length exceeds max (0: UnlimitedPDULength) is rejected with an
// error matching ErrPDUTooLarge before its body is read; an unknown type is
// a *PDUError with reason 1, its body unread. Bodies are read in bounded
// chunks, so a claimed length allocates nothing until the bytes arrive. The
// returned PDU owns its memory. Not safe for concurrent use on r.
func ReadPDU(r io.Reader, max uint32) (PDU, error) {
	p, _, err := readPDU(r, max, nil)
	return p, err
}

// bodyPeeker is implemented by the association's buffered reader: peekBody
// returns the next n bytes in place in its buffer, consumed, valid until its
// next read, or ok false when n does not fit the buffer.
type bodyPeeker interface {
	peekBody(n int) (b []byte, ok bool, err error)
}

// readPDU is ReadPDU reusing buf for the body, returned for reuse; the PDU
// may alias buf (PDV data). A P-DATA-TF body is read in place when r is a
// bodyPeeker and it fits the peeker's buffer: the PDV data then alias that
// buffer.
func readPDU(r io.Reader, max uint32, buf []byte) (PDU, []byte, error) {
	var hdr [PDUHeaderLength]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, buf, err
	}
	t := PDUType(hdr[0])
	n := binary.BigEndian.Uint32(hdr[2:])
	if t < TypeAssociateRQ || t > TypeAbort {
		return nil, buf, &PDUError{Type: t, Offset: 0, Reason: AbortUnrecognizedPDU, Msg: "unrecognized pdu type"}
	}
	if max == 0 {
		max = UnlimitedPDULength
	}
	if n > max {
		return nil, buf, fmt.Errorf("%s of %d bytes, limit %d: %w", t, n, max, ErrPDUTooLarge)
	}
	if pk, ok := r.(bodyPeeker); ok && t == TypePDataTF {
		body, ok, err := pk.peekBody(int(n))
		if ok {
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return nil, buf, err
			}
			p, err := decodePDU(t, body)
			return p, buf, err
		}
	}
	body, err := readBody(r, int(n), buf[:0])
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, body, err
	}
	p, err := decodePDU(t, body)
	return p, body, err
}

// readBody reads n bytes into buf, growing it at most twice as fast as bytes
// arrive once n exceeds readChunk.
func readBody(r io.Reader, n int, buf []byte) ([]byte, error) {
	if n <= cap(buf) || n <= readChunk {
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	for len(buf) < n {
		step := min(n-len(buf), max(len(buf), readChunk))
		start := len(buf)
		buf = append(buf, make([]byte, step)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// decodePDU decodes the body of a PDU of type t. The result may alias body.
func decodePDU(t PDUType, body []byte) (PDU, error) {
	switch t {
	case TypeAssociateRQ:
		return decodeAssociateRQ(body)
	case TypeAssociateAC:
		return decodeAssociateAC(body)
	case TypeAssociateRJ:
		return decodeAssociateRJ(body)
	case TypePDataTF:
		return decodePDataTF(body)
	case TypeReleaseRQ:
		if err := checkFixed(t, body); err != nil {
			return nil, err
		}
		return &ReleaseRQ{}, nil
	case TypeReleaseRP:
		if err := checkFixed(t, body); err != nil {
			return nil, err
		}
		return &ReleaseRP{}, nil
	case TypeAbort:
		return decodeAbort(body)
	}
	return nil, &PDUError{Type: t, Reason: AbortUnrecognizedPDU, Msg: "unrecognized pdu type"}
}

// checkFixed checks the 4-byte body of the release, abort and reject PDUs.
func checkFixed(t PDUType, body []byte) error {
	if len(body) != 4 {
		return &PDUError{Type: t, Offset: 2, Reason: AbortInvalidPDUParameterValue, Msg: fmt.Sprintf("length %d, want 4", len(body))}
	}
	return nil
}

// AppendPDU appends the encoding of p to b. It fails when a field does not
// fit its encoding (an AE title over 16 bytes, an item over 65535 bytes).
func AppendPDU(b []byte, p PDU) ([]byte, error) {
	start := len(b)
	b = append(b, byte(p.Type()), 0, 0, 0, 0, 0)
	b, err := p.appendBody(b)
	if err != nil {
		return b[:start], fmt.Errorf("encode %s: %w", p.Type(), err)
	}
	n := len(b) - start - PDUHeaderLength
	if uint64(n) > 0xFFFFFFFF {
		return b[:start], fmt.Errorf("encode %s: length %d overflows", p.Type(), n)
	}
	binary.BigEndian.PutUint32(b[start+2:], uint32(n))
	return b, nil
}

// WritePDU encodes p and writes it to w in one Write call.
func WritePDU(w io.Writer, p PDU) error {
	b, err := AppendPDU(nil, p)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// item helpers (PS3.8 §9.3.2: type, reserved, 2-byte length, value).

// beginItem appends an item header with a zero length and returns its offset.
func beginItem(b []byte, typ byte) ([]byte, int) {
	return append(b, typ, 0, 0, 0), len(b)
}

// endItem patches the length of the item started at off.
func endItem(b []byte, off int) ([]byte, error) {
	n := len(b) - off - 4
	if n > 0xFFFF {
		return b, fmt.Errorf("item 0x%02x of %d bytes exceeds 65535", b[off], n)
	}
	binary.BigEndian.PutUint16(b[off+2:], uint16(n))
	return b, nil
}

// appendStringItem appends an item whose value is s.
func appendStringItem(b []byte, typ byte, s string) ([]byte, error) {
	b, off := beginItem(b, typ)
	b = append(b, s...)
	return endItem(b, off)
}

// appendU16String appends a 2-byte length followed by s.
func appendU16String(b []byte, s string) ([]byte, error) {
	if len(s) > 0xFFFF {
		return b, fmt.Errorf("field of %d bytes exceeds 65535", len(s))
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

// rawItem is one item as read: its type, value and offset in the PDU.
type rawItem struct {
	typ   byte
	value []byte
	off   int
}

// splitItems splits b, which starts at offset base of a PDU of type t, into items.
func splitItems(t PDUType, b []byte, base int) ([]rawItem, error) {
	var items []rawItem
	for i := 0; i < len(b); {
		if len(b)-i < 4 {
			return nil, &PDUError{Type: t, Offset: base + i, Reason: AbortInvalidPDUParameterValue, Msg: "truncated item header"}
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if len(b)-i-4 < n {
			return nil, &PDUError{Type: t, Offset: base + i, Reason: AbortInvalidPDUParameterValue, Msg: fmt.Sprintf("item 0x%02x length %d exceeds its pdu", b[i], n)}
		}
		items = append(items, rawItem{typ: b[i], value: b[i+4 : i+4+n], off: base + i})
		i += 4 + n
	}
	return items, nil
}

// u16String reads a 2-byte length and that many bytes from b at *i.
func u16String(b []byte, i *int) (string, bool) {
	if len(b)-*i < 2 {
		return "", false
	}
	n := int(binary.BigEndian.Uint16(b[*i:]))
	*i += 2
	if len(b)-*i < n {
		return "", false
	}
	s := string(b[*i : *i+n])
	*i += n
	return s, true
}

// trimUID removes the trailing NUL or space padding some implementations add.
func trimUID(b []byte) string {
	n := len(b)
	for n > 0 && (b[n-1] == 0 || b[n-1] == ' ') {
		n--
	}
	return string(b[:n])
}

// cloneBytes copies b; empty input gives nil so decoded values compare equal.
func cloneBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}
