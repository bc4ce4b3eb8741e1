package ul

import (
	"encoding/binary"
	"fmt"
)

// User information sub-item types (PS3.8 Annex D, PS3.7 Annex D.3.3).
const (
	ItemMaxLength                 byte = 0x51
	ItemImplementationClassUID    byte = 0x52
	ItemAsyncOps                  byte = 0x53
	ItemRoleSelection             byte = 0x54
	ItemImplementationVersionName byte = 0x55
	ItemExtendedNegotiation       byte = 0x56
	ItemCommonExtendedNegotiation byte = 0x57
	ItemUserIdentityRQ            byte = 0x58
	ItemUserIdentityAC            byte = 0x59
)

// User identity types (PS3.7 Table D.3-14).
const (
	IdentityUsername         byte = 1
	IdentityUsernamePasscode byte = 2
	IdentityKerberos         byte = 3
	IdentitySAML             byte = 4
	IdentityJWT              byte = 5
)

// UserInfo is the user information item (0x50) of A-ASSOCIATE-RQ and -AC.
// Items absent from the PDU are zero; MaxLength 0 means unlimited. The
// item is always encoded, with its maximum length sub-item.
type UserInfo struct {
	MaxLength                 uint32 // 0x51: maximum P-DATA-TF length the sender receives
	ImplementationClassUID    string // 0x52
	ImplementationVersionName string // 0x55, at most 16 bytes
	AsyncOps                  *AsyncOps
	Roles                     []RoleSelection
	Extended                  []ExtendedNegotiation
	CommonExtended            []CommonExtendedNegotiation
	UserIdentity              *UserIdentity         // 0x58, A-ASSOCIATE-RQ only
	UserIdentityResponse      *UserIdentityResponse // 0x59, A-ASSOCIATE-AC only
	Unknown                   []RawItem             // sub-items of unrecognized type, skipped
}

// AsyncOps is the asynchronous operations window (0x53, PS3.7 D.3.3.3):
// the maximum number of operations invoked and performed outstanding; 0
// means unlimited.
type AsyncOps struct {
	Invoked, Performed int
}

// RoleSelection is an SCP/SCU role selection sub-item (0x54, PS3.7 D.3.3.4).
type RoleSelection struct {
	SOPClass string
	SCU, SCP bool
}

// ExtendedNegotiation is a SOP class extended negotiation sub-item (0x56,
// PS3.7 D.3.3.5); Info is defined by the service class.
type ExtendedNegotiation struct {
	SOPClass string
	Info     []byte
}

// CommonExtendedNegotiation is a SOP class common extended negotiation
// sub-item (0x57, PS3.7 D.3.3.6), sent by the requestor only.
type CommonExtendedNegotiation struct {
	SOPClass       string
	ServiceClass   string
	RelatedClasses []string
}

// UserIdentity is the user identity negotiation sub-item of A-ASSOCIATE-RQ
// (0x58, PS3.7 D.3.3.7). Secondary is the passcode for type 2 and empty
// otherwise; Primary holds the user name, Kerberos ticket, SAML assertion or
// JSON web token.
type UserIdentity struct {
	Type                      byte
	PositiveResponseRequested bool
	Primary, Secondary        []byte
}

// UserIdentityResponse is the user identity sub-item of A-ASSOCIATE-AC
// (0x59): the server response (Kerberos ticket, SAML response or JWT), empty
// for the other types.
type UserIdentityResponse struct {
	ServerResponse []byte
}

