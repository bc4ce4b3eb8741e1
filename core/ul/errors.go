package ul

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrReleaseRequested is returned by ReadPDV when the peer sent
	// A-RELEASE-RQ; the caller finishes its work and calls ReleaseResponse.
	ErrReleaseRequested = errors.New("ul: peer requested release")
	// ErrReleased is returned once an orderly release has completed.
	ErrReleased = errors.New("ul: association released")
	// ErrAborted matches every *AbortError: the peer aborted, or this side
	// aborted because of an invalid PDU, a timeout or a local request.
	ErrAborted = errors.New("ul: association aborted")
	// ErrRejected matches every *RejectError returned by Dial.
	ErrRejected = errors.New("ul: association rejected")
	// ErrPDUTooLarge is returned by ReadPDU for a PDU whose length field
	// exceeds the limit; nothing of its body has been read.
	ErrPDUTooLarge = errors.New("ul: pdu too large")
	// ErrMalformedPDU matches every *PDUError: a PDU that cannot be decoded.
	ErrMalformedPDU = errors.New("ul: malformed pdu")
	// ErrUnknownCalledAE is the cause of a rejection (1,1,7) by Policy.
	ErrUnknownCalledAE = errors.New("ul: called ae title not recognised")
	// ErrUnknownCallingAE is the cause of a rejection (1,1,3) by Policy.
	ErrUnknownCallingAE = errors.New("ul: calling ae title not recognised")
	// ErrTimeout is returned when the ARTIM timer, the idle timeout or the
	// release timeout expired; the association has been aborted or closed.
	ErrTimeout = errors.New("ul: timeout")
	// ErrInvalidState is returned for a local request the state machine does
	// not allow in the association's current state (PS3.8 §9.2), such as
	// ReleaseResponse without a pending A-RELEASE-RQ.
	ErrInvalidState = errors.New("ul: request not allowed in this association state")
	// ErrServerClosed is returned by Serve after Shutdown.
	ErrServerClosed = errors.New("ul: server closed")
)

// A-ABORT sources (PS3.8 Table 9-26).
const (
	SourceServiceUser     byte = 0 // DICOM UL service-user (initiated abort)
	SourceServiceProvider byte = 2 // DICOM UL service-provider (initiated abort)
)

// A-ABORT reasons when the source is the service-provider (PS3.8 Table 9-26).
const (
	AbortReasonNotSpecified       byte = 0
	AbortUnrecognizedPDU          byte = 1
	AbortUnexpectedPDU            byte = 2
	AbortUnrecognizedPDUParameter byte = 4
	AbortUnexpectedPDUParameter   byte = 5
	AbortInvalidPDUParameterValue byte = 6
)

// AbortError reports an aborted association: Source and Reason are those of
// the A-ABORT PDU (PS3.8 Table 9-26), Local tells whether this side sent it.
// Cause, when set, is why this side aborted (a PDU error, a timeout).
type AbortError struct {
	Source, Reason byte
	Local          bool
	Cause          error
}

// Error implements error.
func (e *AbortError) Error() string {
	who := "peer"
	if e.Local {
		who = "local"
	}
	s := fmt.Sprintf("ul: association aborted (%s, source %d, reason %d)", who, e.Source, e.Reason)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrAborted) true.
func (e *AbortError) Is(target error) bool { return target == ErrAborted }

// Unwrap returns the cause of a local abort, or nil.
func (e *AbortError) Unwrap() error { return e.Cause }

// A-ASSOCIATE-RJ results (PS3.8 Table 9-21).
const (
	RejectPermanent byte = 1
	RejectTransient byte = 2
)

// A-ASSOCIATE-RJ sources (PS3.8 Table 9-21).
const (
	RejectSourceUser                 byte = 1 // DICOM UL service-user
	RejectSourceProviderACSE         byte = 2 // service-provider (ACSE related function)
	RejectSourceProviderPresentation byte = 3 // service-provider (presentation related function)
)

// A-ASSOCIATE-RJ reasons (PS3.8 Table 9-21); their meaning depends on the source.
const (
	RejectNoReason            byte = 1 // source 1
	RejectApplicationContext  byte = 2 // source 1
	RejectCallingAE           byte = 3 // source 1
	RejectCalledAE            byte = 7 // source 1
	RejectACSENoReason        byte = 1 // source 2
	RejectProtocolVersion     byte = 2 // source 2
	RejectTemporaryCongestion byte = 1 // source 3
	RejectLocalLimitExceeded  byte = 2 // source 3
)

// RejectError reports an A-ASSOCIATE-RJ with its Result, Source and Reason
// (PS3.8 Table 9-21). errors.Is(err, ErrRejected) is true.
type RejectError struct {
	Result, Source, Reason byte
}

// Error implements error.
func (e *RejectError) Error() string {
	return fmt.Sprintf("ul: association rejected (result %d, source %d, reason %d: %s)", e.Result, e.Source, e.Reason, rejectText(e.Source, e.Reason))
}

// Is makes errors.Is(err, ErrRejected) true, and ErrUnknownCalledAE or
// ErrUnknownCallingAE for the matching reasons.
func (e *RejectError) Is(target error) bool {
	switch target {
	case ErrRejected:
		return true
	case ErrUnknownCalledAE:
		return e.Source == RejectSourceUser && e.Reason == RejectCalledAE
	case ErrUnknownCallingAE:
		return e.Source == RejectSourceUser && e.Reason == RejectCallingAE
	}
	return false
}

func rejectText(source, reason byte) string {
	switch {
	case source == 1 && reason == 1:
		return "no reason given"
	case source == 1 && reason == 2:
		return "application context name not supported"
	case source == 1 && reason == 3:
		return "calling ae title not recognized"
	case source == 1 && reason == 7:
		return "called ae title not recognized"
	case source == 2 && reason == 1:
		return "no reason given"
	case source == 2 && reason == 2:
		return "protocol version not supported"
	case source == 3 && reason == 1:
		return "temporary congestion"
	case source == 3 && reason == 2:
		return "local limit exceeded"
	}
	return "reserved"
}

// PDUError reports a PDU that cannot be decoded: Offset is the byte offset
// of the problem from the start of the PDU, Reason the A-ABORT reason this
// side answers with (1 unrecognized PDU, 4 unrecognized parameter, 6 invalid
// parameter value). errors.Is(err, ErrMalformedPDU) is true.
type PDUError struct {
	Type   PDUType
	Offset int
	Reason byte
	Msg    string
}

// Error implements error.
func (e *PDUError) Error() string {
	return fmt.Sprintf("ul: malformed %s at offset %d: %s", e.Type, e.Offset, e.Msg)
}

// Is makes errors.Is(err, ErrMalformedPDU) true.
func (e *PDUError) Is(target error) bool { return target == ErrMalformedPDU }
