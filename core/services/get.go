package services

import (
	"context"
	"slices"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// getHandler returns the C-GET SCP of the model root (PS3.4 C.4.3): the
// matched instances are sent with C-STORE on the requestor's own
// association, on the Storage contexts for which it accepted the SCP role.
// An instance of a SOP class without such a context, or stored in a syntax
// none of them accepts (and that cannot be converted to one), is a failed
// sub-operation.
func (r *retriever) getHandler(root index.Root) dimse.GetHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CGetRequest, id *dicom.Dataset, w *dimse.SubOpWriter) (dimse.Status, dimse.SubOperations) {
		locs, st, ok := r.resolve(ctx, root, id)
		if !ok {
			return st, dimse.SubOperations{}
		}
		r.log.Debug("get", "assoc", op.AssociationID, "calling_ae", op.CallingAE, "instances", len(locs))
		contexts := slices.DeleteFunc(w.Contexts(), func(pc ul.PresentationContext) bool { return !pc.Accepted() || !pc.SCPRole })
		return r.run(ctx, w, locs, func(ctx context.Context, loc index.Location) dimse.Status {
			return r.sendInstance(ctx, loc, contexts, w.Store)
		})
	}
}