func (u *UserInfo) append(b []byte) ([]byte, error) {
	var off int
	b, off = beginItem(b, ItemUserInfo)
	var err error
	var o int
	b, o = beginItem(b, ItemMaxLength)
	b = binary.BigEndian.AppendUint32(b, u.MaxLength)
	b, _ = endItem(b, o)
	if u.ImplementationClassUID != "" {
		if b, err = appendStringItem(b, ItemImplementationClassUID, u.ImplementationClassUID); err != nil {
			return b, err
		}
	}
	if u.AsyncOps != nil {
		if u.AsyncOps.Invoked < 0 || u.AsyncOps.Invoked > 0xFFFF || u.AsyncOps.Performed < 0 || u.AsyncOps.Performed > 0xFFFF {
			return b, fmt.Errorf("asynchronous operations window %d/%d out of range", u.AsyncOps.Invoked, u.AsyncOps.Performed)
		}
		var o int
		b, o = beginItem(b, ItemAsyncOps)
		b = binary.BigEndian.AppendUint16(b, uint16(u.AsyncOps.Invoked))
		b = binary.BigEndian.AppendUint16(b, uint16(u.AsyncOps.Performed))
		b, _ = endItem(b, o)
	}
	for _, r := range u.Roles {
		var o int
		b, o = beginItem(b, ItemRoleSelection)
		if b, err = appendU16String(b, r.SOPClass); err != nil {
			return b, err
		}
		b = append(b, boolByte(r.SCU), boolByte(r.SCP))
		if b, err = endItem(b, o); err != nil {
			return b, err
		}
	}
	if u.ImplementationVersionName != "" {
		if b, err = appendStringItem(b, ItemImplementationVersionName, u.ImplementationVersionName); err != nil {
			return b, err
		}
	}
	for _, e := range u.Extended {
		var o int
		b, o = beginItem(b, ItemExtendedNegotiation)
		if b, err = appendU16String(b, e.SOPClass); err != nil {
			return b, err
		}
		b = append(b, e.Info...)
		if b, err = endItem(b, o); err != nil {
			return b, err
		}
	}
	for _, e := range u.CommonExtended {
		var o int
		b, o = beginItem(b, ItemCommonExtendedNegotiation)
		if b, err = appendU16String(b, e.SOPClass); err != nil {
			return b, err
		}
		if b, err = appendU16String(b, e.ServiceClass); err != nil {
			return b, err
		}
		lo := len(b)
		b = append(b, 0, 0)
		for _, rc := range e.RelatedClasses {
			if b, err = appendU16String(b, rc); err != nil {
				return b, err
			}
		}
		if n := len(b) - lo - 2; n > 0xFFFF {
			return b, fmt.Errorf("related general sop classes of %d bytes exceed 65535", n)
		} else {
			binary.BigEndian.PutUint16(b[lo:], uint16(n))
		}
		if b, err = endItem(b, o); err != nil {
			return b, err
		}
	}
	if id := u.UserIdentity; id != nil {
		var o int
		b, o = beginItem(b, ItemUserIdentityRQ)
		b = append(b, id.Type, boolByte(id.PositiveResponseRequested))
		if b, err = appendU16String(b, string(id.Primary)); err != nil {
			return b, err
		}
		if b, err = appendU16String(b, string(id.Secondary)); err != nil {
			return b, err
		}
		if b, err = endItem(b, o); err != nil {
			return b, err
		}
	}
	if r := u.UserIdentityResponse; r != nil {
		var o int
		b, o = beginItem(b, ItemUserIdentityAC)
		if b, err = appendU16String(b, string(r.ServerResponse)); err != nil {
			return b, err
		}
		if b, err = endItem(b, o); err != nil {
			return b, err
		}
	}
	if b, err = appendRawItems(b, u.Unknown); err != nil {
		return b, err
	}
	return endItem(b, off)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decodeUserInfo decodes the sub-items of a user information item.
func decodeUserInfo(t PDUType, it rawItem) (UserInfo, error) {
	var u UserInfo
	subs, err := splitItems(t, it.value, it.off+4)
	if err != nil {
		return u, err
	}
	for _, s := range subs {
		bad := func(msg string) error {
			return &PDUError{Type: t, Offset: s.off, Reason: AbortInvalidPDUParameterValue, Msg: fmt.Sprintf("user information sub-item 0x%02x: %s", s.typ, msg)}
		}
		v := s.value
		switch s.typ {
		case ItemMaxLength:
			if len(v) != 4 {
				return u, bad("length is not 4")
			}
			u.MaxLength = binary.BigEndian.Uint32(v)
		case ItemImplementationClassUID:
			u.ImplementationClassUID = trimUID(v)
		case ItemImplementationVersionName:
			u.ImplementationVersionName = trimAE(v)
		case ItemAsyncOps:
			if len(v) != 4 {
				return u, bad("length is not 4")
			}
			u.AsyncOps = &AsyncOps{Invoked: int(binary.BigEndian.Uint16(v)), Performed: int(binary.BigEndian.Uint16(v[2:]))}
		case ItemRoleSelection:
			i := 0
			uid, ok := u16String(v, &i)
			if !ok || len(v)-i != 2 {
				return u, bad("malformed role selection")
			}
			u.Roles = append(u.Roles, RoleSelection{SOPClass: trimUID([]byte(uid)), SCU: v[i] == 1, SCP: v[i+1] == 1})
		case ItemExtendedNegotiation:
			i := 0
			uid, ok := u16String(v, &i)
			if !ok {
				return u, bad("malformed extended negotiation")
			}
			u.Extended = append(u.Extended, ExtendedNegotiation{SOPClass: trimUID([]byte(uid)), Info: cloneBytes(v[i:])})
		case ItemCommonExtendedNegotiation:
			e, ok := decodeCommonExtended(v)
			if !ok {
				return u, bad("malformed common extended negotiation")
			}
			u.CommonExtended = append(u.CommonExtended, e)
		case ItemUserIdentityRQ:
			if len(v) < 2 {
				return u, bad("too short")
			}
			i := 2
			p, ok1 := u16String(v, &i)
			sec, ok2 := u16String(v, &i)
			if !ok1 || !ok2 || i != len(v) {
				return u, bad("malformed user identity")
			}
			u.UserIdentity = &UserIdentity{Type: v[0], PositiveResponseRequested: v[1] == 1,
				Primary: cloneBytes([]byte(p)), Secondary: cloneBytes([]byte(sec))}
		case ItemUserIdentityAC:
			i := 0
			r, ok := u16String(v, &i)
			if !ok || i != len(v) {
				return u, bad("malformed user identity response")
			}
			u.UserIdentityResponse = &UserIdentityResponse{ServerResponse: cloneBytes([]byte(r))}
		default:
			u.Unknown = append(u.Unknown, RawItem{Type: s.typ, Data: cloneBytes(v)})
		}
	}
	return u, nil
}

func decodeCommonExtended(v []byte) (CommonExtendedNegotiation, bool) {
	var e CommonExtendedNegotiation
	i := 0
	sop, ok1 := u16String(v, &i)
	svc, ok2 := u16String(v, &i)
	rel, ok3 := u16String(v, &i)
	if !ok1 || !ok2 || !ok3 || i != len(v) {
		return e, false
	}
	e.SOPClass, e.ServiceClass = trimUID([]byte(sop)), trimUID([]byte(svc))
	rb := []byte(rel)
	for j := 0; j < len(rb); {
		s, ok := u16String(rb, &j)
		if !ok {
			return e, false
		}
		e.RelatedClasses = append(e.RelatedClasses, trimUID([]byte(s)))
	}
	return e, true
}
