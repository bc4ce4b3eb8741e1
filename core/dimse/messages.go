package dimse

import "github.com/pacsforge/pacs/core/dicom"

// The request and response messages of PS3.7 §9.3 (C-services) and §10.3
// (N-services). Fields are the command elements; empty strings and zero
// optional numbers are left out of the encoding. Status carries Status
// (0000,0900) with Error Comment, Error ID, Offending Element and Attribute
// Identifier List.

// reqHeader holds Message ID; resHeader Message ID Being Responded To and Status.
type reqHeader struct {
	// MessageID is Message ID (0000,0110); the SCU API assigns it.
	MessageID uint16
}

func (h *reqHeader) ID() uint16      { return h.MessageID }
func (h *reqHeader) setID(id uint16) { h.MessageID = id }

type resHeader struct {
	// MessageIDBeingRespondedTo is (0000,0120), the request's Message ID.
	MessageIDBeingRespondedTo uint16
	// Status is the outcome (PS3.7 Annex C).
	Status Status
}

func (h *resHeader) RespondsTo() uint16      { return h.MessageIDBeingRespondedTo }
func (h *resHeader) Result() Status          { return h.Status }
func (h *resHeader) setRespondsTo(id uint16) { h.MessageIDBeingRespondedTo = id }
func (h *resHeader) setResult(st Status)     { h.Status = st }

func (h *reqHeader) enc(e *encoder) { e.us(dicom.MessageID, h.MessageID) }
func (h *reqHeader) dec(d *decoder) { h.MessageID = d.us(dicom.MessageID) }
func (h *resHeader) enc(e *encoder) {
	e.us(dicom.MessageIDBeingRespondedTo, h.MessageIDBeingRespondedTo)
	e.status(h.Status)
}
func (h *resHeader) dec(d *decoder) {
	h.MessageIDBeingRespondedTo = d.us(dicom.MessageIDBeingRespondedTo)
	h.Status = d.status()
}

// SubOperations holds the sub-operation counters of C-GET and C-MOVE responses
// (0000,1020)-(0000,1023).
type SubOperations struct {
	Remaining, Completed, Failed, Warning uint16
	// HasRemaining says Remaining is sent: it is optional in final responses.
	HasRemaining bool
}

func (s *SubOperations) enc(e *encoder) {
	if s.HasRemaining || s.Remaining != 0 {
		e.us(dicom.NumberOfRemainingSuboperations, s.Remaining)
	}
	e.us(dicom.NumberOfCompletedSuboperations, s.Completed)
	e.us(dicom.NumberOfFailedSuboperations, s.Failed)
	e.us(dicom.NumberOfWarningSuboperations, s.Warning)
}

func (s *SubOperations) dec(d *decoder) {
	s.Remaining, s.HasRemaining = d.usOpt(dicom.NumberOfRemainingSuboperations)
	s.Completed, _ = d.usOpt(dicom.NumberOfCompletedSuboperations)
	s.Failed, _ = d.usOpt(dicom.NumberOfFailedSuboperations)
	s.Warning, _ = d.usOpt(dicom.NumberOfWarningSuboperations)
}

// CStoreRequest is C-STORE-RQ (PS3.7 §9.3.1.1); a data set always follows.
type CStoreRequest struct {
	reqHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	Priority               Priority
	// MoveOriginatorAETitle and MoveOriginatorMessageID are set when the store
	// is a sub-operation of a C-MOVE.
	MoveOriginatorAETitle   string
	MoveOriginatorMessageID uint16
}

// Command returns CStoreRQ.
func (*CStoreRequest) Command() CommandField { return CStoreRQ }
func (m *CStoreRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
	e.us(dicom.Priority, uint16(m.Priority))
	e.str(dicom.MoveOriginatorApplicationEntityTitle, dicom.AE, m.MoveOriginatorAETitle)
	if m.MoveOriginatorAETitle != "" || m.MoveOriginatorMessageID != 0 {
		e.us(dicom.MoveOriginatorMessageID, m.MoveOriginatorMessageID)
	}
}
func (m *CStoreRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.uid(dicom.AffectedSOPInstanceUID)
	p, _ := d.usOpt(dicom.Priority)
	m.Priority = Priority(p)
	m.MoveOriginatorAETitle = d.str(dicom.MoveOriginatorApplicationEntityTitle)
	m.MoveOriginatorMessageID, _ = d.usOpt(dicom.MoveOriginatorMessageID)
}

