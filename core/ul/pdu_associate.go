package ul

import (
	"encoding/binary"
	"fmt"
)

// Item types of A-ASSOCIATE-RQ and -AC (PS3.8 §9.3.2, §9.3.3).
const (
	ItemApplicationContext byte = 0x10
	ItemPresentationRQ     byte = 0x20
	ItemPresentationAC     byte = 0x21
	ItemAbstractSyntax     byte = 0x30
	ItemTransferSyntax     byte = 0x40
	ItemUserInfo           byte = 0x50
)

// ApplicationContextName is the DICOM application context (PS3.7 A.2.1).
const ApplicationContextName = "1.2.840.10008.3.1.1.1"

// ProtocolVersion1 is the only protocol version of PS3.8 (bit 0 set).
const ProtocolVersion1 uint16 = 0x0001

// associateFixed is the length of the fixed part of A-ASSOCIATE-RQ/AC:
// protocol version, reserved, called AE, calling AE, 32 reserved bytes.
const associateFixed = 68

// AssociateRQ is an A-ASSOCIATE-RQ PDU (PS3.8 §9.3.2).
type AssociateRQ struct {
	ProtocolVersion     uint16 // ProtocolVersion1
	CalledAE, CallingAE string // at most 16 bytes; padding removed
	ApplicationContext  string // omitted from the encoding when empty
	Contexts            []PresentationContextRQ
	UserInfo            UserInfo
	Unknown             []RawItem // items of unrecognized type, skipped
}

// AssociateAC is an A-ASSOCIATE-AC PDU (PS3.8 §9.3.3). CalledAE and
// CallingAE are reserved fields sent back as received and never tested.
type AssociateAC struct {
	ProtocolVersion     uint16
	CalledAE, CallingAE string
	ApplicationContext  string
	Contexts            []PresentationContextAC
	UserInfo            UserInfo
	Unknown             []RawItem
}

// AssociateRJ is an A-ASSOCIATE-RJ PDU (PS3.8 §9.3.4); see RejectError for
// the values.
type AssociateRJ struct {
	Result, Source, Reason byte
}

// PresentationContextRQ is a presentation context item of A-ASSOCIATE-RQ
// (0x20, PS3.8 §9.3.2.2): one abstract syntax and the proposed transfer syntaxes.
type PresentationContextRQ struct {
	ID               byte // odd, 1-255
	AbstractSyntax   string
	TransferSyntaxes []string
}

// PresentationContextAC is a presentation context item of A-ASSOCIATE-AC
// (0x21, PS3.8 §9.3.3.2). TransferSyntax is meaningful only when Result is 0.
type PresentationContextAC struct {
	ID             byte
	Result         byte // 0 acceptance, 1 user-rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported
	TransferSyntax string
}

// RawItem is an item of unrecognized type, kept for logging.
type RawItem struct {
	Type byte
	Data []byte
}

// Type implements PDU.
func (*AssociateRQ) Type() PDUType { return TypeAssociateRQ }

// Type implements PDU.
func (*AssociateAC) Type() PDUType { return TypeAssociateAC }

// Type implements PDU.
func (*AssociateRJ) Type() PDUType { return TypeAssociateRJ }

func (p *AssociateRQ) appendBody(b []byte) ([]byte, error) {
	b, err := appendAssociateFixed(b, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext)
	if err != nil {
		return b, err
	}
	for _, pc := range p.Contexts {
		var off int
		b, off = beginItem(b, ItemPresentationRQ)
		b = append(b, pc.ID, 0, 0, 0)
		if b, err = appendStringItem(b, ItemAbstractSyntax, pc.AbstractSyntax); err != nil {
			return b, err
		}
		for _, ts := range pc.TransferSyntaxes {
			if b, err = appendStringItem(b, ItemTransferSyntax, ts); err != nil {
				return b, err
			}
		}
		if b, err = endItem(b, off); err != nil {
			return b, err
		}
	}
	if b, err = p.UserInfo.append(b); err != nil {
		return b, err
	}
	return appendRawItems(b, p.Unknown)
}

func (p *AssociateAC) appendBody(b []byte) ([]byte, error) {
	b, err := appendAssociateFixed(b, p.ProtocolVersion, p.CalledAE, p.CallingAE, p.ApplicationContext)
	if err != nil {
		return b, err
	}
	for _, pc := range p.Contexts {
		var off int
		b, off = beginItem(b, ItemPresentationAC)
		b = append(b, pc.ID, 0, pc.Result, 0)
		if b, err = appendStringItem(b, ItemTransferSyntax, pc.TransferSyntax); err != nil {
			return b, err
		}
		if b, err = endItem(b, off); err != nil {
			return b, err
		}
	}
	if b, err = p.UserInfo.append(b); err != nil {
		return b, err
	}
	return appendRawItems(b, p.Unknown)
}

func (p *AssociateRJ) appendBody(b []byte) ([]byte, error) {
	return append(b, 0, p.Result, p.Source, p.Reason), nil
}

func appendAssociateFixed(b []byte, version uint16, called, calling, appCtx string) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, version)
	b = append(b, 0, 0)
	var err error
	if b, err = appendAE(b, called); err != nil {
		return b, err
	}
	if b, err = appendAE(b, calling); err != nil {
		return b, err
	}
	b = append(b, make([]byte, 32)...)
	if appCtx != "" {
		return appendStringItem(b, ItemApplicationContext, appCtx)
	}
	return b, nil
}

