package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// intentSuffix ends the name of a store's intent file in the spool
// directory, beside its spool file.
const intentSuffix = ".intent"

// maxIntentSize bounds an intent file read at recovery; a larger one is not
// ours and is removed unread.
const maxIntentSize = 64 << 10

// intent is what a store in progress may have left in its storage backend:
// written to the spool directory before the object is put and removed when
// the store returns. After a crash it tells recovery which objects may be
// unreferenced: every key it lists that is not the index's current key for
// the SOP instance.
type intent struct {
	SOPInstanceUID string   `json:"sop_instance_uid"`
	Backend        string   `json:"backend"`
	Keys           []string `json:"keys"` // the new key, then the replaced one if any
}

// RecoveryReport counts what Recover cleaned up.
type RecoveryReport struct {
	// SpoolFiles is the number of files removed from the spool directory:
	// data sets and intents of stores interrupted by a crash, never
	// acknowledged.
	SpoolFiles int
	// Objects is the number of stored objects removed because the index
	// does not reference them: put by an interrupted store before its row
	// was committed, or replaced by a committed store that had not yet
	// removed them, and partial objects of puts cut off before their end.
	Objects int
}

// Recover cleans up after a crash: for each intent left in the spool
// directory it removes the objects the index does not reference, then it
// empties the spool directory. New calls it; it must not run while this or
// another Archive stores into the same spool directory. An error from the
// index leaves the intent in place for the next attempt.
func (a *Archive) Recover(ctx context.Context) (RecoveryReport, error) {
	var rep RecoveryReport
	ents, err := os.ReadDir(a.opt.SpoolDir)
	if err != nil {
		return rep, fmt.Errorf("read spool directory: %w", err)
	}
	// The journal's open intents, then intent files (of an earlier
	// version), then the spool and staged files.
	open, err := readJournal(journalPath(a.opt.SpoolDir))
	if err != nil {
		return rep, err
	}
	for _, in := range open {
		n, err := a.resolveIntent(ctx, in)
		rep.Objects += n
		if err != nil {
			return rep, err
		}
	}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), intentSuffix) {
			continue
		}
		n, err := a.recoverIntent(ctx, filepath.Join(a.opt.SpoolDir, e.Name()))
		rep.Objects += n
		if err != nil {
			return rep, err
		}
		rep.SpoolFiles++
	}
	for _, e := range ents {
		if e.IsDir() || strings.HasSuffix(e.Name(), intentSuffix) {
			continue
		}
		if err := os.Remove(filepath.Join(a.opt.SpoolDir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return rep, fmt.Errorf("remove spool file: %w", err)
		}
		rep.SpoolFiles++
	}
	if sg, ok := a.opt.Storage.(storage.Stager); ok {
		n, err := sg.ClearStaged()
		rep.SpoolFiles += n
		if err != nil {
			return rep, fmt.Errorf("remove staged files: %w", err)
		}
	}
	if rep.SpoolFiles > 0 || rep.Objects > 0 {
		a.log.Info("removed what interrupted stores left", "spool_files", rep.SpoolFiles, "objects", rep.Objects)
	}
	return rep, nil
}

// recoverIntent removes the objects of the intent file name that the index
// does not reference, then the file, and returns how many it removed.
func (a *Archive) recoverIntent(ctx context.Context, name string) (int, error) {
	var in intent
	b, err := os.ReadFile(name)
	if err == nil && len(b) <= maxIntentSize {
		err = json.Unmarshal(b, &in)
	}
	removed := 0
	if err != nil || len(b) > maxIntentSize || in.SOPInstanceUID == "" {
		// Torn by the crash before the store put anything.
		a.log.Warn("unreadable intent file removed", "file", name, "error", err)
	} else if removed, err = a.resolveIntent(ctx, in); err != nil {
		return removed, err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return removed, fmt.Errorf("remove intent file: %w", err)
	}
	return removed, nil
}

// resolveIntent removes the objects of an interrupted store's intent that
// the index does not reference, and returns how many it removed.
func (a *Archive) resolveIntent(ctx context.Context, in intent) (int, error) {
	if in.Backend != a.opt.Storage.ID() {
		a.log.Warn("intent of another storage backend ignored", "sop_instance", in.SOPInstanceUID, "backend", in.Backend)
		return 0, nil
	}
	var current string
	info, err := a.opt.Index.Instance(ctx, in.SOPInstanceUID)
	switch {
	case errors.Is(err, index.ErrNotFound):
	case err != nil:
		return 0, fmt.Errorf("recover interrupted store: %w", err)
	case info.Backend == in.Backend:
		current = info.Key
	}
	removed := 0
	for _, key := range in.Keys {
		if key == current || storage.ValidKey(key) != nil {
			continue
		}
		err := a.opt.Storage.Delete(ctx, key)
		switch {
		case err == nil:
			removed++
			a.log.Debug("unreferenced object removed", "key", key)
		case !errors.Is(err, storage.ErrNotFound):
			return removed, fmt.Errorf("recover interrupted store: %w", err)
		}
	}
	if tr, ok := a.opt.Storage.(storage.TempRemover); ok && len(in.Keys) > 0 && storage.ValidKey(in.Keys[0]) == nil {
		// The put may have been cut off before its rename: its partial
		// object is beside the key, under a temporary name.
		n, err := tr.RemoveTemp(ctx, in.Keys[0])
		removed += n
		if err != nil {
			return removed, fmt.Errorf("recover interrupted store: %w", err)
		}
	}
	return removed, nil
}

// noSpace marks a local file system's "no space" (ENOSPC, EDQUOT) as
// storage.ErrInsufficientSpace, so the spool filling up is answered like
// the storage backend filling up.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %w", storage.ErrInsufficientSpace, err)
	}
	return err
}

// indexFull marks the index database's full disk (index.ErrNoSpace) as
// storage.ErrInsufficientSpace.
func indexFull(err error) error {
	if errors.Is(err, index.ErrNoSpace) {
		return fmt.Errorf("%w: %w", storage.ErrInsufficientSpace, err)
	}
	return err
}