// CStoreResponse is C-STORE-RSP (PS3.7 §9.3.1.2).
type CStoreResponse struct {
	resHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
}

// Command returns CStoreRSP.
func (*CStoreResponse) Command() CommandField { return CStoreRSP }
func (m *CStoreResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
}
func (m *CStoreResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.str(dicom.AffectedSOPInstanceUID)
}

// CFindRequest is C-FIND-RQ (PS3.7 §9.3.2.1); the identifier follows.
type CFindRequest struct {
	reqHeader
	AffectedSOPClassUID string
	Priority            Priority
}

// Command returns CFindRQ.
func (*CFindRequest) Command() CommandField { return CFindRQ }
func (m *CFindRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.us(dicom.Priority, uint16(m.Priority))
}
func (m *CFindRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	p, _ := d.usOpt(dicom.Priority)
	m.Priority = Priority(p)
}

// CFindResponse is C-FIND-RSP (PS3.7 §9.3.2.2); pending responses carry an
// identifier.
type CFindResponse struct {
	resHeader
	AffectedSOPClassUID string
}

// Command returns CFindRSP.
func (*CFindResponse) Command() CommandField { return CFindRSP }
func (m *CFindResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
}
func (m *CFindResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
}

// CGetRequest is C-GET-RQ (PS3.7 §9.3.3.1); the identifier follows.
type CGetRequest struct {
	reqHeader
	AffectedSOPClassUID string
	Priority            Priority
}

// Command returns CGetRQ.
func (*CGetRequest) Command() CommandField { return CGetRQ }
func (m *CGetRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.us(dicom.Priority, uint16(m.Priority))
}
func (m *CGetRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	p, _ := d.usOpt(dicom.Priority)
	m.Priority = Priority(p)
}

// CGetResponse is C-GET-RSP (PS3.7 §9.3.3.2).
type CGetResponse struct {
	resHeader
	AffectedSOPClassUID string
	SubOperations
}

// Command returns CGetRSP.
func (*CGetResponse) Command() CommandField { return CGetRSP }
func (m *CGetResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	m.SubOperations.enc(e)
}
func (m *CGetResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.SubOperations.dec(d)
}

// CMoveRequest is C-MOVE-RQ (PS3.7 §9.3.4.1); the identifier follows.
type CMoveRequest struct {
	reqHeader
	AffectedSOPClassUID string
	Priority            Priority
	MoveDestination     string
}

// Command returns CMoveRQ.
func (*CMoveRequest) Command() CommandField { return CMoveRQ }
func (m *CMoveRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.us(dicom.Priority, uint16(m.Priority))
	e.put(dicom.MoveDestination, dicom.AE, m.MoveDestination)
}
func (m *CMoveRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	p, _ := d.usOpt(dicom.Priority)
	m.Priority = Priority(p)
	m.MoveDestination = d.str(dicom.MoveDestination)
	if m.MoveDestination == "" {
		d.missing(dicom.MoveDestination)
	}
}

// CMoveResponse is C-MOVE-RSP (PS3.7 §9.3.4.2).
type CMoveResponse struct {
	resHeader
	AffectedSOPClassUID string
	SubOperations
}

// Command returns CMoveRSP.
func (*CMoveResponse) Command() CommandField { return CMoveRSP }
func (m *CMoveResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	m.SubOperations.enc(e)
}
func (m *CMoveResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.SubOperations.dec(d)
}

// CEchoRequest is C-ECHO-RQ (PS3.7 §9.3.5.1).
type CEchoRequest struct {
	reqHeader
	AffectedSOPClassUID string
}

// Command returns CEchoRQ.
func (*CEchoRequest) Command() CommandField { return CEchoRQ }
func (m *CEchoRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
}
func (m *CEchoRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
}

// CEchoResponse is C-ECHO-RSP (PS3.7 §9.3.5.2).
type CEchoResponse struct {
	resHeader
	AffectedSOPClassUID string
}

// Command returns CEchoRSP.
func (*CEchoResponse) Command() CommandField { return CEchoRSP }
func (m *CEchoResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
}
func (m *CEchoResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
}

// CCancelRequest is C-CANCEL-RQ (PS3.7 §9.3.2.3): it names the operation to
// cancel by its Message ID and has no response of its own.
type CCancelRequest struct {
	MessageIDBeingRespondedTo uint16
}

