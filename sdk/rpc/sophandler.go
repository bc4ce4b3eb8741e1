package rpc

import (
	"context"
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// HeaderThreshold is the largest value kept by Header: longer values are
// bulk data, left out of what a header-mode SOP handler receives.
const HeaderThreshold = 64 << 10

// SOPHandler returns the plugin's SOP handler instance labelled instance
// as an sdk.SOPHandler. Each Handle is one unary call carrying
// req.Dataset as Explicit VR Little Endian: pass what the handler's
// sdk.SOPHandlerSpec asks for (Header or Select of the instance, or all of
// it in sdk.Full mode).
func (c *Client) SOPHandler(instance string) sdk.SOPHandler {
	return &sopHandler{c: c, instance: instance}
}

type sopHandler struct {
	c        *Client
	instance string
}

var _ sdk.SOPHandler = (*sopHandler)(nil)

func (h *sopHandler) Handle(ctx context.Context, req *sdk.StoreRequest) (*sdk.Decision, error) {
	ds, err := sdk.EncodeDataset(req.Dataset)
	if err != nil {
		return nil, fmt.Errorf("handle %s on %s: encode: %w", req.SOPInstanceUID, h.instance, err)
	}
	resp, err := h.c.sop.Handle(ctx, &pluginv1.HandleRequest{
		Instance:          h.instance,
		Service:           req.Service,
		SopClassUid:       req.SOPClassUID,
		SopInstanceUid:    req.SOPInstanceUID,
		TransferSyntaxUid: req.TransferSyntaxUID,
		CallingAe:         req.CallingAE,
		CalledAe:          req.CalledAE,
		RemoteAddr:        req.RemoteAddr,
		AssociationId:     req.AssociationID,
		MessageId:         uint32(req.MessageID),
		MoveOriginatorAe:  req.MoveOriginatorAE,
		Dataset:           ds,
	}, h.c.callOpts...)
	if err != nil {
		return nil, fmt.Errorf("handle %s on %s: %w", req.SOPInstanceUID, h.instance, h.c.fromStatus(err))
	}
	d := &sdk.Decision{Action: sdk.Action(resp.GetAction()), Status: uint16(resp.GetStatus()), Comment: resp.GetComment()}
	switch d.Action {
	case sdk.ActionAccept, sdk.ActionReject, sdk.ActionModify:
	default:
		return nil, fmt.Errorf("handle %s on %s: unknown action %d", req.SOPInstanceUID, h.instance, resp.GetAction())
	}
	if len(d.Comment) > sdk.MaxCommentLength {
		d.Comment = d.Comment[:sdk.MaxCommentLength]
	}
	for _, t := range resp.GetOffendingTags() {
		d.OffendingTags = append(d.OffendingTags, dicom.Tag(t))
	}
	if len(resp.GetPatch()) > 0 {
		d.Patch = sdk.NewPatch()
		for _, e := range resp.GetPatch() {
			edit := sdk.Edit{Path: e.GetPath(), Values: e.GetValues(), Delete: e.GetDelete()}
			if e.GetVr() != "" {
				vr, ok := dicom.ParseVR(e.GetVr())
				if !ok {
					return nil, fmt.Errorf("handle %s on %s: patch of %s: unknown VR %q", req.SOPInstanceUID, h.instance, e.GetPath(), e.GetVr())
				}
				edit.VR = vr
			}
			d.Patch.Edits = append(d.Patch.Edits, edit)
		}
	}
	if len(resp.GetReplacement()) > 0 {
		ds, err := sdk.DecodeDataset(resp.GetReplacement())
		if err != nil {
			return nil, fmt.Errorf("handle %s on %s: replacement data set: %w", req.SOPInstanceUID, h.instance, err)
		}
		d.Replacement = ds
	}
	return d, nil
}

// Header returns what a header-mode SOP handler receives of ds: its
// elements without Pixel Data (and Float/Double Float Pixel Data) and
// without values longer than HeaderThreshold, in sequence items too. The
// kept elements share their values with ds.
func Header(ds *dicom.Dataset) *dicom.Dataset {
	if ds == nil {
		return nil
	}
	out := dicom.NewDataset(ds.Len())
	out.Codec = ds.Codec
	for e := range ds.All() {
		switch {
		case e.Tag == dicom.PixelData || e.Tag == dicom.FloatPixelData || e.Tag == dicom.DoubleFloatPixelData:
			continue
		case e.Fragments != nil || e.Bulk != nil || len(e.Value) > HeaderThreshold:
			continue
		}
		ne := *e
		if e.Items != nil {
			ne.Items = make([]*dicom.Dataset, len(e.Items))
			for i, it := range e.Items {
				ne.Items[i] = Header(it)
			}
		}
		out.Append(ne)
	}
	return out
}

// Select returns the elements of ds with the given top-level tags, what an
// attributes-mode SOP handler receives (sdk.SOPHandlerSpec.Attributes).
func Select(ds *dicom.Dataset, tags []dicom.Tag) *dicom.Dataset {
	if ds == nil {
		return nil
	}
	out := dicom.NewDataset(len(tags) + 1)
	out.Codec = ds.Codec
	if e := ds.Get(dicom.SpecificCharacterSet); e != nil {
		out.Put(*e)
	}
	for _, t := range tags {
		if e := ds.Get(t); e != nil {
			out.Put(*e)
		}
	}
	return out
}
