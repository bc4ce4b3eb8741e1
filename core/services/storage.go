package services

import (
	"context"
	"errors"
	"io"
	"slices"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/core/ul"
)

// registerStorage installs the Storage SCP: C-STORE of the configured
// Storage SOP classes into the archive.
func registerStorage(mux *dimse.Mux, policy *ul.Policy, o Options) {
	if o.Archive == nil {
		return
	}
	syntaxes := o.StoreSyntaxes
	if len(syntaxes) == 0 {
		syntaxes = DefaultStoreSyntaxes()
	}
	classes := uid.StorageSOPClasses()
	if len(o.SOPClasses) != 0 {
		classes = slices.DeleteFunc(slices.Clone(o.SOPClasses), func(c string) bool { return !uid.IsStorage(c) })
	}
	h := StoreHandler(o.Archive, o.Logger.Named("store"))
	for _, c := range classes {
		policy.Syntaxes[c] = syntaxes
		mux.HandleCStore(c, h)
	}
}

// DefaultStoreSyntaxes returns the transfer syntaxes accepted for storage
// without a configured list, most preferred first: every encapsulated one,
// then the uncompressed ones (Explicit and Implicit VR Little Endian,
// Explicit VR Big Endian, Deflated). Encapsulated syntaxes come first so
// that a peer proposing its compressed syntax and an uncompressed fallback
// in one context sends the object as it has it, and it is stored as
// received, not decompressed by the peer.
func DefaultStoreSyntaxes() []string {
	var ts []string
	for _, info := range uid.All() {
		if s, ok := codec.LookupSyntax(info.UID); ok && s.Encapsulated {
			ts = append(ts, info.UID)
		}
	}
	return append(ts, uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian, uid.DeflatedExplicitVRLittleEndian)
}

// StoreHandler performs C-STORE with the archive. An instance that SOP
// handlers modified is answered B000 (coercion of data elements) with the
// changed attributes as Offending Element.
func StoreHandler(arc *archive.Archive, log hclog.Logger) dimse.StoreHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		req := archive.StoreRequest{
			SOPClassUID:       rq.AffectedSOPClassUID,
			SOPInstanceUID:    rq.AffectedSOPInstanceUID,
			TransferSyntaxUID: op.Context.TransferSyntax,
			CallingAE:         op.CallingAE,
			CalledAE:          op.CalledAE,
			AssociationID:     op.AssociationID,
			MessageID:         op.MessageID,
			MoveOriginatorAE:  rq.MoveOriginatorAETitle,
		}
		if op.RemoteAddr != nil {
			req.RemoteAddr = op.RemoteAddr.String()
		}
		out, err := arc.Ingest(ctx, req, data)
		st := StoreStatus(err)
		if err != nil {
			log.Warn("store failed", "calling_ae", op.CallingAE, "sop_class", rq.AffectedSOPClassUID, "status", st, "error", err)
			return st
		}
		if len(out.Coerced) != 0 {
			return dimse.Status{Code: dimse.CodeSubOperationsWarning, ErrorComment: "attributes coerced by the archive", OffendingElement: out.Coerced}
		}
		return st
	}
}

// StoreStatus maps an ingest error to a C-STORE status (PS3.4 Table B.2-1,
// PS3.7 Annex C). The comments name the condition only: no patient data.
func StoreStatus(err error) dimse.Status {
	var se *dimse.StatusError
	var rej *archive.RejectedError
	switch {
	case err == nil:
		return dimse.StatusSuccess
	case errors.As(err, &se):
		return se.Status
	case errors.As(err, &rej):
		return dimse.Status{Code: rej.Status, ErrorComment: rej.Comment, OffendingElement: rej.Offending}
	case errors.Is(err, archive.ErrHandlerFailed):
		return dimse.StatusProcessingFailure.WithComment("SOP handler failed") // 0110
	case errors.Is(err, storage.ErrInsufficientSpace):
		return dimse.StatusOutOfResources.WithComment("out of storage space") // A700
	case errors.Is(err, storage.ErrUnavailable):
		var ue *storage.UnavailableError
		if errors.As(err, &ue) && ue.Backend != "" {
			return dimse.StatusOutOfResources.WithComment("storage backend " + ue.Backend + " unavailable") // A700
		}
		return dimse.StatusOutOfResources.WithComment("storage backend unavailable") // A700
	case errors.Is(err, archive.ErrSOPClassMismatch):
		return dimse.StatusDataSetDoesNotMatchSOPClass.WithComment("SOP Class UID differs from the command") // A900
	case errors.Is(err, archive.ErrSOPInstanceMismatch):
		return dimse.StatusDataSetDoesNotMatchSOPClass.WithComment("SOP Instance UID differs from the command") // A900
	case errors.Is(err, archive.ErrMalformed):
		return dimse.StatusCannotUnderstand.WithComment("malformed data set or invalid UID") // C000
	case errors.Is(err, archive.ErrDuplicate):
		return dimse.Status{Code: dimse.CodeDuplicateSOPInstance, ErrorComment: "SOP instance already stored"} // 0111
	default:
		return dimse.StatusProcessingFailure // 0110
	}
}
