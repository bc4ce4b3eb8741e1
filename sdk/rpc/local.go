package rpc

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

var _ sdk.LocalStager = (*storage)(nil)

// StageLocal asks the plugin for a staged file (see sdk.LocalStager). A
// plugin whose storage does not stage local files gives an error matching
// errors.ErrUnsupported.
func (s *storage) StageLocal(ctx context.Context) (string, error) {
	resp, err := s.c.storage.StageLocal(ctx, &pluginv1.StageLocalRequest{Instance: s.instance}, s.c.callOpts...)
	if err != nil {
		return "", fmt.Errorf("stage on %s: %w", s.instance, unsupported(s.c.fromStatus(err)))
	}
	return resp.GetPath(), nil
}

// CommitLocal asks the plugin to commit a staged file under key.
func (s *storage) CommitLocal(ctx context.Context, path, key string) error {
	if _, err := s.c.storage.CommitLocal(ctx, &pluginv1.CommitLocalRequest{Instance: s.instance, Path: path, Key: key}, s.c.callOpts...); err != nil {
		return fmt.Errorf("commit %s on %s: %w", key, s.instance, unsupported(s.c.fromStatus(err)))
	}
	return nil
}

// unsupported marks an Unimplemented status with errors.ErrUnsupported.
func unsupported(err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == codes.Unimplemented {
		return fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
	}
	return err
}