// Command returns CCancelRQ.
func (*CCancelRequest) Command() CommandField { return CCancelRQ }
func (m *CCancelRequest) encode(e *encoder) {
	e.us(dicom.MessageIDBeingRespondedTo, m.MessageIDBeingRespondedTo)
}
func (m *CCancelRequest) decode(d *decoder) {
	m.MessageIDBeingRespondedTo = d.us(dicom.MessageIDBeingRespondedTo)
}

// NEventReportRequest is N-EVENT-REPORT-RQ (PS3.7 §10.3.1.1); event
// information may follow.
type NEventReportRequest struct {
	reqHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	EventTypeID            uint16
}

// Command returns NEventReportRQ.
func (*NEventReportRequest) Command() CommandField { return NEventReportRQ }
func (m *NEventReportRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
	e.us(dicom.EventTypeID, m.EventTypeID)
}
func (m *NEventReportRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.uid(dicom.AffectedSOPInstanceUID)
	m.EventTypeID = d.us(dicom.EventTypeID)
}

// NEventReportResponse is N-EVENT-REPORT-RSP (PS3.7 §10.3.1.2).
type NEventReportResponse struct {
	resHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	EventTypeID            uint16
}

// Command returns NEventReportRSP.
func (*NEventReportResponse) Command() CommandField { return NEventReportRSP }
func (m *NEventReportResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
	if m.EventTypeID != 0 {
		e.us(dicom.EventTypeID, m.EventTypeID)
	}
}
func (m *NEventReportResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.str(dicom.AffectedSOPInstanceUID)
	m.EventTypeID, _ = d.usOpt(dicom.EventTypeID)
}

// NGetRequest is N-GET-RQ (PS3.7 §10.3.2.1). An empty AttributeIdentifierList
// asks for every attribute.
type NGetRequest struct {
	reqHeader
	RequestedSOPClassUID    string
	RequestedSOPInstanceUID string
	AttributeIdentifierList []dicom.Tag
}

// Command returns NGetRQ.
func (*NGetRequest) Command() CommandField { return NGetRQ }
func (m *NGetRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.RequestedSOPClassUID, m.RequestedSOPClassUID)
	e.uid(dicom.RequestedSOPInstanceUID, m.RequestedSOPInstanceUID)
	e.tags(dicom.AttributeIdentifierList, m.AttributeIdentifierList)
}
func (m *NGetRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.RequestedSOPClassUID = d.uid(dicom.RequestedSOPClassUID)
	m.RequestedSOPInstanceUID = d.uid(dicom.RequestedSOPInstanceUID)
	m.AttributeIdentifierList = d.tags(dicom.AttributeIdentifierList)
}

// nResponse is the common shape of the N-GET, N-SET, N-CREATE and N-DELETE
// responses.
type nResponse struct {
	resHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
}

func (m *nResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
}
func (m *nResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.str(dicom.AffectedSOPInstanceUID)
}

// NGetResponse is N-GET-RSP (PS3.7 §10.3.2.2); the attribute list follows on
// success.
type NGetResponse struct{ nResponse }

// Command returns NGetRSP.
func (*NGetResponse) Command() CommandField { return NGetRSP }

// NSetRequest is N-SET-RQ (PS3.7 §10.3.3.1); the modification list follows.
type NSetRequest struct {
	reqHeader
	RequestedSOPClassUID    string
	RequestedSOPInstanceUID string
}

// Command returns NSetRQ.
func (*NSetRequest) Command() CommandField { return NSetRQ }
func (m *NSetRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.RequestedSOPClassUID, m.RequestedSOPClassUID)
	e.uid(dicom.RequestedSOPInstanceUID, m.RequestedSOPInstanceUID)
}
func (m *NSetRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.RequestedSOPClassUID = d.uid(dicom.RequestedSOPClassUID)
	m.RequestedSOPInstanceUID = d.uid(dicom.RequestedSOPInstanceUID)
}

// NSetResponse is N-SET-RSP (PS3.7 §10.3.3.2).
type NSetResponse struct{ nResponse }

// Command returns NSetRSP.
func (*NSetResponse) Command() CommandField { return NSetRSP }

// NActionRequest is N-ACTION-RQ (PS3.7 §10.3.4.1); action information may
// follow.
type NActionRequest struct {
	reqHeader
	RequestedSOPClassUID    string
	RequestedSOPInstanceUID string
	ActionTypeID            uint16
}

