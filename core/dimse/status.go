package dimse

import (
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
)

// maxErrorComment is the longest Error Comment (0000,0902) sent: an LO value.
const maxErrorComment = 64

// Status is the outcome of a DIMSE operation: Status (0000,0900) and the
// elements that may accompany it (PS3.7 Annex C). ErrorComment is sent to the
// peer: at most 64 characters (longer ones are cut) and never patient data.
type Status struct {
	Code             uint16
	ErrorComment     string
	OffendingElement []dicom.Tag
	ErrorID          uint16
	// AttributeIdentifierList accompanies some N-service warnings and failures.
	AttributeIdentifierList []dicom.Tag
}

// Category is the class of a status code (PS3.7 §C.1).
type Category int

// The categories of PS3.7 Annex C.
const (
	CategorySuccess Category = iota
	CategoryWarning
	CategoryFailure
	CategoryCancel
	CategoryPending
)

// String returns the category's name in lower case.
func (c Category) String() string {
	switch c {
	case CategorySuccess:
		return "success"
	case CategoryWarning:
		return "warning"
	case CategoryCancel:
		return "cancel"
	case CategoryPending:
		return "pending"
	}
	return "failure"
}

// Status codes of PS3.7 Annex C (general) and the service-specific ones of
// PS3.4 that this archive sends or meets most.
const (
	CodeSuccess uint16 = 0x0000

	CodePending                  uint16 = 0xFF00
	CodePendingWarning           uint16 = 0xFF01 // C-FIND: optional keys not supported
	CodeCancel                   uint16 = 0xFE00
	CodeWarning                  uint16 = 0x0001 // requested optional attributes not supported
	CodeAttributeListError       uint16 = 0x0107
	CodeAttributeValueOutOfRange uint16 = 0x0116
	CodeSubOperationsWarning     uint16 = 0xB000 // C-GET/C-MOVE: some sub-operations failed or warned; C-STORE: coercion of data elements
	CodeElementsDiscarded        uint16 = 0xB006 // C-STORE
	CodeDataSetMismatchWarning   uint16 = 0xB007 // C-STORE: data set does not match SOP class

	CodeNoSuchAttribute        uint16 = 0x0105
	CodeInvalidAttributeValue  uint16 = 0x0106
	CodeProcessingFailure      uint16 = 0x0110
	CodeDuplicateSOPInstance   uint16 = 0x0111
	CodeNoSuchSOPInstance      uint16 = 0x0112
	CodeNoSuchEventType        uint16 = 0x0113
	CodeNoSuchArgument         uint16 = 0x0114
	CodeInvalidArgumentValue   uint16 = 0x0115
	CodeInvalidObjectInstance  uint16 = 0x0117
	CodeNoSuchSOPClass         uint16 = 0x0118
	CodeClassInstanceConflict  uint16 = 0x0119
	CodeMissingAttribute       uint16 = 0x0120
	CodeMissingAttributeValue  uint16 = 0x0121
	CodeSOPClassNotSupported   uint16 = 0x0122
	CodeNoSuchAction           uint16 = 0x0123
	CodeNotAuthorized          uint16 = 0x0124
	CodeDuplicateInvocation    uint16 = 0x0210
	CodeUnrecognizedOperation  uint16 = 0x0211
	CodeMistypedArgument       uint16 = 0x0212
	CodeResourceLimitation     uint16 = 0x0213
	CodeOutOfResources         uint16 = 0xA700
	CodeOutOfResourcesMatches  uint16 = 0xA701 // C-GET/C-MOVE: unable to calculate number of matches
	CodeOutOfResourcesSubOps   uint16 = 0xA702 // C-GET/C-MOVE: unable to perform sub-operations
	CodeMoveDestinationUnknown uint16 = 0xA801
	CodeDataSetMismatch        uint16 = 0xA900 // C-STORE: data set does not match SOP class; query: identifier does not match
	CodeCannotUnderstand       uint16 = 0xC000 // C-STORE: cannot understand; query: unable to process
)

// Ready-made statuses without comment.
var (
	StatusSuccess                     = Status{Code: CodeSuccess}
	StatusPending                     = Status{Code: CodePending}
	StatusCancel                      = Status{Code: CodeCancel}
	StatusProcessingFailure           = Status{Code: CodeProcessingFailure}
	StatusSOPClassNotSupported        = Status{Code: CodeSOPClassNotSupported}
	StatusUnrecognizedOperation       = Status{Code: CodeUnrecognizedOperation}
	StatusOutOfResources              = Status{Code: CodeOutOfResources}
	StatusDataSetDoesNotMatchSOPClass = Status{Code: CodeDataSetMismatch}
	StatusCannotUnderstand            = Status{Code: CodeCannotUnderstand}
	StatusMoveDestinationUnknown      = Status{Code: CodeMoveDestinationUnknown}
	StatusDuplicateInvocation         = Status{Code: CodeDuplicateInvocation}
	StatusNotAuthorized               = Status{Code: CodeNotAuthorized}
)

