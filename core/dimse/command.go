package dimse

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
)

// MaxCommandLength bounds the encoded command set accepted from a peer. Command
// sets hold a few UIDs and numbers; a few hundred bytes is typical.
const MaxCommandLength = 64 << 10

// CommandField is the value of Command Field (0000,0100) (PS3.7 §9.3, §10.3).
type CommandField uint16

// The command fields of PS3.7 Annex E.
const (
	CStoreRQ        CommandField = 0x0001
	CStoreRSP       CommandField = 0x8001
	CGetRQ          CommandField = 0x0010
	CGetRSP         CommandField = 0x8010
	CFindRQ         CommandField = 0x0020
	CFindRSP        CommandField = 0x8020
	CMoveRQ         CommandField = 0x0021
	CMoveRSP        CommandField = 0x8021
	CEchoRQ         CommandField = 0x0030
	CEchoRSP        CommandField = 0x8030
	NEventReportRQ  CommandField = 0x0100
	NEventReportRSP CommandField = 0x8100
	NGetRQ          CommandField = 0x0110
	NGetRSP         CommandField = 0x8110
	NSetRQ          CommandField = 0x0120
	NSetRSP         CommandField = 0x8120
	NActionRQ       CommandField = 0x0130
	NActionRSP      CommandField = 0x8130
	NCreateRQ       CommandField = 0x0140
	NCreateRSP      CommandField = 0x8140
	NDeleteRQ       CommandField = 0x0150
	NDeleteRSP      CommandField = 0x8150
	CCancelRQ       CommandField = 0x0FFF
)

var commandNames = map[CommandField]string{
	CStoreRQ: "C-STORE-RQ", CStoreRSP: "C-STORE-RSP", CGetRQ: "C-GET-RQ", CGetRSP: "C-GET-RSP",
	CFindRQ: "C-FIND-RQ", CFindRSP: "C-FIND-RSP", CMoveRQ: "C-MOVE-RQ", CMoveRSP: "C-MOVE-RSP",
	CEchoRQ: "C-ECHO-RQ", CEchoRSP: "C-ECHO-RSP", NEventReportRQ: "N-EVENT-REPORT-RQ",
	NEventReportRSP: "N-EVENT-REPORT-RSP", NGetRQ: "N-GET-RQ", NGetRSP: "N-GET-RSP",
	NSetRQ: "N-SET-RQ", NSetRSP: "N-SET-RSP", NActionRQ: "N-ACTION-RQ", NActionRSP: "N-ACTION-RSP",
	NCreateRQ: "N-CREATE-RQ", NCreateRSP: "N-CREATE-RSP", NDeleteRQ: "N-DELETE-RQ",
	NDeleteRSP: "N-DELETE-RSP", CCancelRQ: "C-CANCEL-RQ",
}

// String returns the command's name as PS3.7 spells it ("C-STORE-RQ"), or its
// value in hexadecimal when it is not a known command.
func (c CommandField) String() string {
	if s, ok := commandNames[c]; ok {
		return s
	}
	return fmt.Sprintf("command 0x%04X", uint16(c))
}

// IsResponse reports whether c is a response (bit 15 set).
func (c CommandField) IsResponse() bool { return c&0x8000 != 0 }

// Priority is the value of Priority (0000,0700) of C-STORE, C-FIND, C-GET and
// C-MOVE requests.
type Priority uint16

// The priorities of PS3.7 §9.1.
const (
	PriorityMedium Priority = 0x0000
	PriorityHigh   Priority = 0x0001
	PriorityLow    Priority = 0x0002
)

// The values of Command Data Set Type (0000,0800): NoDataSet says no data set
// follows the command; any other value says one does, and we send DataSetPresent.
const (
	NoDataSet      uint16 = 0x0101
	DataSetPresent uint16 = 0x0001
)

// ErrBadCommand is wrapped by every error decoding a command set: malformed
// encoding, unknown command field, a required element missing.
var ErrBadCommand = errors.New("dimse: invalid command set")

// Message is one DIMSE command: a request or response struct of this package
// (*CStoreRequest, *CEchoResponse, ...). The data set that may follow it is
// carried beside it, never inside it.
type Message interface {
	// Command returns the message's Command Field.
	Command() CommandField
	encode(e *encoder)
	decode(d *decoder)
}

