package sdk

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// localStager returns the instance's LocalStager, or an Unimplemented
// status when its Storage is not one.
func (ss *storageService) localStager(ctx context.Context, label string) (context.Context, LocalStager, error) {
	ctx, st, err := ss.storage(ctx, label)
	if err != nil {
		return nil, nil, err
	}
	ls, ok := st.(LocalStager)
	if !ok {
		return nil, nil, status.Error(codes.Unimplemented, "the storage does not stage local files")
	}
	return ctx, ls, nil
}

// StageLocal creates a staged file of an instance whose Storage is a
// LocalStager.
func (ss *storageService) StageLocal(ctx context.Context, req *pluginv1.StageLocalRequest) (_ *pluginv1.StageLocalResponse, err error) {
	defer ss.s.recoverAs("Storage.StageLocal", &err)
	ctx, ls, err := ss.localStager(ctx, req.GetInstance())
	if err != nil {
		return nil, err
	}
	path, err := ls.StageLocal(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	return &pluginv1.StageLocalResponse{Path: path}, nil
}

// CommitLocal commits a staged file under a key.
func (ss *storageService) CommitLocal(ctx context.Context, req *pluginv1.CommitLocalRequest) (_ *pluginv1.CommitLocalResponse, err error) {
	defer ss.s.recoverAs("Storage.CommitLocal", &err)
	ctx, ls, err := ss.localStager(ctx, req.GetInstance())
	if err != nil {
		return nil, err
	}
	if err := CheckKey(req.GetKey()); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := ls.CommitLocal(ctx, req.GetPath(), req.GetKey()); err != nil {
		return nil, statusError(err)
	}
	return &pluginv1.CommitLocalResponse{}, nil
}
