package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/internal/peertest"
)

type fixture struct {
	arc   *Archive
	ix    *index.Index
	store *storage.FS
	dir   string
}

func newFixture(t *testing.T, dup index.DuplicatePolicy) *fixture {
	t.Helper()
	dir := t.TempDir()
	ix, err := index.Open(context.Background(), filepath.Join(dir, "index.db"), index.Options{Synchronous: index.SyncNormal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	st, err := storage.NewFS("default", filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Options{Index: ix, Storage: st, Duplicate: dup, SpoolDir: filepath.Join(dir, "spool")})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{arc: a, ix: ix, store: st, dir: dir}
}

// sample returns a corpus file's request and its data set bytes.
func sample(t *testing.T) (StoreRequest, []byte) {
	t.Helper()
	root := peertest.TestData(t)
	path := filepath.Join(root, "transfer-syntax", "explicit-vr-le", "CT_small.dcm")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(root, "CT_small.dcm") // pydicom's test files
	}
	f, err := part10.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return StoreRequest{
		SOPClassUID:       f.Dataset.String(dicom.SOPClassUID),
		SOPInstanceUID:    f.Dataset.String(dicom.SOPInstanceUID),
		TransferSyntaxUID: f.Syntax.UID,
		CallingAE:         "MODALITY",
	}, b[f.DatasetOffset:]
}

func (fx *fixture) objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	for oi, err := range fx.store.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, oi.Key)
	}
	return keys
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	fx := newFixture(t, index.DuplicateKeep)
	req, data := sample(t)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	info, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := fx.store.Get(ctx, info.Key)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	f, err := part10.ReadBytes(stored)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored[f.DatasetOffset:]; !bytes.Equal(got, data) {
		t.Errorf("stored data set differs from the one received (%d and %d bytes)", len(got), len(data))
	}
	if got := f.Meta.String(dicom.SourceApplicationEntityTitle); got != "MODALITY" {
		t.Errorf("Source AE = %q", got)
	}
	if entries, _ := os.ReadDir(filepath.Join(fx.dir, "spool")); len(entries) != 0 {
		t.Errorf("spool holds %d files after the store", len(entries))
	}
	// Keep: a second store succeeds and changes nothing.
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
		t.Fatalf("duplicate under keep: %v", err)
	}
	if got := fx.objects(t); len(got) != 1 {
		t.Errorf("objects after a kept duplicate = %q", got)
	}
}

func TestStoreDuplicatePolicies(t *testing.T) {
	ctx := context.Background()
	req, data := sample(t)
	t.Run("reject", func(t *testing.T) {
		fx := newFixture(t, index.DuplicateReject)
		if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("duplicate under reject = %v, want ErrDuplicate", err)
		}
		if got := fx.objects(t); len(got) != 1 {
			t.Errorf("objects = %q", got)
		}
	})
	t.Run("overwrite", func(t *testing.T) {
		fx := newFixture(t, index.DuplicateOverwrite)
		for range 3 {
			if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
		}
		info, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
		if err != nil {
			t.Fatal(err)
		}
		if got := fx.objects(t); len(got) != 1 || got[0] != info.Key {
			t.Errorf("objects = %q, indexed key %q", got, info.Key)
		}
	})
}

func TestStoreRejects(t *testing.T) {
	ctx := context.Background()
	req, data := sample(t)
	other := req
	other.SOPInstanceUID = "1.2.3.4.5.6.7.8.9"
	class := req
	class.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
	badUID := req
	badUID.SOPInstanceUID = "../../etc"
	tests := []struct {
		name    string
		req     StoreRequest
		data    []byte
		wantErr error
	}{
		{name: "instance mismatch", req: other, data: data, wantErr: ErrSOPInstanceMismatch},
		{name: "class mismatch", req: class, data: data, wantErr: ErrSOPClassMismatch},
		{name: "invalid uid", req: badUID, data: data, wantErr: ErrMalformed},
		{name: "garbage", req: req, data: []byte("\x08\x00\x05\x00CS\xff\xffno"), wantErr: ErrMalformed},
		{name: "empty", req: req, data: nil, wantErr: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, index.DuplicateKeep)
			err := fx.arc.Store(ctx, tc.req, bytes.NewReader(tc.data))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Store() = %v, want %v", err, tc.wantErr)
			}
			if got := fx.objects(t); len(got) != 0 {
				t.Errorf("objects after a refused store = %q", got)
			}
			if _, err := fx.ix.Instance(ctx, tc.req.SOPInstanceUID); !errors.Is(err, index.ErrNotFound) {
				t.Errorf("Instance() = %v, want ErrNotFound", err)
			}
			if entries, _ := os.ReadDir(filepath.Join(fx.dir, "spool")); len(entries) != 0 {
				t.Errorf("spool holds %d files", len(entries))
			}
		})
	}
}

// TestStoreDuplicateOtherKey: a duplicate received on another day, under the
// date layout, gets a key of its own. The object is committed there without
// asking the index first, and the index's answer decides: the new object
// replaces the old one, or is removed again. No intent stays open once the
// archive is closed.
func TestStoreDuplicateOtherKey(t *testing.T) {
	ctx := context.Background()
	req, data := sample(t)
	for _, tc := range []struct {
		name    string
		dup     index.DuplicatePolicy
		wantErr error
		wantDay int // the day of the indexed object
	}{
		{"overwrite", index.DuplicateOverwrite, nil, 2},
		{"keep", index.DuplicateKeep, nil, 1},
		{"reject", index.DuplicateReject, ErrDuplicate, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ix, err := index.Open(ctx, filepath.Join(dir, "index.db"), index.Options{Synchronous: index.SyncNormal})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			st, err := storage.NewFS("default", filepath.Join(dir, "objects"))
			if err != nil {
				t.Fatal(err)
			}
			day := 1
			now := func() time.Time { return time.Date(2026, 11, day, 12, 0, 0, 0, time.UTC) }
			spool := filepath.Join(dir, "spool")
			a, err := New(Options{Index: ix, Storage: st, Duplicate: tc.dup, SpoolDir: spool, Layout: storage.LayoutDate, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			fx := &fixture{arc: a, ix: ix, store: st, dir: dir}
			if err := a.Store(ctx, req, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			day = 2
			if err := a.Store(ctx, req, bytes.NewReader(data)); !errors.Is(err, tc.wantErr) {
				t.Fatalf("second Store() = %v, want %v", err, tc.wantErr)
			}
			info, err := ix.Instance(ctx, req.SOPInstanceUID)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("2026/11/%02d/", tc.wantDay)
			if got := fx.objects(t); len(got) != 1 || got[0] != info.Key || !strings.HasPrefix(info.Key, want) {
				t.Errorf("objects = %q, indexed key %q, want one under %s", got, info.Key, want)
			}
			// The intents of the stores whose rows committed stay open
			// until the index has synced its log, at the latest when the
			// archive closes.
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if open, err := readJournal(journalPath(spool)); err != nil || len(open) != 0 {
				t.Errorf("open intents = %v, %v; want none", open, err)
			}
		})
	}
}
