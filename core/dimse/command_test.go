package dimse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

func TestCommandRoundTrip(t *testing.T) {
	st := Status{Code: CodeDataSetMismatch, ErrorComment: "bad", OffendingElement: []dicom.Tag{dicom.PatientName}, ErrorID: 7}
	store := &CStoreRequest{AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2", AffectedSOPInstanceUID: "1.2.3.4",
		Priority: PriorityHigh, MoveOriginatorAETitle: "MOVER", MoveOriginatorMessageID: 9}
	store.MessageID = 42
	storeRSP := &CStoreResponse{AffectedSOPClassUID: "1.2", AffectedSOPInstanceUID: "1.2.3"}
	storeRSP.MessageIDBeingRespondedTo, storeRSP.Status = 42, st
	move := &CMoveRequest{AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.2.2.2", Priority: PriorityLow, MoveDestination: "DEST"}
	move.MessageID = 3
	moveRSP := &CMoveResponse{AffectedSOPClassUID: "1.2", SubOperations: SubOperations{Remaining: 1, Completed: 2, Failed: 3, Warning: 4, HasRemaining: true}}
	moveRSP.MessageIDBeingRespondedTo, moveRSP.Status = 3, StatusPending
	getRSP := &CGetResponse{AffectedSOPClassUID: "1.2", SubOperations: SubOperations{Completed: 2}}
	getRSP.Status = Status{Code: CodeSubOperationsWarning}
	echo := &CEchoRequest{AffectedSOPClassUID: "1.2.840.10008.1.1"}
	echo.MessageID = 65535
	nget := &NGetRequest{RequestedSOPClassUID: "1.2", RequestedSOPInstanceUID: "1.3", AttributeIdentifierList: []dicom.Tag{dicom.PatientID, dicom.StudyDate}}
	nset := &NSetResponse{}
	nset.AffectedSOPClassUID = "1.2"
	nset.Status = Status{Code: CodeAttributeListError, AttributeIdentifierList: []dicom.Tag{dicom.PatientID}}
	tests := []struct {
		name    string
		msg     Message
		hasData bool
	}{
		{name: "c-store-rq", msg: store, hasData: true},
		{name: "c-store-rsp", msg: storeRSP},
		{name: "c-find-rq", msg: &CFindRequest{AffectedSOPClassUID: "1.2"}, hasData: true},
		{name: "c-find-rsp", msg: &CFindResponse{AffectedSOPClassUID: "1.2"}, hasData: true},
		{name: "c-get-rq", msg: &CGetRequest{AffectedSOPClassUID: "1.2", Priority: PriorityHigh}, hasData: true},
		{name: "c-get-rsp", msg: getRSP},
		{name: "c-move-rq", msg: move, hasData: true},
		{name: "c-move-rsp", msg: moveRSP},
		{name: "c-echo-rq", msg: echo},
		{name: "c-echo-rsp", msg: &CEchoResponse{AffectedSOPClassUID: "1.2.840.10008.1.1"}},
		{name: "c-cancel-rq", msg: &CCancelRequest{MessageIDBeingRespondedTo: 12}},
		{name: "n-event-report-rq", msg: &NEventReportRequest{AffectedSOPClassUID: "1.2", AffectedSOPInstanceUID: "1.3", EventTypeID: 1}, hasData: true},
		{name: "n-event-report-rsp", msg: &NEventReportResponse{AffectedSOPClassUID: "1.2", EventTypeID: 2}},
		{name: "n-get-rq", msg: nget},
		{name: "n-get-rsp", msg: &NGetResponse{}, hasData: true},
		{name: "n-set-rq", msg: &NSetRequest{RequestedSOPClassUID: "1.2", RequestedSOPInstanceUID: "1.3"}, hasData: true},
		{name: "n-set-rsp", msg: nset},
		{name: "n-action-rq", msg: &NActionRequest{RequestedSOPClassUID: "1.2", RequestedSOPInstanceUID: "1.3", ActionTypeID: 1}},
		{name: "n-action-rsp", msg: &NActionResponse{ActionTypeID: 1}, hasData: true},
		{name: "n-create-rq", msg: &NCreateRequest{AffectedSOPClassUID: "1.2"}, hasData: true},
		{name: "n-create-rsp", msg: &NCreateResponse{}},
		{name: "n-delete-rq", msg: &NDeleteRequest{RequestedSOPClassUID: "1.2", RequestedSOPInstanceUID: "1.3"}},
		{name: "n-delete-rsp", msg: &NDeleteResponse{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := EncodeCommand(tc.msg, tc.hasData)
			if err != nil {
				t.Fatalf("EncodeCommand() error = %v", err)
			}
			if got, want := binary.LittleEndian.Uint32(b[8:]), uint32(len(b)-12); got != want {
				t.Errorf("group length = %d, want %d", got, want)
			}
			got, hasData, err := DecodeCommand(b)
			if err != nil {
				t.Fatalf("DecodeCommand() error = %v", err)
			}
			if hasData != tc.hasData {
				t.Errorf("hasData = %v, want %v", hasData, tc.hasData)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Errorf("DecodeCommand() = %+v, want %+v", got, tc.msg)
			}
		})
	}
}

// echoscuRQ is the C-ECHO-RQ command set sent by dcmtk 3.6.7's echoscu
// (captured from the wire): group length 56, message ID 1.
var echoscuRQ = []byte{
	0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00, 0x12, 0x00, 0x00, 0x00, '1', '.', '2', '.', '8', '4', '0', '.', '1', '0', '0', '0', '8', '.', '1', '.', '1', 0x00,
	0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x30, 0x00,
	0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01,
}

func TestEncodeMatchesDcmtk(t *testing.T) {
	m := &CEchoRequest{AffectedSOPClassUID: "1.2.840.10008.1.1"}
	m.MessageID = 1
	got, err := EncodeCommand(m, false)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, echoscuRQ) {
		t.Errorf("EncodeCommand() = % x\nwant               % x", got, echoscuRQ)
	}
}