// appendAE appends a 16-byte space-padded AE title.
func appendAE(b []byte, ae string) ([]byte, error) {
	if len(ae) > 16 {
		return b, fmt.Errorf("ae title %q longer than 16 bytes", ae)
	}
	b = append(b, ae...)
	for range 16 - len(ae) {
		b = append(b, ' ')
	}
	return b, nil
}

// trimAE removes leading spaces and trailing spaces or NULs (PS3.5 AE).
func trimAE(b []byte) string {
	i, j := 0, len(b)
	for j > 0 && (b[j-1] == ' ' || b[j-1] == 0) {
		j--
	}
	for i < j && b[i] == ' ' {
		i++
	}
	return string(b[i:j])
}

func appendRawItems(b []byte, items []RawItem) ([]byte, error) {
	var err error
	for _, it := range items {
		var off int
		b, off = beginItem(b, it.Type)
		b = append(b, it.Data...)
		if b, err = endItem(b, off); err != nil {
			return b, err
		}
	}
	return b, nil
}

// associateCommon is the decoded common part of RQ and AC.
type associateCommon struct {
	version         uint16
	called, calling string
	appCtx          string
	items           []rawItem // presentation context items, in order
	userInfo        UserInfo
	unknown         []RawItem
}

func decodeAssociateCommon(t PDUType, body []byte) (*associateCommon, error) {
	if len(body) < associateFixed {
		return nil, &PDUError{Type: t, Offset: PDUHeaderLength, Reason: AbortInvalidPDUParameterValue, Msg: fmt.Sprintf("length %d, want at least %d", len(body), associateFixed)}
	}
	c := &associateCommon{
		version: binary.BigEndian.Uint16(body),
		called:  trimAE(body[4:20]),
		calling: trimAE(body[20:36]),
	}
	items, err := splitItems(t, body[associateFixed:], PDUHeaderLength+associateFixed)
	if err != nil {
		return nil, err
	}
	pcType := ItemPresentationRQ
	if t == TypeAssociateAC {
		pcType = ItemPresentationAC
	}
	for _, it := range items {
		switch it.typ {
		case ItemApplicationContext:
			c.appCtx = trimUID(it.value)
		case pcType:
			c.items = append(c.items, it)
		case ItemUserInfo:
			if c.userInfo, err = decodeUserInfo(t, it); err != nil {
				return nil, err
			}
		default:
			c.unknown = append(c.unknown, RawItem{Type: it.typ, Data: cloneBytes(it.value)})
		}
	}
	return c, nil
}

func decodeAssociateRQ(body []byte) (*AssociateRQ, error) {
	c, err := decodeAssociateCommon(TypeAssociateRQ, body)
	if err != nil {
		return nil, err
	}
	p := &AssociateRQ{ProtocolVersion: c.version, CalledAE: c.called, CallingAE: c.calling,
		ApplicationContext: c.appCtx, UserInfo: c.userInfo, Unknown: c.unknown}
	for _, it := range c.items {
		if len(it.value) < 4 {
			return nil, &PDUError{Type: TypeAssociateRQ, Offset: it.off, Reason: AbortInvalidPDUParameterValue, Msg: "presentation context item shorter than 4 bytes"}
		}
		pc := PresentationContextRQ{ID: it.value[0]}
		subs, err := splitItems(TypeAssociateRQ, it.value[4:], it.off+8)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			switch s.typ {
			case ItemAbstractSyntax:
				pc.AbstractSyntax = trimUID(s.value)
			case ItemTransferSyntax:
				pc.TransferSyntaxes = append(pc.TransferSyntaxes, trimUID(s.value))
			}
		}
		p.Contexts = append(p.Contexts, pc)
	}
	return p, nil
}

func decodeAssociateAC(body []byte) (*AssociateAC, error) {
	c, err := decodeAssociateCommon(TypeAssociateAC, body)
	if err != nil {
		return nil, err
	}
	p := &AssociateAC{ProtocolVersion: c.version, CalledAE: c.called, CallingAE: c.calling,
		ApplicationContext: c.appCtx, UserInfo: c.userInfo, Unknown: c.unknown}
	for _, it := range c.items {
		if len(it.value) < 4 {
			return nil, &PDUError{Type: TypeAssociateAC, Offset: it.off, Reason: AbortInvalidPDUParameterValue, Msg: "presentation context item shorter than 4 bytes"}
		}
		pc := PresentationContextAC{ID: it.value[0], Result: it.value[2]}
		subs, err := splitItems(TypeAssociateAC, it.value[4:], it.off+8)
		if err != nil {
			return nil, err
		}
		for _, s := range subs {
			if s.typ == ItemTransferSyntax {
				pc.TransferSyntax = trimUID(s.value)
			}
		}
		p.Contexts = append(p.Contexts, pc)
	}
	return p, nil
}

func decodeAssociateRJ(body []byte) (*AssociateRJ, error) {
	if err := checkFixed(TypeAssociateRJ, body); err != nil {
		return nil, err
	}
	return &AssociateRJ{Result: body[1], Source: body[2], Reason: body[3]}, nil
}
