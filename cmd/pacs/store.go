package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/plugin"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/sdk"
)

// The places of the archive's files under the data directory.
const (
	indexFileName = "index.db"
	spoolDirName  = "spool"
)

// archiveStore is the opened archive: its index, storage and ingest.
type archiveStore struct {
	index *index.Index
	// backend is the first storage tier; storage is the same when it is
	// the filesystem in process, else nil.
	backend storage.Backend
	storage *storage.FS
	archive *archive.Archive
	// plugins runs the plugin processes (nil when none is configured).
	plugins *plugin.Manager
}

// Close releases the archive, closes the index and stops the plugins.
func (s *archiveStore) Close() error {
	err := errors.Join(s.archive.Close(), s.index.Close())
	if s.plugins != nil {
		err = errors.Join(err, s.plugins.Close())
	}
	return err
}

// openArchive opens the index, storage and ingest of cfg.
func openArchive(ctx context.Context, cfg *config.Config, log hclog.Logger) (_ *archiveStore, err error) {
	// The index and spool live in the data directory whatever the storage
	// backend is.
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	plugins, err := newPluginManager(cfg, log)
	if err != nil {
		return nil, err
	}
	if plugins != nil {
		defer func() {
			if err != nil {
				plugins.Close()
			}
		}()
		if err = plugins.Start(ctx); err != nil {
			printPluginError(err, nil)
			return nil, err
		}
	}
	st, layout, err := openBackend(cfg, plugins)
	if err != nil {
		return nil, err
	}
	dup, err := duplicatePolicy(cfg.DICOM.DuplicatePolicy)
	if err != nil {
		return nil, err
	}
	handlers, err := sopHandlers(cfg, plugins)
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
		Handlers:  handlers,
	})
	if err != nil {
		ix.Close()
		return nil, err
	}
	fs, _ := st.(*storage.FS)
	s := &archiveStore{index: ix, backend: st, storage: fs, archive: arc, plugins: plugins}
	if plugins != nil {
		if h, ok := plugins.Host().(*hostServices); ok {
			h.bind(s)
		}
	}
	return s, nil
}

// sopHandlers builds the SOP handler chain of the sop_handler blocks, in
// their order, over the plugins serving them.
func sopHandlers(cfg *config.Config, plugins *plugin.Manager) ([]archive.Handler, error) {
	var hs []archive.Handler
	for _, b := range cfg.SOPHandlers {
		if plugins == nil {
			return nil, fmt.Errorf("sop_handler %q: plugin %q is not running", b.Name, b.Plugin)
		}
		h, spec, err := plugins.SOPHandler(b.Name)
		if err != nil {
			return nil, fmt.Errorf("sop_handler %q: %w", b.Name, err)
		}
		onError := archive.RejectOnError
		if b.OnError == config.OnErrorAccept {
			onError = archive.AcceptOnError
		}
		hs = append(hs, archive.Handler{
			Name:     b.Name,
			Handler:  h,
			Spec:     sdk.SOPHandlerSpec{SOPClasses: b.SOPClassUIDs()},
			SpecFunc: spec,
			Timeout:  b.CallTimeout(),
			OnError:  onError,
		})
	}
	return hs, nil
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
