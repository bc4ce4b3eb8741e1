package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// The places of the archive's files under the data directory.
const (
	indexFileName = "index.db"
	spoolDirName  = "spool"
)

// archiveStore is the opened archive: its index, storage and ingest.
type archiveStore struct {
	index   *index.Index
	storage *storage.FS
	archive *archive.Archive
}

// Close releases the archive and closes the index.
func (s *archiveStore) Close() error {
	return errors.Join(s.archive.Close(), s.index.Close())
}

// openStorage returns the first storage tier of cfg, which must be an "fs"
// backend, and its layout.
func openStorage(cfg *config.Config) (*storage.FS, storage.Layout, error) {
	tier := cfg.Storage[0]
	if tier.Backend != config.BackendFS {
		return nil, 0, fmt.Errorf("storage %q: backend %q is not available; only %q is built in", tier.Name, tier.Backend, config.BackendFS)
	}
	fsc := tier.FS
	if fsc == nil {
		fsc = &config.FSConfig{}
	}
	layout, err := storage.ParseLayout(fsc.Layout)
	if err != nil {
		return nil, 0, err
	}
	st, err := storage.NewFS(tier.Name, fsc.RootDir(cfg.DataDir))
	return st, layout, err
}

// openArchive opens the index, storage and ingest of cfg.
func openArchive(ctx context.Context, cfg *config.Config, log hclog.Logger) (*archiveStore, error) {
	st, layout, err := openStorage(cfg)
	if err != nil {
		return nil, err
	}
	dup, err := duplicatePolicy(cfg.DICOM.DuplicatePolicy)
	if err != nil {
		return nil, err
	}
	ix, err := index.Open(ctx, filepath.Join(cfg.DataDir, indexFileName), index.Options{})
	if err != nil {
		return nil, err
	}
	arc, err := archive.New(archive.Options{
		Index:     ix,
		Storage:   st,
		Layout:    layout,
		Duplicate: dup,
		SpoolDir:  filepath.Join(cfg.DataDir, spoolDirName),
		Logger:    log.Named("archive"),
	})
	if err != nil {
		ix.Close()
		return nil, err
	}
	return &archiveStore{index: ix, storage: st, archive: arc}, nil
}

// duplicatePolicy maps dicom.duplicate_policy to the index's policy.
func duplicatePolicy(s string) (index.DuplicatePolicy, error) {
	switch s {
	case config.DuplicateKeep, "":
		return index.DuplicateKeep, nil
	case config.DuplicateReject:
		return index.DuplicateReject, nil
	case config.DuplicateOverwrite:
		return index.DuplicateOverwrite, nil
	}
	return 0, fmt.Errorf("unknown duplicate policy %q", s)
}