// Request is implemented by every request message.
type Request interface {
	Message
	// ID returns the request's Message ID (0000,0110).
	ID() uint16
	setID(id uint16)
}

// Response is implemented by every response message.
type Response interface {
	Message
	// RespondsTo returns Message ID Being Responded To (0000,0120).
	RespondsTo() uint16
	// Result returns the response's status.
	Result() Status
	setRespondsTo(id uint16)
	setResult(st Status)
}

// EncodeCommand returns the command set of m in Implicit VR Little Endian,
// beginning with Command Group Length (0000,0000) and with Command Data Set
// Type (0000,0800) set from hasData (PS3.7 §6.3.1). Text values are padded;
// an Error Comment longer than 64 characters is cut.
func EncodeCommand(m Message, hasData bool) ([]byte, error) {
	e := encoder{ds: dicom.NewDataset(12)}
	e.us(dicom.CommandField, uint16(m.Command()))
	if hasData {
		e.us(dicom.CommandDataSetType, DataSetPresent)
	} else {
		e.us(dicom.CommandDataSetType, NoDataSet)
	}
	m.encode(&e)
	if e.err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.Command(), e.err)
	}
	b := make([]byte, 12, 256)
	b, err := codec.AppendDataset(b, e.ds, codec.ImplicitVRLittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", m.Command(), err)
	}
	// (0000,0000) UL, length 4, value: the bytes after it.
	binary.LittleEndian.PutUint32(b[0:], 0)
	binary.LittleEndian.PutUint32(b[4:], 4)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)-12))
	return b, nil
}

// DecodeCommand decodes a command set encoded in Implicit VR Little Endian and
// reports whether a data set follows it. Command Group Length is read if
// present but not required to be exact (dcmtk and others are lenient there).
// Errors wrap ErrBadCommand.
func DecodeCommand(b []byte) (m Message, hasData bool, err error) {
	if len(b) > MaxCommandLength {
		return nil, false, fmt.Errorf("%w: %d bytes exceed %d", ErrBadCommand, len(b), MaxCommandLength)
	}
	// Values alias b: the message keeps none of them (strings and tags are
	// decoded), so nothing is copied.
	ds, err := codec.ReadDataset(b, codec.ImplicitVRLittleEndian,
		codec.WithLimits(codec.Limits{MaxDepth: 1, MaxValueLength: MaxCommandLength, MaxElements: 256}))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	d := decoder{ds: ds}
	field, ok := d.usOpt(dicom.CommandField)
	if !ok {
		return nil, false, fmt.Errorf("%w: no Command Field (0000,0100)", ErrBadCommand)
	}
	cdst, ok := d.usOpt(dicom.CommandDataSetType)
	if !ok {
		return nil, false, fmt.Errorf("%w: %s without Command Data Set Type (0000,0800)", ErrBadCommand, CommandField(field))
	}
	m = newMessage(CommandField(field))
	if m == nil {
		return nil, false, fmt.Errorf("%w: unknown Command Field 0x%04X", ErrBadCommand, field)
	}
	m.decode(&d)
	if d.err != nil {
		return nil, false, fmt.Errorf("%w: %s: %w", ErrBadCommand, m.Command(), d.err)
	}
	return m, cdst != NoDataSet, nil
}

// newMessage returns an empty message for a command field, or nil.
func newMessage(c CommandField) Message {
	switch c {
	case CStoreRQ:
		return &CStoreRequest{}
	case CStoreRSP:
		return &CStoreResponse{}
	case CGetRQ:
		return &CGetRequest{}
	case CGetRSP:
		return &CGetResponse{}
	case CFindRQ:
		return &CFindRequest{}
	case CFindRSP:
		return &CFindResponse{}
	case CMoveRQ:
		return &CMoveRequest{}
	case CMoveRSP:
		return &CMoveResponse{}
	case CEchoRQ:
		return &CEchoRequest{}
	case CEchoRSP:
		return &CEchoResponse{}
	case CCancelRQ:
		return &CCancelRequest{}
	case NEventReportRQ:
		return &NEventReportRequest{}
	case NEventReportRSP:
		return &NEventReportResponse{}
	case NGetRQ:
		return &NGetRequest{}
	case NGetRSP:
		return &NGetResponse{}
	case NSetRQ:
		return &NSetRequest{}
	case NSetRSP:
		return &NSetResponse{}
	case NActionRQ:
		return &NActionRequest{}
	case NActionRSP:
		return &NActionResponse{}
	case NCreateRQ:
		return &NCreateRequest{}
	case NCreateRSP:
		return &NCreateResponse{}
	case NDeleteRQ:
		return &NDeleteRequest{}
	case NDeleteRSP:
		return &NDeleteResponse{}
	}
	return nil
}

