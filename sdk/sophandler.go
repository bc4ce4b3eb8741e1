package sdk

import (
	"context"

	"github.com/pacsforge/pacs/core/dicom"
)

// DataMode is what a SOP handler receives of each instance.
type DataMode int

// The data modes: the header (the default) is cheap to send; the whole
// object costs its size at every call.
const (
	// HeaderOnly: the data set without bulk data (Pixel Data and other
	// values larger than 64 KiB are left out).
	HeaderOnly DataMode = iota
	// Attributes: only the attributes named in SOPHandlerSpec.Attributes.
	Attributes
	// Full: the complete data set, pixel data included.
	Full
)

// SOPHandlerSpec declares a SOP handler: which instances it sees and what
// of them.
type SOPHandlerSpec struct {
	// SOPClasses are the SOP Class UIDs handled; empty means every one.
	SOPClasses []string
	// Mode is what Handle receives in StoreRequest.Dataset.
	Mode DataMode
	// Attributes are the tags sent in the Attributes mode.
	Attributes []dicom.Tag
}

// StoreRequest is one instance received by the archive, before it is
// stored, with where it came from.
type StoreRequest struct {
	// Instance is the configured instance (sop_handler block label).
	Instance string
	// Service is the DIMSE service that brought it ("C-STORE").
	Service           string
	SOPClassUID       string
	SOPInstanceUID    string
	TransferSyntaxUID string
	CallingAE         string
	CalledAE          string
	RemoteAddr        string
	AssociationID     uint64
	MessageID         uint16
	// MoveOriginatorAE is set for the C-STORE sub-operations of a C-MOVE.
	MoveOriginatorAE string
	// Dataset is the instance as the handler's DataMode says, text decoded
	// to UTF-8.
	Dataset *dicom.Dataset
}

// Action is what a SOP handler decides for an instance.
type Action int

// The actions.
const (
	// ActionAccept: store the instance as it is.
	ActionAccept Action = iota
	// ActionReject: do not store it; answer Decision.Status.
	ActionReject
	// ActionModify: store it with Decision.Patch applied (or, in the Full
	// mode, replaced by Decision.Replacement).
	ActionModify
)

// Decision is a SOP handler's answer.
type Decision struct {
	Action Action
	// Status is the DIMSE status of a reject: a failure code valid for
	// C-STORE (A7xx, A9xx, Cxxx), else the host answers 0110.
	Status uint16
	// Comment is the Error Comment sent with a Reject (at most 64
	// characters; longer ones are cut).
	Comment string
	// OffendingTags are sent as Offending Element with a Reject.
	OffendingTags []dicom.Tag
	// Patch is applied by the host for ActionModify.
	Patch *Patch
	// Replacement replaces the whole data set for ActionModify (Full mode
	// only).
	Replacement *dicom.Dataset
}

// Accept accepts the instance unchanged.
func Accept() *Decision { return &Decision{Action: ActionAccept} }

// Reject refuses the instance with a DIMSE status and a comment.
func Reject(status uint16, comment string) *Decision {
	return &Decision{Action: ActionReject, Status: status, Comment: comment}
}

// Modify stores the instance with p applied.
func Modify(p *Patch) *Decision { return &Decision{Action: ActionModify, Patch: p} }

// Patch is a list of attribute edits, applied in order.
type Patch struct {
	Edits []Edit
}

// Edit sets (Delete false) or deletes one attribute. Path is a tag path
// as core/dicom's Path understands it (keywords or (gggg,eeee), sequence
// items as Keyword[i].Keyword); VR may be zero to use the dictionary's.
type Edit struct {
	Path   string
	VR     dicom.VR
	Values []string
	Delete bool
}

// NewPatch returns an empty patch.
func NewPatch() *Patch { return &Patch{} }

// Set sets the attribute at path to values (text form, as in DICOM JSON's
// string values; numbers as decimal strings).
func (p *Patch) Set(path string, values ...string) *Patch {
	p.Edits = append(p.Edits, Edit{Path: path, Values: values})
	return p
}

// Delete removes the attribute at path.
func (p *Patch) Delete(path string) *Patch {
	p.Edits = append(p.Edits, Edit{Path: path, Delete: true})
	return p
}

// SOPHandler inspects, rejects or modifies instances before they are
// stored. Handle is called concurrently.
type SOPHandler interface {
	Handle(ctx context.Context, req *StoreRequest) (*Decision, error)
}

// SOPHandlerFactory returns the SOPHandler of one configured instance (a
// sop_handler block) with its decoded config.
type SOPHandlerFactory[C any] func(ctx context.Context, instance string, cfg *C) (SOPHandler, error)
