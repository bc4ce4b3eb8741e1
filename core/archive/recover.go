package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"

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
//
// A logged intent (Logged set) is also the durable record of an
// acknowledged store whose index row may not be durable yet: it is synced
// with the object and stays open until the index has synced its log. If
// the index lacks the row after a crash, recovery indexes the object again,
// once its size and SHA-256 match. A logged intent that holds the object's
// bytes (Data, see maxJournaled) stands for the object too, left unsynced:
// recovery writes it again if a power loss took it.
type intent struct {
	SOPInstanceUID string   `json:"sop_instance_uid"`
	Backend        string   `json:"backend"`
	Keys           []string `json:"keys"` // the new key, then the replaced one if any

	Logged     bool      `json:"logged,omitempty"`
	Size       int64     `json:"size,omitempty"`
	SHA256     string    `json:"sha256,omitempty"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	Data       []byte    `json:"data,omitempty"`
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
	// Reindexed is the number of stored objects indexed again: stores
	// acknowledged before a power loss took their rows (see intent).
	Reindexed int
	// Restored is the number of objects written again from the journal:
	// small objects of stores acknowledged before a power loss took them
	// (see maxJournaled).
	Restored int
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
		if in.Logged {
			err = a.resolveLogged(ctx, in, &rep)
		} else {
			var n int
			n, err = a.resolveIntent(ctx, in)
			rep.Objects += n
		}
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
	if rep.Restored > 0 {
		a.log.Warn("wrote again from the journal the stored objects a power loss took", "objects", rep.Restored)
	}
	if rep.Reindexed > 0 {
		a.log.Warn("indexed again the stored objects whose rows the index lost", "objects", rep.Reindexed)
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

// resolveLogged resolves a logged intent: when the index lacks the row of
// its object (a power loss took it) and no later store replaced the
// instance, the object is indexed again if it is whole, as the store did;
// otherwise it is resolved as any intent (resolveIntent). An object the
// intent holds (Data) is first written again if it is not whole, unless a
// later store replaced it. What it did is counted in rep.
func (a *Archive) resolveLogged(ctx context.Context, in intent, rep *RecoveryReport) error {
	resolve := func() error {
		n, err := a.resolveIntent(ctx, in)
		rep.Objects += n
		return err
	}
	if in.Backend != a.opt.Storage.ID() || len(in.Keys) == 0 || storage.ValidKey(in.Keys[0]) != nil {
		return resolve()
	}
	key := in.Keys[0]
	info, err := a.opt.Index.Instance(ctx, in.SOPInstanceUID)
	switch {
	case err == nil && info.Backend == in.Backend && info.Key == key:
		// The row is there; an object the store replaced may not have
		// been removed yet.
		if err := a.restoreObject(ctx, in, rep); err != nil {
			return err
		}
		return resolve()
	case err == nil && !info.ReceivedAt.Before(in.ReceivedAt):
		// Replaced by a later store.
		return resolve()
	case err != nil && !errors.Is(err, index.ErrNotFound):
		return fmt.Errorf("recover interrupted store: %w", err)
	}
	if err := a.restoreObject(ctx, in, rep); err != nil {
		return err
	}
	rec, err := a.readRecord(ctx, in)
	if err != nil {
		// Cut off before it was durable: never acknowledged.
		a.log.Warn("object of an interrupted store not indexed again", "key", key, "error", err)
		return resolve()
	}
	res, err := a.opt.Index.Add(ctx, rec)
	switch {
	case errors.Is(err, index.ErrDuplicate) || errors.Is(err, index.ErrInvalidRecord) || err == nil && !res.Stored:
		// Refused or kept by the duplicate policy, as the store was: it
		// was never acknowledged.
		return resolve()
	case err != nil:
		return fmt.Errorf("recover interrupted store: index %s: %w", key, err)
	}
	rep.Reindexed++
	// Now that its object is current, what the store replaced goes, and
	// so does the object the row pointed at before.
	if p := res.Previous; res.Existed && p.Backend == in.Backend && !slices.Contains(in.Keys, p.Key) {
		in.Keys = append(slices.Clip(in.Keys), p.Key)
	}
	if err := resolve(); err != nil {
		return err
	}
	a.log.Info("stored object indexed again", "sop_instance", in.SOPInstanceUID, "key", key)
	return nil
}

// restoreObject writes the object a logged intent holds (Data) under its
// key again, durably, unless the object there is whole already. Bytes that
// are not the ones the intent describes (a journal line damaged on the
// disk) are not written.
func (a *Archive) restoreObject(ctx context.Context, in intent, rep *RecoveryReport) error {
	if in.Data == nil {
		return nil
	}
	key := in.Keys[0]
	if size, sum := hashed(bytes.NewReader(in.Data)); size != in.Size || sum != in.SHA256 {
		a.log.Warn("journaled object damaged, not written again", "key", key, "size", size, "sha256", sum)
		return nil
	}
	if rc, err := a.opt.Storage.Get(ctx, key); err == nil {
		size, sum := hashed(rc)
		rc.Close()
		if size == in.Size && sum == in.SHA256 {
			return nil
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("recover interrupted store: %w", err)
	}
	if _, _, err := a.opt.Storage.Put(ctx, key, bytes.NewReader(in.Data)); err != nil {
		return fmt.Errorf("recover interrupted store: write journaled object: %w", err)
	}
	rep.Restored++
	a.log.Info("stored object written again from the journal", "sop_instance", in.SOPInstanceUID, "key", key)
	return nil
}

// hashed returns the size and SHA-256 of what r reads, up to an error.
func hashed(r io.Reader) (int64, string) {
	h := sha256.New()
	n, _ := io.Copy(h, r)
	return n, hex.EncodeToString(h.Sum(nil))
}

// readRecord reads the object of a logged intent back from storage and
// returns its index record, or an error if it is not the object the
// intent describes (another size or SHA-256, or no DICOM file).
func (a *Archive) readRecord(ctx context.Context, in intent) (index.InstanceRecord, error) {
	key := in.Keys[0]
	rc, err := a.opt.Storage.Get(ctx, key)
	if err != nil {
		return index.InstanceRecord{}, err
	}
	defer rc.Close()
	h := sha256.New()
	cw := &countingWriter{w: h}
	// The header is parsed from what is hashed, the rest hashed after it.
	f, err := part10.Read(io.TeeReader(rc, cw), part10.WithStopAtPixelData())
	if err != nil {
		return index.InstanceRecord{}, err
	}
	if _, err := io.Copy(cw, rc); err != nil {
		return index.InstanceRecord{}, err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); cw.n != in.Size || sum != in.SHA256 {
		return index.InstanceRecord{}, fmt.Errorf("object of %d bytes, SHA-256 %s; the store wrote %d bytes, SHA-256 %s", cw.n, sum, in.Size, in.SHA256)
	}
	if got := f.Dataset.String(dicom.SOPInstanceUID); got != in.SOPInstanceUID {
		return index.InstanceRecord{}, fmt.Errorf("object of another SOP instance, %q", got)
	}
	return index.InstanceRecord{
		Dataset:           f.Dataset,
		Backend:           in.Backend,
		Key:               key,
		Size:              in.Size,
		SHA256:            in.SHA256,
		TransferSyntaxUID: part10.TransferSyntaxUID(f.Meta),
		ReceivedAt:        in.ReceivedAt,
		Duplicate:         a.opt.Duplicate,
	}, nil
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