// Command returns NActionRQ.
func (*NActionRequest) Command() CommandField { return NActionRQ }
func (m *NActionRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.RequestedSOPClassUID, m.RequestedSOPClassUID)
	e.uid(dicom.RequestedSOPInstanceUID, m.RequestedSOPInstanceUID)
	e.us(dicom.ActionTypeID, m.ActionTypeID)
}
func (m *NActionRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.RequestedSOPClassUID = d.uid(dicom.RequestedSOPClassUID)
	m.RequestedSOPInstanceUID = d.uid(dicom.RequestedSOPInstanceUID)
	m.ActionTypeID = d.us(dicom.ActionTypeID)
}

// NActionResponse is N-ACTION-RSP (PS3.7 §10.3.4.2); a reply may follow.
type NActionResponse struct {
	resHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
	ActionTypeID           uint16
}

// Command returns NActionRSP.
func (*NActionResponse) Command() CommandField { return NActionRSP }
func (m *NActionResponse) encode(e *encoder) {
	m.resHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
	if m.ActionTypeID != 0 {
		e.us(dicom.ActionTypeID, m.ActionTypeID)
	}
}
func (m *NActionResponse) decode(d *decoder) {
	m.resHeader.dec(d)
	m.AffectedSOPClassUID = d.str(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.str(dicom.AffectedSOPInstanceUID)
	m.ActionTypeID, _ = d.usOpt(dicom.ActionTypeID)
}

// NCreateRequest is N-CREATE-RQ (PS3.7 §10.3.5.1); the attribute list may
// follow. An empty AffectedSOPInstanceUID asks the SCP to assign one.
type NCreateRequest struct {
	reqHeader
	AffectedSOPClassUID    string
	AffectedSOPInstanceUID string
}

// Command returns NCreateRQ.
func (*NCreateRequest) Command() CommandField { return NCreateRQ }
func (m *NCreateRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.AffectedSOPClassUID, m.AffectedSOPClassUID)
	e.uid(dicom.AffectedSOPInstanceUID, m.AffectedSOPInstanceUID)
}
func (m *NCreateRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.AffectedSOPClassUID = d.uid(dicom.AffectedSOPClassUID)
	m.AffectedSOPInstanceUID = d.str(dicom.AffectedSOPInstanceUID)
}

// NCreateResponse is N-CREATE-RSP (PS3.7 §10.3.5.2).
type NCreateResponse struct{ nResponse }

// Command returns NCreateRSP.
func (*NCreateResponse) Command() CommandField { return NCreateRSP }

// NDeleteRequest is N-DELETE-RQ (PS3.7 §10.3.6.1).
type NDeleteRequest struct {
	reqHeader
	RequestedSOPClassUID    string
	RequestedSOPInstanceUID string
}

// Command returns NDeleteRQ.
func (*NDeleteRequest) Command() CommandField { return NDeleteRQ }
func (m *NDeleteRequest) encode(e *encoder) {
	m.reqHeader.enc(e)
	e.uid(dicom.RequestedSOPClassUID, m.RequestedSOPClassUID)
	e.uid(dicom.RequestedSOPInstanceUID, m.RequestedSOPInstanceUID)
}
func (m *NDeleteRequest) decode(d *decoder) {
	m.reqHeader.dec(d)
	m.RequestedSOPClassUID = d.uid(dicom.RequestedSOPClassUID)
	m.RequestedSOPInstanceUID = d.uid(dicom.RequestedSOPInstanceUID)
}

// NDeleteResponse is N-DELETE-RSP (PS3.7 §10.3.6.2).
type NDeleteResponse struct{ nResponse }

// Command returns NDeleteRSP.
func (*NDeleteResponse) Command() CommandField { return NDeleteRSP }

// sopClass returns the SOP class a request is about (Affected or Requested).
func sopClass(m Message) string {
	switch m := m.(type) {
	case *CStoreRequest:
		return m.AffectedSOPClassUID
	case *CFindRequest:
		return m.AffectedSOPClassUID
	case *CGetRequest:
		return m.AffectedSOPClassUID
	case *CMoveRequest:
		return m.AffectedSOPClassUID
	case *CEchoRequest:
		return m.AffectedSOPClassUID
	case *NEventReportRequest:
		return m.AffectedSOPClassUID
	case *NGetRequest:
		return m.RequestedSOPClassUID
	case *NSetRequest:
		return m.RequestedSOPClassUID
	case *NActionRequest:
		return m.RequestedSOPClassUID
	case *NCreateRequest:
		return m.AffectedSOPClassUID
	case *NDeleteRequest:
		return m.RequestedSOPClassUID
	}
	return ""
}