var codeNames = map[uint16]string{
	CodeSuccess: "Success", CodePending: "Pending", CodePendingWarning: "Pending (optional keys not supported)",
	CodeCancel: "Cancel", CodeWarning: "Warning", CodeAttributeListError: "Attribute list error",
	CodeAttributeValueOutOfRange: "Attribute value out of range",
	CodeSubOperationsWarning:     "Warning (sub-operations or coercion)", CodeElementsDiscarded: "Elements discarded",
	CodeDataSetMismatchWarning: "Data set does not match SOP class (warning)",
	CodeNoSuchAttribute:        "No such attribute", CodeInvalidAttributeValue: "Invalid attribute value",
	CodeProcessingFailure: "Processing failure", CodeDuplicateSOPInstance: "Duplicate SOP instance",
	CodeNoSuchSOPInstance: "No such SOP instance", CodeNoSuchEventType: "No such event type",
	CodeNoSuchArgument: "No such argument", CodeInvalidArgumentValue: "Invalid argument value",
	CodeInvalidObjectInstance: "Invalid object instance", CodeNoSuchSOPClass: "No such SOP class",
	CodeClassInstanceConflict: "Class-instance conflict", CodeMissingAttribute: "Missing attribute",
	CodeMissingAttributeValue: "Missing attribute value", CodeSOPClassNotSupported: "SOP class not supported",
	CodeNoSuchAction: "No such action", CodeNotAuthorized: "Not authorized",
	CodeDuplicateInvocation: "Duplicate invocation", CodeUnrecognizedOperation: "Unrecognized operation",
	CodeMistypedArgument: "Mistyped argument", CodeResourceLimitation: "Resource limitation",
	CodeOutOfResources: "Out of resources", CodeOutOfResourcesMatches: "Out of resources (number of matches)",
	CodeOutOfResourcesSubOps: "Out of resources (sub-operations)", CodeMoveDestinationUnknown: "Move destination unknown",
	CodeDataSetMismatch: "Data set does not match SOP class", CodeCannotUnderstand: "Cannot understand",
}

// CategoryOf returns the category of a status code (PS3.7 §C.1-C.5): 0000
// success; FF00 and FF01 pending; FE00 cancel; 0001, 0107, 0116 and Bxxx
// warning; everything else (Axxx, Cxxx, 01xx, 02xx, unknown codes) failure.
func CategoryOf(code uint16) Category {
	switch {
	case code == CodeSuccess:
		return CategorySuccess
	case code == CodePending || code == CodePendingWarning:
		return CategoryPending
	case code == CodeCancel:
		return CategoryCancel
	case code == CodeWarning || code == CodeAttributeListError || code == CodeAttributeValueOutOfRange,
		code&0xF000 == 0xB000:
		return CategoryWarning
	}
	return CategoryFailure
}

// Category returns the category of s.Code.
func (s Status) Category() Category { return CategoryOf(s.Code) }

// OK reports whether s is success or a warning: the operation was performed.
func (s Status) OK() bool {
	c := s.Category()
	return c == CategorySuccess || c == CategoryWarning
}

// Pending reports whether more responses follow s (FF00, FF01).
func (s Status) Pending() bool { return s.Category() == CategoryPending }

// String formats s as "0xA700 Out of resources" followed by the error comment
// in quotes when there is one.
func (s Status) String() string {
	name, ok := codeNames[s.Code]
	if !ok {
		name = s.Category().String()
	}
	if s.ErrorComment != "" {
		return fmt.Sprintf("0x%04X %s: %q", s.Code, name, s.ErrorComment)
	}
	return fmt.Sprintf("0x%04X %s", s.Code, name)
}

// WithComment returns a copy of s with ErrorComment set to comment (cut to 64
// characters when sent).
func (s Status) WithComment(comment string) Status {
	s.ErrorComment = comment
	return s
}

// StatusError is an error carrying the DIMSE status a handler or validator
// chose for it; the service edge sends Status as is. SCU calls return it for
// a final status that is neither success nor warning.
type StatusError struct {
	Status Status
}

// Error formats the status.
func (e *StatusError) Error() string { return "dimse: status " + e.Status.String() }

// NewStatusError returns a *StatusError for code with an error comment (no PHI).
func NewStatusError(code uint16, comment string) *StatusError {
	return &StatusError{Status: Status{Code: code, ErrorComment: comment}}
}
