package dimse

import (
	"io"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/ul"
)

// SetFinalIdentifier sets the identifier sent with the final response of
// the C-GET or C-MOVE, encoded in the request's context's transfer syntax:
// the Failed SOP Instance UID List (0008,0058) that PS3.4 C.4.2.1.3.1 and
// C.4.3.1.3.1 require with a Cancel, Warning or Failure status when some
// sub-operations failed. nil (the default) sends no identifier. Call it
// from the handler, before it returns; it is not safe for concurrent use
// with the handler's other calls on w.
func (w *SubOpWriter) SetFinalIdentifier(ds *dicom.Dataset) { w.final = ds }

// finalData returns the encoded final identifier, or nil when none was set.
func (w *SubOpWriter) finalData() io.Reader {
	if w.final == nil {
		return nil
	}
	return encodeReader(w.final, w.op.Context)
}

// Contexts returns the presentation contexts of the association the request
// came on, accepted and rejected, with the roles negotiated: a C-GET
// handler picks there the contexts on which the requestor accepted the SCP
// role (ul.PresentationContext.SCPRole) for its sub-operations.
func (w *SubOpWriter) Contexts() []ul.PresentationContext { return w.op.e.c.Contexts() }
