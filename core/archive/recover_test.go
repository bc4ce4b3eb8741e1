package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/codec"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// TestRecover: what a crash left in the spool directory is removed when the
// archive is opened again, and so are the objects the index does not
// reference; indexed objects stay.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, index.DuplicateOverwrite)
	req, data := sample(t)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	info, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	put := func(key string) {
		t.Helper()
		if _, _, err := fx.store.Put(ctx, key, strings.NewReader("left by a crash")); err != nil {
			t.Fatal(err)
		}
	}
	spool := filepath.Join(fx.dir, "spool")
	writeIntent := func(name string, in intent) {
		t.Helper()
		b, _ := json.Marshal(in)
		if err := os.WriteFile(filepath.Join(spool, name+intentSuffix), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(spool, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A store of a new instance put its object but did not commit its row.
	put("1/2/3.dcm")
	writeIntent("store-1.dcm", intent{SOPInstanceUID: "1.2.3", Backend: fx.store.ID(), Keys: []string{"1/2/3.dcm"}})
	// A replacing store committed its row but did not remove the object it
	// replaced.
	put("old/replaced.dcm")
	writeIntent("store-2.dcm", intent{SOPInstanceUID: req.SOPInstanceUID, Backend: fx.store.ID(), Keys: []string{info.Key, "old/replaced.dcm"}})
	// A replacing store put its object but did not commit: the indexed
	// object stays.
	put("new/not-committed.dcm")
	writeIntent("store-3.dcm", intent{SOPInstanceUID: req.SOPInstanceUID, Backend: fx.store.ID(), Keys: []string{"new/not-committed.dcm", info.Key}})
	// Torn intent, plain spool files, an intent of another backend.
	os.WriteFile(filepath.Join(spool, "store-4.dcm"+intentSuffix), []byte(`{"sop_inst`), 0o644)
	os.WriteFile(filepath.Join(spool, "store-5.dcm"), data[:100], 0o644)
	put("other/backend.dcm")
	writeIntent("store-6.dcm", intent{SOPInstanceUID: "1.2.4", Backend: "elsewhere", Keys: []string{"other/backend.dcm"}})

	fx.arc.Close() // the crashed process's lock is gone
	var logs bytes.Buffer
	a, err := New(Options{Index: fx.ix, Storage: fx.store, SpoolDir: spool,
		Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
	if err != nil {
		t.Fatalf("New() after a crash: %v", err)
	}
	if ents, _ := os.ReadDir(spool); len(ents) != 0 {
		t.Errorf("spool holds %d files after recovery", len(ents))
	}
	got := fx.objects(t)
	want := []string{info.Key, "other/backend.dcm"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("objects after recovery = %q, want %q", got, want)
	}
	if want := "spool_files=10 objects=3"; !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
	// Nothing left: a second recovery finds nothing and logs nothing.
	logs.Reset()
	rep, err := a.Recover(ctx)
	if err != nil || rep != (RecoveryReport{}) || logs.Len() != 0 {
		t.Errorf("second Recover() = %+v, %v (log %q), want nothing done", rep, err, logs.String())
	}
}

// TestRecoverIndexError: when the index cannot say which object is
// current, recovery removes nothing and New fails.
func TestRecoverIndexError(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	spool := filepath.Join(fx.dir, "spool")
	b, _ := json.Marshal(intent{SOPInstanceUID: "1.2.3", Backend: fx.store.ID(), Keys: []string{"1/2/3.dcm"}})
	os.WriteFile(filepath.Join(spool, "store-1.dcm"+intentSuffix), b, 0o644)
	if _, _, err := fx.store.Put(context.Background(), "1/2/3.dcm", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	fx.ix.Close()
	fx.arc.Close()
	if _, err := New(Options{Index: fx.ix, Storage: fx.store, SpoolDir: spool}); err == nil || errors.Is(err, ErrLocked) {
		t.Fatal("New() with a closed index and an intent to resolve succeeded")
	}
	if got := fx.objects(t); len(got) != 1 {
		t.Errorf("objects = %q, want the one the intent names kept", got)
	}
}

func TestSpaceErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		mapErr func(error) error
		want   bool
	}{
		{name: "spool ENOSPC", err: &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, mapErr: noSpace, want: true},
		{name: "spool EDQUOT", err: syscall.EDQUOT, mapErr: noSpace, want: true},
		{name: "spool other", err: syscall.EIO, mapErr: noSpace},
		{name: "index full", err: fmt.Errorf("commit: %w", index.ErrNoSpace), mapErr: indexFull, want: true},
		{name: "index plain", err: errors.New("x"), mapErr: indexFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.mapErr(tc.err)
			if errors.Is(got, storage.ErrInsufficientSpace) != tc.want {
				t.Errorf("mapped %v to %v; ErrInsufficientSpace want %v", tc.err, got, tc.want)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("mapped error %v lost %v", got, tc.err)
			}
		})
	}
}

// TestStoreLeavesNoIntent: a store's intent file is gone when it returns.
func TestStoreLeavesNoIntent(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	req, data := sample(t)
	for range 2 { // the second replaces the first
		if err := fx.arc.Store(context.Background(), req, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(fx.dir, "spool")); len(ents) != 0 {
		t.Errorf("spool holds %d files after the stores", len(ents))
	}
	if got := fx.objects(t); len(got) != 1 {
		t.Errorf("objects = %q, want one", got)
	}
}

// TestSpoolLocked: a second Archive on the same spool directory is refused
// while the first is open, and accepted once it is closed.
func TestSpoolLocked(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	opt := fx.arc.opt
	if _, err := New(opt); !errors.Is(err, ErrLocked) {
		t.Fatalf("New() on a spool in use: error = %v, want ErrLocked", err)
	}
	if err := fx.arc.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := New(opt)
	if err != nil {
		t.Fatalf("New() after Close: %v", err)
	}
	a.Close()
}

// TestRecoverRemovesPartialPut: a put cut off before its rename leaves a
// temporary file beside its key; recovery of its open journal intent
// removes it.
func TestRecoverRemovesPartialPut(t *testing.T) {
	fx := newFixture(t, index.DuplicateOverwrite)
	key := "1.2.3/1.2.3.4/1.2.3.4.5.dcm"
	dir := filepath.Join(fx.store.Root(), filepath.FromSlash(filepath.Dir(key)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".put-123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.arc.journal.begin(intent{SOPInstanceUID: "1.2.3.4.5", Backend: fx.store.ID(), Keys: []string{key}}); err != nil {
		t.Fatal(err)
	}
	rep, err := fx.arc.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Objects != 1 {
		t.Errorf("Recover() = %+v, want 1 object (the partial put)", rep)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left beside the key", len(ents))
	}
}

// TestRecoverLogged: a store on the local backend is acknowledged once its
// object and its logged intent are durable, before the index has synced the
// row. When a power loss takes the row, recovery indexes the object again
// from its intent, with the same location and attributes; an object that
// is not the one the intent describes, or that a later store replaced, is
// removed instead.
func TestRecoverLogged(t *testing.T) {
	ctx := context.Background()
	put := func(t *testing.T, fx *fixture, key string, b []byte) {
		t.Helper()
		if _, _, err := fx.store.Put(ctx, key, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		dup  index.DuplicatePolicy
		// lose changes what the power loss left, given the indexed
		// instance, and returns the intent to journal.
		lose          func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent
		wantIndexed   bool // the row is there, as it was (or moved to the intent's object, with wantMoved)
		wantReindexed int
		wantMoved     bool
		wantRestored  int // objects written again from the intent's bytes
	}{
		{"row lost", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			if _, err := fx.ix.Delete(ctx, info.SOPInstanceUID); err != nil {
				t.Fatal(err)
			}
			return in
		}, true, 1, false, 0},
		{"row kept", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			return in
		}, true, 0, false, 0},
		{"row kept, replaced object left", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			put(t, fx, "old/replaced.dcm", []byte("replaced"))
			in.Keys = append(in.Keys, "old/replaced.dcm")
			return in
		}, true, 0, false, 0},
		{"refused by the reject policy", index.DuplicateReject, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			// A later store of the same instance, under another key, that
			// the policy refused after its object was synced.
			b, err := os.ReadFile(filepath.Join(fx.dir, "objects", info.Key))
			if err != nil {
				t.Fatal(err)
			}
			put(t, fx, "later/refused.dcm", b)
			in.Keys = []string{"later/refused.dcm"}
			in.ReceivedAt = info.ReceivedAt.Add(time.Minute)
			return in
		}, true, 0, false, 0},
		{"row older than the store", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			// A later store of the same instance, under another key,
			// acknowledged before its row was durable: the older row is
			// all that is left, and its object goes.
			b, err := os.ReadFile(filepath.Join(fx.dir, "objects", info.Key))
			if err != nil {
				t.Fatal(err)
			}
			put(t, fx, "later/stored.dcm", b)
			in.Keys = []string{"later/stored.dcm"}
			in.ReceivedAt = info.ReceivedAt.Add(time.Minute)
			return in
		}, true, 1, true, 0},
		{"object cut off", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			if _, err := fx.ix.Delete(ctx, info.SOPInstanceUID); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(filepath.Join(fx.dir, "objects", info.Key), info.Size/2); err != nil {
				t.Fatal(err)
			}
			return in
		}, false, 0, false, 0},
		{"replaced later", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			// The intent is of an earlier store of the instance, under
			// another key; the indexed row is newer.
			put(t, fx, "earlier/store.dcm", []byte("replaced"))
			in.Keys = []string{"earlier/store.dcm"}
			in.ReceivedAt = info.ReceivedAt.Add(-time.Minute)
			return in
		}, true, 0, false, 0},
		{"journaled, object and row lost", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			if _, err := fx.ix.Delete(ctx, info.SOPInstanceUID); err != nil {
				t.Fatal(err)
			}
			in.Data = fx.lose(t, info.Key)
			return in
		}, true, 1, false, 1},
		{"journaled, row kept, object lost", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			in.Data = fx.lose(t, info.Key)
			return in
		}, true, 0, false, 1},
		{"journaled, object cut off", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			if _, err := fx.ix.Delete(ctx, info.SOPInstanceUID); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(fx.dir, "objects", info.Key))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(filepath.Join(fx.dir, "objects", info.Key), info.Size/2); err != nil {
				t.Fatal(err)
			}
			in.Data = b
			return in
		}, true, 1, false, 1},
		{"journaled, object whole", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			b, err := os.ReadFile(filepath.Join(fx.dir, "objects", info.Key))
			if err != nil {
				t.Fatal(err)
			}
			in.Data = b
			return in
		}, true, 0, false, 0},
		{"journaled bytes damaged", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			if _, err := fx.ix.Delete(ctx, info.SOPInstanceUID); err != nil {
				t.Fatal(err)
			}
			in.Data = fx.lose(t, info.Key)
			in.Data[len(in.Data)/2] ^= 0xff
			return in
		}, false, 0, false, 0},
		{"journaled, replaced later", index.DuplicateOverwrite, func(t *testing.T, fx *fixture, info index.InstanceInfo, in intent) intent {
			// An earlier store's object, lost: the indexed row is newer.
			b := []byte("replaced")
			in.Keys = []string{"earlier/store.dcm"}
			in.ReceivedAt = info.ReceivedAt.Add(-time.Minute)
			in.Size, in.SHA256 = hashed(bytes.NewReader(b))
			in.Data = b
			return in
		}, true, 0, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, tc.dup)
			req, data := sample(t)
			if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			fx.arc.Close()
			info, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
			if err != nil {
				t.Fatal(err)
			}
			attrs, err := fx.ix.Attributes(ctx, req.SOPInstanceUID)
			if err != nil {
				t.Fatal(err)
			}
			in := tc.lose(t, fx, info, intent{SOPInstanceUID: req.SOPInstanceUID, Backend: info.Backend, Keys: []string{info.Key},
				Logged: true, Size: info.Size, SHA256: info.SHA256, ReceivedAt: info.ReceivedAt})
			spool := filepath.Join(fx.dir, "spool")
			j, err := openJournal(journalPath(spool))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := j.begin(in); err != nil {
				t.Fatal(err)
			}
			j.close()

			var logs bytes.Buffer
			a, err := New(Options{Index: fx.ix, Storage: fx.store, SpoolDir: spool, Duplicate: tc.dup,
				Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
			if err != nil {
				t.Fatalf("New() after a power loss: %v", err)
			}
			defer a.Close()
			if want := fmt.Sprintf("rows the index lost: objects=%d", tc.wantReindexed); tc.wantReindexed > 0 && !strings.Contains(logs.String(), want) ||
				tc.wantReindexed == 0 && strings.Contains(logs.String(), "indexed again the stored objects") {
				t.Errorf("log does not report %d objects indexed again:\n%s", tc.wantReindexed, logs.String())
			}
			if want := fmt.Sprintf("power loss took: objects=%d", tc.wantRestored); tc.wantRestored > 0 && !strings.Contains(logs.String(), want) ||
				tc.wantRestored == 0 && strings.Contains(logs.String(), "wrote again from the journal") {
				t.Errorf("log does not report %d objects written again:\n%s", tc.wantRestored, logs.String())
			}
			got, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
			switch {
			case !tc.wantIndexed:
				if !errors.Is(err, index.ErrNotFound) {
					t.Errorf("Instance() = %+v, %v; want not found", got, err)
				}
				if objs := fx.objects(t); len(objs) != 0 {
					t.Errorf("objects = %q, want the cut-off one removed", objs)
				}
			case err != nil:
				t.Fatalf("Instance() after recovery: %v", err)
			default:
				want := info
				if tc.wantMoved {
					want.Key, want.ReceivedAt = in.Keys[0], in.ReceivedAt
				}
				if got.Location != want.Location || !got.ReceivedAt.Equal(want.ReceivedAt) {
					t.Errorf("recovered row = %+v, want %+v", got, want)
				}
				after, err := fx.ix.Attributes(ctx, req.SOPInstanceUID)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(after, attrs) {
					t.Errorf("recovered attributes differ:\n%v\nwant\n%v", after, attrs)
				}
				if objs := fx.objects(t); !slices.Equal(objs, []string{want.Key}) {
					t.Errorf("objects = %q, want only %q", objs, want.Key)
				}
			}
			// Recovery is idempotent: nothing is left for a second one.
			if rep, err := a.Recover(ctx); err != nil || rep != (RecoveryReport{}) {
				t.Errorf("second Recover() = %+v, %v", rep, err)
			}
		})
	}
}

