package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// defaultHostQueryLimit bounds a plugin's QueryIndex without a limit.
const defaultHostQueryLimit = 10000

// hostServices is what the archive offers its plugins: reading stored
// instances, querying the index and logging. Plugins start before the
// archive is open (a storage backend may be one of them), so the archive
// is bound once it is; until then reads and queries fail as unavailable.
type hostServices struct {
	log     hclog.Logger
	archive atomic.Pointer[archiveStore]
}

var _ sdk.HostServices = (*hostServices)(nil)

// bind makes s's archive the one plugins read and query.
func (h *hostServices) bind(s *archiveStore) { h.archive.Store(s) }

// open returns the bound archive.
func (h *hostServices) open() (*archiveStore, error) {
	s := h.archive.Load()
	if s == nil {
		return nil, fmt.Errorf("%w: the archive is not open yet", sdk.ErrUnavailable)
	}
	return s, nil
}

// ReadInstance opens the stored object of an instance.
func (h *hostServices) ReadInstance(ctx context.Context, sopInstanceUID string) (io.ReadCloser, error) {
	s, err := h.open()
	if err != nil {
		return nil, err
	}
	info, err := s.index.Instance(ctx, sopInstanceUID)
	if errors.Is(err, index.ErrNotFound) {
		return nil, fmt.Errorf("instance %s: %w", sopInstanceUID, sdk.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if info.Backend != s.backend.ID() {
		return nil, fmt.Errorf("instance %s is on storage %q, which is not open: %w", sopInstanceUID, info.Backend, sdk.ErrUnavailable)
	}
	r, err := s.backend.Get(ctx, info.Key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("instance %s: object missing: %w", sopInstanceUID, sdk.ErrNotFound)
	}
	return r, err
}

// QueryIndex runs a relational C-FIND-style query of the index.
func (h *hostServices) QueryIndex(ctx context.Context, level string, keys *dicom.Dataset, limit int) ([]*dicom.Dataset, error) {
	s, err := h.open()
	if err != nil {
		return nil, err
	}
	l, ok := index.ParseLevel(level)
	if !ok {
		return nil, fmt.Errorf("query level %q is not PATIENT, STUDY, SERIES or IMAGE", level)
	}
	if limit <= 0 || limit > defaultHostQueryLimit {
		limit = defaultHostQueryLimit
	}
	if keys == nil {
		keys = dicom.NewDataset(0)
	}
	root := index.StudyRoot
	if l == index.Patient {
		root = index.PatientRoot
	}
	var out []*dicom.Dataset
	for ds, err := range s.index.Find(ctx, index.Query{Level: l, Root: root, Keys: keys, Limit: limit, Relational: true}) {
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}

// Log writes a plugin's line to the archive's log.
func (h *hostServices) Log(_ context.Context, level, message string, fields map[string]string) error {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	args := make([]any, 0, 2*len(names))
	for _, k := range names {
		args = append(args, k, fields[k])
	}
	lv := hclog.LevelFromString(level)
	if lv == hclog.NoLevel {
		lv = hclog.Info
	}
	h.log.Log(lv, message, args...)
	return nil
}
