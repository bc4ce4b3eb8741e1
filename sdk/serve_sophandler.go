package sdk

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/charset"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// MaxCommentLength is the longest Error Comment (0000,0902) a reject
// carries; longer comments are cut.
const MaxCommentLength = 64

// sopHandlerService implements the SopHandler service over the configured
// SOP handler instances.
type sopHandlerService struct {
	pluginv1.UnimplementedSopHandlerServer
	s *server
}

// DecodeDataset decodes a data set sent over the plugin protocol
// (Explicit VR Little Endian, no file meta), text values decoded with its
// Specific Character Set. The values are copies: b may be reused.
func DecodeDataset(b []byte) (*dicom.Dataset, error) {
	return codec.ReadDataset(b, codec.ExplicitVRLittleEndian, codec.WithCopyValues(true),
		codec.WithCharset(func(terms []string) (dicom.TextCodec, error) { return charset.New(terms) }))
}

// EncodeDataset encodes ds for the plugin protocol (Explicit VR Little
// Endian); a nil ds encodes as no bytes.
func EncodeDataset(ds *dicom.Dataset) ([]byte, error) {
	if ds == nil {
		return nil, nil
	}
	return codec.AppendDataset(nil, ds, codec.ExplicitVRLittleEndian)
}

func (hs *sopHandlerService) Handle(ctx context.Context, req *pluginv1.HandleRequest) (*pluginv1.HandleResponse, error) {
	impl, err := hs.s.instance(KindSOPHandler, req.GetInstance())
	if err != nil {
		return nil, err
	}
	ds, err := DecodeDataset(req.GetDataset())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "handle %s: data set: %v", req.GetSopInstanceUid(), err)
	}
	sr := &StoreRequest{
		Instance:          req.GetInstance(),
		Service:           req.GetService(),
		SOPClassUID:       req.GetSopClassUid(),
		SOPInstanceUID:    req.GetSopInstanceUid(),
		TransferSyntaxUID: req.GetTransferSyntaxUid(),
		CallingAE:         req.GetCallingAe(),
		CalledAE:          req.GetCalledAe(),
		RemoteAddr:        req.GetRemoteAddr(),
		AssociationID:     req.GetAssociationId(),
		MessageID:         uint16(req.GetMessageId()),
		MoveOriginatorAE:  req.GetMoveOriginatorAe(),
		Dataset:           ds,
	}
	ctx = hs.s.callContext(ctx, KindSOPHandler, req.GetInstance())
	d, err := impl.(SOPHandler).Handle(ctx, sr)
	if err != nil {
		return nil, statusError(fmt.Errorf("handle %s: %w", req.GetSopInstanceUid(), err))
	}
	return decisionToProto(d)
}

// decisionToProto encodes a handler's decision; nil means accept.
func decisionToProto(d *Decision) (*pluginv1.HandleResponse, error) {
	if d == nil {
		return &pluginv1.HandleResponse{}, nil
	}
	resp := &pluginv1.HandleResponse{Action: pluginv1.Action(d.Action), Status: uint32(d.Status), Comment: d.Comment}
	if len(resp.Comment) > MaxCommentLength {
		resp.Comment = resp.Comment[:MaxCommentLength]
	}
	for _, t := range d.OffendingTags {
		resp.OffendingTags = append(resp.OffendingTags, uint32(t))
	}
	if d.Patch != nil {
		for _, e := range d.Patch.Edits {
			pe := &pluginv1.Edit{Path: e.Path, Values: e.Values, Delete: e.Delete}
			if e.VR != dicom.NoVR {
				pe.Vr = e.VR.String()
			}
			resp.Patch = append(resp.Patch, pe)
		}
	}
	if d.Replacement != nil {
		b, err := EncodeDataset(d.Replacement)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode the replacement data set: %v", err)
		}
		resp.Replacement = b
	}
	return resp, nil
}