// storeDataset stores ds, a CT image data set, in Explicit VR Little
// Endian, and returns Store's error.
func (fx *fixture) storeDataset(t *testing.T, ds *dicom.Dataset) error {
	t.Helper()
	data, err := codec.AppendDataset(nil, ds, codec.ExplicitVRLittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	req := StoreRequest{SOPClassUID: uid.CTImageStorage, SOPInstanceUID: ds.String(dicom.SOPInstanceUID), TransferSyntaxUID: uid.ExplicitVRLittleEndian}
	return fx.arc.Store(context.Background(), req, bytes.NewReader(data))
}

// lose removes the object under key, as a power loss that took it, and
// returns its bytes.
func (fx *fixture) lose(t *testing.T, key string) []byte {
	t.Helper()
	path := filepath.Join(fx.dir, "objects", key)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLogSyncFailure: once a sync of the index's log has failed, the
// intents of the logged stores stay open for the next start's recovery,
// even if a later sync would succeed, and later stores are not logged: their
// rows commit with a synced log and their intents end when they return.
// They are still placed as before: a duplicate finds its key taken and is
// refused without touching the stored object.
func TestLogSyncFailure(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, index.DuplicateReject)
	spool := filepath.Join(fx.dir, "spool")
	store := func(inst string) error {
		t.Helper()
		return fx.storeDataset(t, syntheticDataset(t, inst, false))
	}
	openIntents := func() []string {
		t.Helper()
		open, err := readJournal(journalPath(spool))
		if err != nil {
			t.Fatal(err)
		}
		var sops []string
		for _, in := range open {
			if !in.Logged {
				t.Errorf("open intent of %s not logged", in.SOPInstanceUID)
			}
			sops = append(sops, in.SOPInstanceUID)
		}
		return sops
	}
	synced := make(chan struct{}, 1)
	fx.arc.syncLog = func() error {
		synced <- struct{}{}
		return errors.New("injected: index log not synced")
	}
	if err := store("1.2.3.4.5.1"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-synced:
	case <-time.After(10 * time.Second):
		t.Fatal("the index log was not synced after a logged store")
	}
	// Stores that returned after the failure see it: wait until logLoop
	// has recorded it.
	for !fx.arc.logFailed.Load() {
		time.Sleep(time.Millisecond)
	}
	fx.arc.syncLog = fx.ix.SyncLog // would succeed now: not to be trusted
	if err := store("1.2.3.4.5.2"); err != nil {
		t.Fatal(err)
	}
	if err := store("1.2.3.4.5.2"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Store() of 1.2.3.4.5.2 = %v, want %v", err, ErrDuplicate)
	}
	if err := fx.arc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openIntents(); !slices.Equal(got, []string{"1.2.3.4.5.1"}) {
		t.Errorf("open intents after Close = %q, want only the store before the failure's, left for recovery", got)
	}
	for _, inst := range []string{"1.2.3.4.5.1", "1.2.3.4.5.2"} {
		info, err := fx.ix.Instance(ctx, inst)
		if err != nil {
			t.Errorf("Instance(%s) = %v", inst, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(fx.dir, "objects", info.Key)); err != nil {
			t.Errorf("object of %s: %v", inst, err)
		}
	}
}

// TestJournaledStore: a small object stored on a file system backend is
// journaled: its logged intent holds its bytes, and logLoop syncs the file
// system, then the index's log, before it ends the intent. A larger object
// is synced by its store and leaves the file system alone. Once a sync of
// the file system has failed, the intents of the stores before stay open
// for the next start's recovery, and later stores are not logged.
func TestJournaledStore(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, index.DuplicateReject)
	spool := filepath.Join(fx.dir, "spool")
	var mu sync.Mutex
	var syncs []string
	record := func(what string) {
		mu.Lock()
		syncs = append(syncs, what)
		mu.Unlock()
	}
	fsErr := make(chan error, 1)
	fsErr <- nil
	fx.arc.syncFS = func() error {
		record("fs")
		if err := <-fsErr; err != nil {
			return err
		}
		fsErr <- nil
		return fx.store.SyncFS()
	}
	fx.arc.syncLog = func() error {
		record("log")
		return fx.ix.SyncLog()
	}
	store := func(inst string, pixels int) []byte {
		t.Helper()
		ds := syntheticDataset(t, inst, false)
		ds.Put(dicom.Element{Tag: dicom.PixelData, VR: dicom.OW, Value: make([]byte, pixels)})
		if err := fx.storeDataset(t, ds); err != nil {
			t.Fatal(err)
		}
		info, err := fx.ix.Instance(ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(fx.dir, "objects", info.Key))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// waitSyncs waits until syncs holds want and no intent is open.
	waitSyncs := func(want ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			got := slices.Clone(syncs)
			mu.Unlock()
			open, err := readJournal(journalPath(spool))
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, want) && len(open) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("syncs = %q with %d intents open, want %q and none", got, len(open), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	store("1.2.3.4.6.1", 1024)
	waitSyncs("fs", "log")
	store("1.2.3.4.6.2", maxJournaled)
	waitSyncs("fs", "log", "log")

	// The file system's sync fails: the small store's intent stays open
	// with its object's bytes, and so does the next small store's.
	<-fsErr
	fsErr <- errors.New("injected: file system not synced")
	small := store("1.2.3.4.6.3", 1024)
	for !fx.arc.logFailed.Load() {
		time.Sleep(time.Millisecond)
	}
	store("1.2.3.4.6.4", 1024)
	if err := fx.arc.Close(); err != nil {
		t.Fatal(err)
	}
	open, err := readJournal(journalPath(spool))
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 || open[0].SOPInstanceUID != "1.2.3.4.6.3" || !bytes.Equal(open[0].Data, small) {
		t.Errorf("open intents after Close = %d (%+v), want only 1.2.3.4.6.3's, with its object's %d bytes", len(open), open, len(small))
	}
	mu.Lock()
	if want := []string{"fs", "log", "log", "fs"}; !slices.Equal(syncs, want) {
		t.Errorf("syncs = %q, want %q: none after the failure", syncs, want)
	}
	mu.Unlock()
}

// TestReceivedAtMonotonic: reception times only go forward, also when the
// wall clock is set back, within a run and across a restart, so that
// recovery tells a later store of an instance from an earlier one; a clock
// behind the index's latest reception is logged at start.
func TestReceivedAtMonotonic(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, index.DuplicateOverwrite)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := t0
	setClock := func(c time.Time) {
		mu.Lock()
		clock = c
		mu.Unlock()
	}
	reopen := func() *bytes.Buffer {
		t.Helper()
		opt := fx.arc.opt
		fx.arc.Close()
		var logs bytes.Buffer
		opt.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return clock
		}
		opt.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn})
		a, err := New(opt)
		if err != nil {
			t.Fatal(err)
		}
		fx.arc = a
		t.Cleanup(func() { a.Close() })
		return &logs
	}
	reopen()
	const inst = "1.2.3.4.7.1"
	var last time.Time
	store := func(when string) {
		t.Helper()
		if err := fx.storeDataset(t, syntheticDataset(t, inst, false)); err != nil {
			t.Fatal(err)
		}
		info, err := fx.ix.Instance(ctx, inst)
		if err != nil {
			t.Fatal(err)
		}
		if !info.ReceivedAt.After(last) {
			t.Errorf("%s: received at %v, not after the store before, at %v", when, info.ReceivedAt, last)
		}
		last = info.ReceivedAt
	}
	store("first store")
	if !last.Equal(t0) {
		t.Errorf("first store received at %v, want the clock's %v", last, t0)
	}
	setClock(t0.Add(-time.Hour))
	store("store after the clock was set back")
	setClock(t0.Add(-2 * time.Hour))
	logs := reopen()
	if !strings.Contains(logs.String(), "clock is behind the latest reception") {
		t.Errorf("start with the clock behind the index: log does not say so:\n%s", logs.String())
	}
	store("store after a restart with the clock set back")
}
