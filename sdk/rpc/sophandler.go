package rpc

import (
	"context"
	"fmt"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// SOPHandler returns the plugin's SOP handler instance labelled instance
// as an sdk.SOPHandler. Each Handle is one unary call carrying
// req.Dataset as Explicit VR Little Endian: pass what the handler's
// sdk.SOPHandlerSpec asks for (sdk.Header or sdk.Select of the instance,
// or all of it in sdk.Full mode).
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
