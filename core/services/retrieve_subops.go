package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/ul"
)

// PendingInterval is the least time between two pending responses of a
// C-MOVE or C-GET. A pending response (FF00) with the counts follows the
// first sub-operation, then at most one per PendingInterval while
// sub-operations remain; the final response always carries the final
// counts. Progress is thus reported at once, without one response per
// instance for large retrievals.
const PendingInterval = 100 * time.Millisecond

// maxFailedListBytes bounds the encoded Failed SOP Instance UID List: a UI
// value of Explicit VR has a 16-bit length. UIDs beyond it are counted as
// failed but not listed.
const maxFailedListBytes = 0xfffe

// retriever serves C-MOVE and C-GET from the index and storage.
type retriever struct {
	o   Options
	log hclog.Logger
}

// sender performs the sub-operation of one instance and returns its
// status: success, warning or failure (a failure's comment is logged).
type sender func(ctx context.Context, loc index.Location) dimse.Status

// progress counts the sub-operations of one C-MOVE or C-GET.
type progress struct {
	total, completed, failed, warning int
	failedUIDs                        []string
}

func (p *progress) counts() dimse.SubOperations {
	return dimse.SubOperations{
		Remaining: uint16(p.total - p.completed - p.failed - p.warning),
		Completed: uint16(p.completed), Failed: uint16(p.failed), Warning: uint16(p.warning),
		HasRemaining: true,
	}
}

func (p *progress) fail(uids ...string) {
	p.failed += len(uids)
	p.failedUIDs = append(p.failedUIDs, uids...)
}

// run performs the sub-operations of locs with send, reporting progress on
// w, and returns the final status and counts, with the Failed SOP Instance
// UID List set as w's final identifier when some failed (PS3.4 C.4.2.1.3.1,
// C.4.3.1.3.1). It stops between two sub-operations when ctx is cancelled:
// by C-CANCEL (status FE00, Cancel, with the counts and Remaining) or
// because the association ended. A sub-operation in progress is not
// interrupted by C-CANCEL: it runs on a context that C-CANCEL does not
// cancel, so neither association is aborted.
func (r *retriever) run(ctx context.Context, w *dimse.SubOpWriter, locs []index.Location, send sender) (dimse.Status, dimse.SubOperations) {
	p := &progress{total: len(locs)}
	subCtx := context.WithoutCancel(ctx)
	var last time.Time
	for i, loc := range locs {
		if ctx.Err() != nil {
			return r.final(w, p, context.Cause(ctx))
		}
		st := send(subCtx, loc)
		switch st.Category() {
		case dimse.CategorySuccess:
			p.completed++
		case dimse.CategoryWarning:
			p.warning++
		default:
			p.fail(loc.SOPInstanceUID)
		}
		if i+1 < len(locs) && (last.IsZero() || time.Since(last) >= PendingInterval) {
			last = time.Now()
			if err := w.Pending(ctx, p.counts()); err != nil && ctx.Err() == nil {
				r.log.Warn("sending a pending response failed", "error", err)
				return r.final(w, p, err)
			}
		}
	}
	return r.final(w, p, nil)
}

// final returns the final status of a retrieval stopped by stop (nil when
// every sub-operation ran).
func (r *retriever) final(w *dimse.SubOpWriter, p *progress, stop error) (dimse.Status, dimse.SubOperations) {
	n := p.counts()
	if p.failed > 0 {
		w.SetFinalIdentifier(failedList(p.failedUIDs))
	}
	switch {
	case stop != nil && errors.Is(stop, dimse.ErrCancelled):
		return dimse.StatusCancel, n
	case stop != nil:
		// The association ended: nobody reads this response.
		return dimse.StatusProcessingFailure.WithComment("retrieval interrupted"), n
	}
	n.Remaining, n.HasRemaining = 0, false
	switch {
	case p.failed == 0 && p.warning == 0:
		return dimse.StatusSuccess, n
	case p.completed == 0 && p.warning == 0:
		return dimse.Status{Code: dimse.CodeOutOfResourcesSubOps, ErrorComment: fmt.Sprintf("all %d sub-operations failed", p.failed)}, n
	default:
		return dimse.Status{Code: dimse.CodeSubOperationsWarning, ErrorComment: fmt.Sprintf("%d of %d sub-operations failed or warned", p.failed+p.warning, p.total)}, n
	}
}

// failedList returns the identifier holding uids as Failed SOP Instance UID
// List, cut to what a UI value can hold.
func failedList(uids []string) *dicom.Dataset {
	size := 0
	for i, u := range uids {
		size += len(u) + 1
		if size > maxFailedListBytes {
			uids = uids[:i]
			break
		}
	}
	ds := &dicom.Dataset{}
	ds.SetString(dicom.FailedSOPInstanceUIDList, uids...)
	return ds
}

// pickSyntax returns the transfer syntax to send an object stored in
// stored on, among the accepted contexts of its SOP class: stored itself
// when accepted, else the first accepted native syntax it converts to
// (Explicit VR Little Endian preferred), else "".
func pickSyntax(contexts []ul.PresentationContext, sopClass, stored string) string {
	var accepted []string
	for _, pc := range contexts {
		if pc.Accepted() && pc.AbstractSyntax == sopClass {
			if pc.TransferSyntax == stored {
				return stored
			}
			accepted = append(accepted, pc.TransferSyntax)
		}
	}
	for _, ts := range nativePreference {
		if slices.Contains(accepted, ts) && archive.CanTranscode(stored, ts) {
			return ts
		}
	}
	for _, ts := range accepted {
		if archive.CanTranscode(stored, ts) {
			return ts
		}
	}
	return ""
}

// nativePreference orders the native syntaxes an object is converted to.
var nativePreference = []string{codec.ExplicitVRLittleEndian.UID, codec.ImplicitVRLittleEndian.UID}

// storeFunc sends one data set: what Client.Store (C-MOVE) and
// SubOpWriter.Store (C-GET) have in common.
type storeFunc func(ctx context.Context, sopClass, sopInstance, ts string, data io.Reader) (dimse.Status, error)

// sendInstance opens the object of loc, chooses its transfer syntax among
// contexts, and stores it with store. Every failure is a failure status;
// the reason is logged.
func (r *retriever) sendInstance(ctx context.Context, loc index.Location, contexts []ul.PresentationContext, store storeFunc) dimse.Status {
	log := r.log.With("sop_class", loc.SOPClassUID)
	obj, err := archive.Open(ctx, r.o.Storage, loc)
	if err != nil {
		log.Error("stored object unreadable", "key", loc.Key, "error", err)
		return dimse.StatusProcessingFailure
	}
	defer obj.Close()
	ts := pickSyntax(contexts, loc.SOPClassUID, obj.Syntax.UID)
	if ts == "" {
		log.Debug("no accepted context for the stored syntax", "transfer_syntax", obj.Syntax.UID)
		return dimse.StatusSOPClassNotSupported
	}
	data, err := obj.DataSet(ts)
	if err != nil {
		log.Warn("cannot convert the stored object", "error", err)
		return dimse.StatusProcessingFailure
	}
	defer data.Close()
	st, err := store(ctx, loc.SOPClassUID, loc.SOPInstanceUID, ts, data)
	var se *dimse.StatusError
	switch {
	case err == nil:
		return st
	case errors.As(err, &se):
		log.Debug("sub-operation refused", "status", se.Status)
		return se.Status
	default:
		log.Warn("sub-operation failed", "error", err)
		return dimse.StatusProcessingFailure
	}
}
