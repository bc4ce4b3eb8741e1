package index

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

func TestAddInstanceDelete(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	dss := synthInstances(t, 1)
	load(t, ix, dss)
	ds := dss[0]
	uid := ds.String(dicom.SOPInstanceUID)
	in, err := ix.Instance(ctx, uid)
	if err != nil {
		t.Fatalf("Instance() error = %v", err)
	}
	if in.SOPInstanceUID != uid || in.Backend != "fs" || in.StudyInstanceUID != ds.String(dicom.StudyInstanceUID) {
		t.Errorf("Instance() = %+v", in)
	}
	attrs, err := ix.Attributes(ctx, uid)
	if err != nil {
		t.Fatalf("Attributes() error = %v", err)
	}
	if got, want := attrs.String(dicom.PatientName), ds.String(dicom.PatientName); got != want {
		t.Errorf("stored PatientName = %q, want %q", got, want)
	}
	if attrs.Contains(dicom.Tag(0x00091010)) {
		t.Errorf("stored attributes keep a %d-byte binary value", 2048)
	}
	loc, err := ix.Delete(ctx, uid)
	if err != nil || loc.SOPInstanceUID != uid {
		t.Fatalf("Delete() = %+v, %v", loc, err)
	}
	if _, err := ix.Instance(ctx, uid); !errors.Is(err, ErrNotFound) {
		t.Errorf("Instance() after Delete error = %v, want ErrNotFound", err)
	}
	if _, err := ix.Delete(ctx, uid); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete() error = %v, want ErrNotFound", err)
	}
}

func TestDuplicatePolicies(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	ds := synthInstances(t, 2)[0]
	first := record(ds, 1)
	if res, err := ix.Add(ctx, first); err != nil || res.Existed || !res.Stored {
		t.Fatalf("first Add() = %+v, %v", res, err)
	}
	tests := []struct {
		name       string
		policy     DuplicatePolicy
		wantErr    error
		wantStored bool
		wantKey    string // key indexed afterwards
	}{
		{name: "keep", policy: DuplicateKeep, wantKey: first.Key},
		{name: "reject", policy: DuplicateReject, wantErr: ErrDuplicate, wantKey: first.Key},
		{name: "overwrite", policy: DuplicateOverwrite, wantStored: true, wantKey: "objects/new.dcm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := record(ds, 2)
			rec.Key = "objects/new.dcm"
			rec.Duplicate = tc.policy
			res, err := ix.Add(ctx, rec)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Add() error = %v, want %v", err, tc.wantErr)
			}
			if !res.Existed || res.Stored != tc.wantStored || res.Previous.Key != first.Key {
				t.Errorf("Add() = %+v", res)
			}
			in, err := ix.Instance(ctx, ds.String(dicom.SOPInstanceUID))
			if err != nil || in.Key != tc.wantKey {
				t.Errorf("Instance() = %+v, %v; want key %q", in, err, tc.wantKey)
			}
		})
	}
}

func TestInvalidRecord(t *testing.T) {
	ix := openTest(t, Options{})
	ds := synthInstances(t, 3)[0].Clone()
	ds.Delete(dicom.SeriesInstanceUID)
	if _, err := ix.Add(context.Background(), record(ds, 1)); !errors.Is(err, ErrInvalidRecord) {
		t.Errorf("Add() without series UID error = %v, want ErrInvalidRecord", err)
	}
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	ix, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	ix, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen error = %v", err)
	}
	var n int
	if err := ix.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(migrations))
	}
	if _, err := ix.writer.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`,
		schemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := Open(ctx, path, Options{}); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open() of a newer schema error = %v, want ErrSchemaTooNew", err)
	}
}