func TestDecodeCommandErrors(t *testing.T) {
	noField := echoscuRQ[:len(echoscuRQ)-30] // cut command field and what follows
	tests := []struct {
		name string
		in   []byte
	}{
		{name: "empty", in: nil},
		{name: "truncated", in: echoscuRQ[:20]},
		{name: "no command field", in: noField},
		{name: "unknown command", in: func() []byte {
			b := bytes.Clone(echoscuRQ)
			b[46] = 0x77
			return b
		}()},
		{name: "missing message id", in: func() []byte {
			m := &CEchoResponse{}
			b, _ := EncodeCommand(m, false)
			// Re-encode without (0000,0120): decode, then strip by hand.
			return bytes.Replace(b, []byte{0x00, 0x00, 0x20, 0x01}, []byte{0x00, 0x00, 0x21, 0x01}, 1)
		}()},
		{name: "too long", in: make([]byte, MaxCommandLength+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := DecodeCommand(tc.in); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("DecodeCommand() error = %v, want ErrBadCommand", err)
			}
		})
	}
}

func TestStatusCategory(t *testing.T) {
	tests := []struct {
		code uint16
		want Category
	}{
		{0x0000, CategorySuccess}, {0xFF00, CategoryPending}, {0xFF01, CategoryPending},
		{0xFE00, CategoryCancel}, {0xB000, CategoryWarning}, {0xB007, CategoryWarning},
		{0x0001, CategoryWarning}, {0x0107, CategoryWarning}, {0x0116, CategoryWarning},
		{0xA700, CategoryFailure}, {0xA900, CategoryFailure}, {0xC000, CategoryFailure},
		{0xC123, CategoryFailure}, {0x0110, CategoryFailure}, {0x0122, CategoryFailure},
		{0x0211, CategoryFailure}, {0xA801, CategoryFailure},
	}
	for _, tc := range tests {
		if got := CategoryOf(tc.code); got != tc.want {
			t.Errorf("CategoryOf(0x%04X) = %v, want %v", tc.code, got, tc.want)
		}
	}
	if s := (Status{Code: 0xA700, ErrorComment: "disk full"}).String(); s != `0xA700 Out of resources: "disk full"` {
		t.Errorf("String() = %s", s)
	}
}

func TestErrorCommentCut(t *testing.T) {
	m := &CStoreResponse{}
	m.Status = Status{Code: CodeProcessingFailure, ErrorComment: string(bytes.Repeat([]byte("x"), 100))}
	b, err := EncodeCommand(m, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := DecodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.(*CStoreResponse).Status.ErrorComment); n != maxErrorComment {
		t.Errorf("error comment length = %d, want %d", n, maxErrorComment)
	}
}

func FuzzDecodeCommand(f *testing.F) {
	f.Add(echoscuRQ)
	b, _ := EncodeCommand(&CMoveResponse{SubOperations: SubOperations{Completed: 1}}, true)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, hasData, err := DecodeCommand(b)
		if err != nil {
			return
		}
		out, err := EncodeCommand(m, hasData)
		if err != nil {
			return // e.g. a UID that NewElement rejects
		}
		if _, _, err := DecodeCommand(out); err != nil {
			t.Fatalf("re-encoded command does not decode: %v", err)
		}
	})
}
