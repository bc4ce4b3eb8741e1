package archive

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/sdk"
)

// Limits of the SOP handler chain.
const (
	// DefaultHandlerTimeout bounds one handler's call when Handler.Timeout
	// is zero.
	DefaultHandlerTimeout = 10 * time.Second
	// HeaderBulkThreshold is the largest value sent in the HeaderOnly mode
	// (sdk.Header): longer ones (waveforms, overlays, ...) stay in the
	// spool and are left out, as Pixel Data is.
	HeaderBulkThreshold = sdk.HeaderThreshold
	// MaxErrorComment is the longest Error Comment (0000,0902) sent: its
	// VR is LO.
	MaxErrorComment = sdk.MaxCommentLength
)

// OnError is what the chain does when a handler fails (an error, a
// timeout, a crashed plugin) rather than deciding.
type OnError uint8

// The OnError policies.
const (
	// RejectOnError refuses the instance with 0110 (processing failure).
	RejectOnError OnError = iota
	// AcceptOnError logs the failure and goes on with the next handler, as
	// if this one had accepted.
	AcceptOnError
)

// Handler is a link of the SOP handler chain: a SOP handler (in process or
// a plugin's) with the instances it sees and what of them.
type Handler struct {
	// Name identifies the handler in logs and error comments (the
	// sop_handler block label).
	Name string
	// Handler decides.
	Handler sdk.SOPHandler
	// Spec says which SOP classes it handles (empty: all) and what of each
	// instance it receives.
	Spec sdk.SOPHandlerSpec
	// SpecFunc, when set, is asked at each instance for what the handler
	// itself declares (a plugin's declaration, known once it runs): its
	// Mode and Attributes replace Spec's, and an instance must be of a SOP
	// class of both lists (an empty list allows every one).
	SpecFunc func() sdk.SOPHandlerSpec
	// Timeout bounds one call; 0 means DefaultHandlerTimeout.
	Timeout time.Duration
	// OnError is what a failure of the handler does.
	OnError OnError
}

// RejectedError is returned by Ingest when a SOP handler refused the
// instance: the service edge answers Status with Comment and Offending.
type RejectedError struct {
	Handler   string
	Status    uint16
	Comment   string
	Offending []dicom.Tag
}

// Error names the handler and the status.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("archive: rejected by SOP handler %s with status %04X: %s", e.Handler, e.Status, e.Comment)
}

// ErrHandlerFailed: a SOP handler failed (error, timeout, unavailable
// plugin) and its policy is RejectOnError (C-STORE 0110).
var ErrHandlerFailed = errors.New("archive: SOP handler failed")

// Outcome is what Ingest did besides storing.
type Outcome struct {
	// Coerced lists the attributes SOP handlers changed (top-level tags,
	// sorted): the instance was stored with them changed (C-STORE B000,
	// coercion of data elements).
	Coerced []dicom.Tag
	// Kept reports that the instance was stored before and the duplicate
	// policy kept the stored one.
	Kept bool
}

// rejectStatus keeps a handler's status when it is a C-STORE failure a
// handler may choose (A7xx out of resources, A9xx data set does not match,
// Cxxx cannot understand), else 0110 (processing failure).
func rejectStatus(code uint16) uint16 {
	switch {
	case code&0xFF00 == 0xA700, code&0xFF00 == 0xA900, code&0xF000 == 0xC000:
		return code
	}
	return 0x0110
}

// chainState is the instance as the handlers see it along the chain.
type chainState struct {
	a     *Archive
	req   StoreRequest
	spool string
	// file is the spooled file read with bulk values left in the spool
	// (nil until a handler needs it); full is it read whole, for the Full
	// mode, and dropped after a modification.
	file *part10.File
	full *dicom.Dataset
	// modified is set once a handler changed the data set: file is then
	// the data set to store.
	modified bool
	coerced  map[dicom.Tag]bool
}

