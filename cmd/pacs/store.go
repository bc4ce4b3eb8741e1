package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
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

// Close closes the index.
func (s *archiveStore) Close() error { return s.index.Close() }

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

// defaultStoreSyntaxes returns the transfer syntaxes accepted for storage
// without a configured list, most preferred first: every encapsulated one,
// then the uncompressed ones (Explicit and Implicit VR Little Endian,
// Explicit VR Big Endian, Deflated). Encapsulated syntaxes come first so
// that a peer proposing its compressed syntax and an uncompressed fallback
// in one context sends the object as it has it, and it is stored as
// received, not decompressed by the peer.
func defaultStoreSyntaxes() []string {
	var ts []string
	for _, info := range uid.All() {
		if s, ok := codec.LookupSyntax(info.UID); ok && s.Encapsulated {
			ts = append(ts, info.UID)
		}
	}
	return append(ts, uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian, uid.DeflatedExplicitVRLittleEndian)
}

// storeHandler performs C-STORE with the archive.
func storeHandler(arc *archive.Archive, log hclog.Logger) dimse.StoreHandler {
	return func(ctx context.Context, op *dimse.Op, rq *dimse.CStoreRequest, data io.Reader) dimse.Status {
		err := arc.Store(ctx, archive.StoreRequest{
			SOPClassUID:       rq.AffectedSOPClassUID,
			SOPInstanceUID:    rq.AffectedSOPInstanceUID,
			TransferSyntaxUID: op.Context.TransferSyntax,
			CallingAE:         op.CallingAE,
		}, data)
		st := storeStatus(err)
		if err != nil {
			log.Warn("store failed", "calling_ae", op.CallingAE, "sop_class", rq.AffectedSOPClassUID, "status", st, "error", err)
		}
		return st
	}
}

// storeStatus maps an ingest error to a C-STORE status (PS3.4 Table B.2-1,
// PS3.7 Annex C). The comments name the condition only: no patient data.
func storeStatus(err error) dimse.Status {
	var se *dimse.StatusError
	switch {
	case err == nil:
		return dimse.StatusSuccess
	case errors.As(err, &se):
		return se.Status
	case errors.Is(err, storage.ErrInsufficientSpace):
		return dimse.StatusOutOfResources.WithComment("out of storage space") // A700
	case errors.Is(err, archive.ErrSOPClassMismatch):
		return dimse.StatusDataSetDoesNotMatchSOPClass.WithComment("SOP Class UID differs from the command") // A900
	case errors.Is(err, archive.ErrSOPInstanceMismatch):
		return dimse.StatusDataSetDoesNotMatchSOPClass.WithComment("SOP Instance UID differs from the command") // A900
	case errors.Is(err, archive.ErrMalformed):
		return dimse.StatusCannotUnderstand.WithComment("malformed data set or invalid UID") // C000
	case errors.Is(err, archive.ErrDuplicate):
		return dimse.Status{Code: dimse.CodeDuplicateSOPInstance, ErrorComment: "SOP instance already stored"} // 0111
	default:
		return dimse.StatusProcessingFailure // 0110
	}
}
