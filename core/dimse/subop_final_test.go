package dimse

import (
	"context"
	"io"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/ul"
)

// TestSubOpFinalIdentifier: the identifier set by a C-MOVE handler (the
// Failed SOP Instance UID List) travels with the final response only,
// encoded in the context's syntax.
func TestSubOpFinalIdentifier(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCMove(AnySOPClass, func(ctx context.Context, op *Op, rq *CMoveRequest, id *dicom.Dataset, w *SubOpWriter) (Status, SubOperations) {
		if err := w.Pending(ctx, SubOperations{Remaining: 1, Failed: 1, HasRemaining: true}); err != nil {
			t.Errorf("Pending() error = %v", err)
		}
		final := &dicom.Dataset{}
		final.SetString(dicom.FailedSOPInstanceUIDList, "1.2.3", "1.2.4")
		w.SetFinalIdentifier(final)
		return Status{Code: CodeSubOperationsWarning}, SubOperations{Completed: 1, Failed: 2}
	})
	h := start(t, 1, 1, mux, nil)
	var ids []*dicom.Dataset
	pc, _ := h.rq.FindContext(uid.StudyRootQueryRetrieveInformationModelMove)
	rsp, err := h.client.Do(context.Background(), &CMoveRequest{AffectedSOPClassUID: uid.StudyRootQueryRetrieveInformationModelMove, MoveDestination: "DEST"},
		dicom.NewDataset(0), func(r io.Reader) error {
			ds, err := ReadDataset(r, ul.PresentationContext{TransferSyntax: pc.TransferSyntax}, MaxIdentifierLength)
			ids = append(ids, ds)
			return err
		})
	if err != nil {
		t.Fatalf("Do() error = %v", err)
	}
	if st := rsp.Result(); st.Code != CodeSubOperationsWarning || rsp.(*CMoveResponse).Failed != 2 {
		t.Errorf("final response %v, %+v", st, rsp.(*CMoveResponse).SubOperations)
	}
	if len(ids) != 1 {
		t.Fatalf("%d identifiers received, want 1 (the final one)", len(ids))
	}
	if got := ids[0].Strings(dicom.FailedSOPInstanceUIDList); len(got) != 2 || got[0] != "1.2.3" || got[1] != "1.2.4" {
		t.Errorf("Failed SOP Instance UID List = %q", got)
	}
	h.close(t)
}

// TestMoveResultFailedList: MoveResult hands back the final response's
// Failed SOP Instance UID List with the status and counts; a warning
// status is not an error.
func TestMoveResultFailedList(t *testing.T) {
	mux := NewMux(nil)
	mux.HandleCMove(AnySOPClass, func(ctx context.Context, op *Op, rq *CMoveRequest, id *dicom.Dataset, w *SubOpWriter) (Status, SubOperations) {
		final := &dicom.Dataset{}
		final.SetString(dicom.FailedSOPInstanceUIDList, "1.2.3", "1.2.4")
		w.SetFinalIdentifier(final)
		return Status{Code: CodeSubOperationsWarning}, SubOperations{Completed: 1, Failed: 2}
	})
	h := start(t, 1, 1, mux, nil)
	r, err := h.client.MoveResult(context.Background(), uid.StudyRootQueryRetrieveInformationModelMove, "DEST", dicom.NewDataset(0), nil)
	if err != nil {
		t.Fatalf("MoveResult() error = %v", err)
	}
	if r.Status.Code != CodeSubOperationsWarning || r.SubOperations.Failed != 2 || r.SubOperations.Completed != 1 {
		t.Errorf("MoveResult() = %+v", r)
	}
	if got := r.FailedSOPInstanceUIDs; len(got) != 2 || got[0] != "1.2.3" || got[1] != "1.2.4" {
		t.Errorf("FailedSOPInstanceUIDs = %q", got)
	}
	h.close(t)
}