// runHandlers calls the SOP handlers bound to the instance's SOP class in
// order. It returns the name of a new spool file when handlers modified the
// instance ("" when not), and the attributes they changed.
func (a *Archive) runHandlers(ctx context.Context, req StoreRequest, spool string) (string, []dicom.Tag, error) {
	st := &chainState{a: a, req: req, spool: spool, coerced: map[dicom.Tag]bool{}}
	for i := range a.opt.Handlers {
		h := &a.opt.Handlers[i]
		spec := h.Spec
		if h.SpecFunc != nil {
			own := h.SpecFunc()
			if len(own.SOPClasses) != 0 && !slices.Contains(own.SOPClasses, req.SOPClassUID) {
				continue
			}
			spec.Mode, spec.Attributes = own.Mode, own.Attributes
		}
		if len(spec.SOPClasses) != 0 && !slices.Contains(spec.SOPClasses, req.SOPClassUID) {
			continue
		}
		if err := st.call(ctx, h, spec); err != nil {
			return "", nil, err
		}
	}
	if !st.modified {
		return "", nil, nil
	}
	name, err := st.write()
	if err != nil {
		return "", nil, err
	}
	tags := make([]dicom.Tag, 0, len(st.coerced))
	for t := range st.coerced {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return name, tags, nil
}

// call runs one handler and applies its decision.
func (st *chainState) call(ctx context.Context, h *Handler, spec sdk.SOPHandlerSpec) error {
	ds, err := st.dataset(spec)
	if err != nil {
		return err
	}
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultHandlerTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d, err := h.Handler.Handle(cctx, &sdk.StoreRequest{
		Instance:          h.Name,
		Service:           "C-STORE",
		SOPClassUID:       st.req.SOPClassUID,
		SOPInstanceUID:    st.req.SOPInstanceUID,
		TransferSyntaxUID: st.req.TransferSyntaxUID,
		CallingAE:         st.req.CallingAE,
		CalledAE:          st.req.CalledAE,
		RemoteAddr:        st.req.RemoteAddr,
		AssociationID:     st.req.AssociationID,
		MessageID:         st.req.MessageID,
		MoveOriginatorAE:  st.req.MoveOriginatorAE,
		Dataset:           ds,
	})
	if err == nil && d == nil {
		err = errors.New("no decision")
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if h.OnError == AcceptOnError {
			st.a.log.Warn("SOP handler failed; going on as its policy says", "handler", h.Name, "sop_instance", st.req.SOPInstanceUID, "error", err)
			return nil
		}
		return fmt.Errorf("%w: %s: %w", ErrHandlerFailed, h.Name, err)
	}
	switch d.Action {
	case sdk.ActionAccept:
		return nil
	case sdk.ActionReject:
		comment := d.Comment
		if comment == "" {
			comment = "refused by " + h.Name
		}
		return &RejectedError{Handler: h.Name, Status: rejectStatus(d.Status), Comment: cut(comment, MaxErrorComment), Offending: d.OffendingTags}
	case sdk.ActionModify:
		if err := st.modify(spec, d); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrHandlerFailed, h.Name, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %s: unknown action %d", ErrHandlerFailed, h.Name, d.Action)
}

// load reads the spooled file, bulk values left in the spool, once.
func (st *chainState) load() error {
	if st.file != nil {
		return nil
	}
	f, err := part10.ReadFile(st.spool, part10.WithBulkThreshold(HeaderBulkThreshold))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	st.file = f
	return nil
}

// dataset returns what a handler with spec receives: a copy, so that an
// in-process handler cannot change the instance but by its decision.
func (st *chainState) dataset(spec sdk.SOPHandlerSpec) (*dicom.Dataset, error) {
	switch spec.Mode {
	case sdk.Full:
		if st.full == nil {
			full, err := st.readFull()
			if err != nil {
				return nil, err
			}
			st.full = full
		}
		return st.full.Clone(), nil
	case sdk.Attributes:
		if err := st.load(); err != nil {
			return nil, err
		}
		out := dicom.NewDataset(len(spec.Attributes) + 1)
		out.Codec = st.file.Dataset.Codec
		if e := st.file.Dataset.Get(dicom.SpecificCharacterSet); e != nil {
			out.Put(*e)
		}
		for _, t := range spec.Attributes {
			if e := st.file.Dataset.Get(t); e != nil && e.Bulk == nil {
				out.Put(*e)
			}
		}
		return out.Clone(), nil
	default:
		if err := st.load(); err != nil {
			return nil, err
		}
		return sdk.Header(st.file.Dataset).Clone(), nil
	}
}

// readFull returns the current data set with every value read.
func (st *chainState) readFull() (*dicom.Dataset, error) {
	if !st.modified {
		f, err := part10.ReadFile(st.spool)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return f.Dataset, nil
	}
	// A previous handler changed the data set: write it out and read it
	// back whole.
	name, err := st.write()
	if err != nil {
		return nil, err
	}
	defer os.Remove(name)
	f, err := part10.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return f.Dataset, nil
}

// modify applies a handler's patch or replacement to the instance.
func (st *chainState) modify(spec sdk.SOPHandlerSpec, d *sdk.Decision) error {
	if err := st.load(); err != nil {
		return err
	}
	before := st.file.Dataset.Clone()
	switch {
	case d.Replacement != nil:
		if spec.Mode != sdk.Full {
			return errors.New("a replacement data set needs the Full mode")
		}
		st.file.Dataset = d.Replacement.Clone()
		st.file.Dataset.Codec = d.Replacement.Codec
	case d.Patch != nil:
		if err := ApplyPatch(st.file.Dataset, d.Patch); err != nil {
			return err
		}
	default:
		return nil
	}
	ds := st.file.Dataset
	for _, t := range []dicom.Tag{dicom.SOPClassUID, dicom.SOPInstanceUID} {
		if ds.String(t) != before.String(t) {
			return fmt.Errorf("the handler changed %s, which the archive keeps", t.Keyword())
		}
	}
	if err := validate(ds, st.req); err != nil {
		return err
	}
	for e := range ds.All() {
		if o := before.Get(e.Tag); o == nil || !sameElement(o, e) {
			st.coerced[e.Tag] = true
		}
	}
	for e := range before.All() {
		if !ds.Contains(e.Tag) {
			st.coerced[e.Tag] = true
		}
	}
	st.modified = true
	st.full = nil
	return nil
}

// sameElement reports whether two elements hold the same value (sequences
// compared item by item, bulk references by position).
func sameElement(a, b *dicom.Element) bool {
	if a.VR != b.VR || string(a.Value) != string(b.Value) || len(a.Items) != len(b.Items) {
		return false
	}
	if (a.Bulk == nil) != (b.Bulk == nil) || (a.Bulk != nil && *a.Bulk != *b.Bulk) {
		return false
	}
	for i := range a.Items {
		if a.Items[i].Len() != b.Items[i].Len() {
			return false
		}
		for j := 0; j < a.Items[i].Len(); j++ {
			if !sameElement(a.Items[i].At(j), b.Items[i].At(j)) {
				return false
			}
		}
	}
	return true
}

// write writes the modified instance to a new spool file, bulk values
// copied from the spooled one, and returns its name.
func (st *chainState) write() (name string, err error) {
	src, err := os.Open(st.spool)
	if err != nil {
		return "", fmt.Errorf("open spool file: %w", err)
	}
	defer src.Close()
	f, err := os.CreateTemp(st.a.opt.SpoolDir, "modified-*.dcm")
	if err != nil {
		return "", fmt.Errorf("create spool file: %w", noSpace(err))
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close spool file: %w", noSpace(cerr))
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, spoolBufferSize)
	if err := part10.Write(w, st.file, codec.WithBulkLoader(part10.BulkLoader(src))); err != nil {
		return f.Name(), fmt.Errorf("write modified instance: %w", noSpace(err))
	}
	if err := w.Flush(); err != nil {
		return f.Name(), fmt.Errorf("write modified instance: %w", noSpace(err))
	}
	return f.Name(), nil
}

// ApplyPatch applies a SOP handler's patch to ds: each edit sets the
// attribute at its path (the VR from the edit, else from the dictionary or
// the element it replaces) to its values, encoded in ds's character set,
// or deletes it.
func ApplyPatch(ds *dicom.Dataset, p *sdk.Patch) error {
	for _, e := range p.Edits {
		path, err := dicom.ParsePath(e.Path)
		if err != nil {
			return fmt.Errorf("patch: %w", err)
		}
		if len(path) == 0 {
			return fmt.Errorf("patch: empty path")
		}
		last := path[len(path)-1].Tag
		if last.Group() == 0x0002 || last == dicom.PixelData {
			return fmt.Errorf("patch: %s cannot be edited", e.Path)
		}
		parent := ds
		if len(path) > 1 {
			prefix := path[:len(path)-1].String()
			if parent, err = ds.PathItem(prefix); err != nil {
				return fmt.Errorf("patch: %s: %w", e.Path, err)
			}
		}
		if e.Delete {
			parent.Delete(last)
			continue
		}
		vr := e.VR
		if vr == dicom.NoVR {
			if old := parent.Get(last); old != nil {
				vr = old.VR
			} else if ent, ok := dicom.LookupTag(last); ok && ent.VR != dicom.NoVR {
				vr = ent.VR
			} else {
				return fmt.Errorf("patch: %s: unknown VR", e.Path)
			}
		}
		if vr == dicom.SQ {
			return fmt.Errorf("patch: %s: a sequence cannot be set from text values", e.Path)
		}
		if err := checkValues(vr, e.Values); err != nil {
			return fmt.Errorf("patch: %s: %w", e.Path, err)
		}
		el, err := dicom.NewElement(last, vr, e.Values, ds.Codec)
		if err != nil {
			return fmt.Errorf("patch: %s: %w", e.Path, err)
		}
		parent.Put(el)
	}
	return nil
}

// checkValues validates text values for vr.
func checkValues(vr dicom.VR, values []string) error {
	for _, v := range values {
		if err := dicom.ValidateValue(vr, v); err != nil {
			return err
		}
	}
	return nil
}

// cut shortens s to at most n bytes at a UTF-8 boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