// encoder builds a command data set; the first error is kept.
type encoder struct {
	ds  *dicom.Dataset
	err error
}

func (e *encoder) put(t dicom.Tag, vr dicom.VR, v any) {
	if e.err != nil {
		return
	}
	el, err := dicom.NewElement(t, vr, v, nil)
	if err != nil {
		e.err = fmt.Errorf("%v: %w", t, err)
		return
	}
	e.ds.Put(el)
}

func (e *encoder) us(t dicom.Tag, v uint16) { e.put(t, dicom.US, []uint16{v}) }

// str puts a UI, AE or LO value; empty values are left out.
func (e *encoder) str(t dicom.Tag, vr dicom.VR, s string) {
	if s != "" {
		e.put(t, vr, s)
	}
}

func (e *encoder) uid(t dicom.Tag, s string) { e.str(t, dicom.UI, s) }

func (e *encoder) tags(t dicom.Tag, v []dicom.Tag) {
	if len(v) > 0 {
		e.put(t, dicom.AT, v)
	}
}

func (e *encoder) status(st Status) {
	e.us(dicom.Status, st.Code)
	e.tags(dicom.OffendingElement, st.OffendingElement)
	comment := st.ErrorComment
	if len(comment) > maxErrorComment {
		comment = comment[:maxErrorComment]
	}
	e.str(dicom.ErrorComment, dicom.LO, comment)
	if st.ErrorID != 0 {
		e.us(dicom.ErrorID, st.ErrorID)
	}
	if len(st.AttributeIdentifierList) > 0 {
		e.tags(dicom.AttributeIdentifierList, st.AttributeIdentifierList)
	}
}

// decoder reads a command data set; the first missing required element is kept.
type decoder struct {
	ds  *dicom.Dataset
	err error
}

func (d *decoder) missing(t dicom.Tag) {
	if d.err == nil {
		kw := t.Keyword()
		d.err = fmt.Errorf("missing %s %v", kw, t)
	}
}

func (d *decoder) usOpt(t dicom.Tag) (uint16, bool) {
	e := d.ds.Get(t)
	if e == nil || len(e.Value) < 2 {
		return 0, false
	}
	return binary.LittleEndian.Uint16(e.Value), true
}

func (d *decoder) us(t dicom.Tag) uint16 {
	v, ok := d.usOpt(t)
	if !ok {
		d.missing(t)
	}
	return v
}

// str returns a text value without padding (NUL or space), "" when absent.
func (d *decoder) str(t dicom.Tag) string {
	return d.ds.String(t)
}

func (d *decoder) uid(t dicom.Tag) string {
	s := d.ds.String(t)
	if s == "" {
		d.missing(t)
	}
	return s
}

func (d *decoder) tags(t dicom.Tag) []dicom.Tag {
	if !d.ds.Contains(t) {
		return nil
	}
	v, err := d.ds.Tags(t)
	if err != nil && d.err == nil {
		d.err = fmt.Errorf("%v: %w", t, err)
	}
	return v
}

func (d *decoder) status() Status {
	st := Status{Code: d.us(dicom.Status)}
	st.OffendingElement = d.tags(dicom.OffendingElement)
	st.ErrorComment = d.str(dicom.ErrorComment)
	st.ErrorID, _ = d.usOpt(dicom.ErrorID)
	st.AttributeIdentifierList = d.tags(dicom.AttributeIdentifierList)
	return st
}
