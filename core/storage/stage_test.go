package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// testFS returns a filesystem backend over a new temporary root.
func testFS(t *testing.T) *FS {
	t.Helper()
	b, err := NewFS("hot", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// staged returns a new staged file of b holding content, still open.
func staged(t *testing.T, b *FS, content string) *os.File {
	t.Helper()
	f, err := b.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestStage: a staged file committed under a key is the object, listings
// never show staged files, a file outside the root is refused, and
// ClearStaged removes what is left.
func TestStage(t *testing.T) {
	ctx := context.Background()
	b := testFS(t)
	f := staged(t, b, "object bytes")
	f.Close()
	left, err := b.Stage()
	if err != nil {
		t.Fatal(err)
	}
	left.Close()
	for oi, err := range b.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("a staged file is listed: %s", oi.Key)
	}
	if err := b.CommitStaged(ctx, f.Name(), "1.2/1.2.3/1.2.3.4.dcm"); err != nil {
		t.Fatalf("CommitStaged() error = %v", err)
	}
	r, err := b.Get(ctx, "1.2/1.2.3/1.2.3.4.dcm")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "object bytes" {
		t.Errorf("object = %q", got)
	}
	outside := filepath.Join(t.TempDir(), stagePrefix+"x")
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b.CommitStaged(ctx, outside, "a.dcm"); err == nil {
		t.Error("a file outside the root was committed")
	}
	if err := b.CommitStaged(ctx, left.Name(), "../escape.dcm"); err == nil {
		t.Error("an invalid key was accepted")
	}
	n, err := b.ClearStaged()
	if err != nil || n != 1 {
		t.Errorf("ClearStaged() = %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(left.Name()); !os.IsNotExist(err) {
		t.Error("the staged file is still there")
	}
}

// TestPlaceFileNoReplace: without replace, a key that exists is left as it
// was, and so is the staged file; a free key is placed, then synced.
func TestPlaceFileNoReplace(t *testing.T) {
	ctx := context.Background()
	b := testFS(t)
	const key = "1.2/1.2.3/1.2.3.4.dcm"
	first := staged(t, b, "first")
	if err := b.PlaceFile(ctx, first, key, false); err != nil {
		first.Close()
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skip("this file system cannot rename without replacing")
		}
		t.Fatalf("PlaceFile(new key) error = %v", err)
	}
	if err := b.SyncPlaced(first, key, nil); err != nil {
		t.Fatalf("SyncPlaced() error = %v", err)
	}
	second := staged(t, b, "second")
	err := b.PlaceFile(ctx, second, key, false)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("PlaceFile(existing key) error = %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(filepath.Join(b.Root(), key)); string(got) != "first" {
		t.Errorf("object after a refused placement = %q, want %q", got, "first")
	}
	if _, err := os.Stat(second.Name()); err != nil {
		t.Errorf("staged file after a refused placement: %v", err)
	}
	if _, err := second.Write([]byte("!")); err != nil {
		t.Errorf("staged file closed by a refused placement: %v", err)
	}
	second.Close()
	// Replacing, with the file reopened as CommitStaged does.
	if err := b.CommitStaged(ctx, second.Name(), key); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(b.Root(), key)); string(got) != "second!" {
		t.Errorf("object after a replacing commit = %q, want %q", got, "second!")
	}
}

// TestSyncPlacedAlongside: what runs alongside the sync is run, and its
// failure fails the commit: the placed object is removed. So with
// ClosePlaced, which does not sync.
func TestSyncPlacedAlongside(t *testing.T) {
	ctx := context.Background()
	b := testFS(t)
	errJournal := errors.New("journal not synced")
	for _, end := range []struct {
		name string
		f    func(f *os.File, key string, alongside func() error) error
	}{{"SyncPlaced", b.SyncPlaced}, {"ClosePlaced", b.ClosePlaced}} {
		for _, tc := range []struct {
			key  string
			err  error
			want bool // the object is there afterwards
		}{
			{"1/2/ok.dcm", nil, true},
			{"1/2/failed.dcm", errJournal, false},
		} {
			key := end.name + "/" + tc.key
			f := staged(t, b, "object")
			if err := b.PlaceFile(ctx, f, key, true); err != nil {
				t.Fatal(err)
			}
			ran := false
			err := end.f(f, key, func() error { ran = true; return tc.err })
			if !ran || !errors.Is(err, tc.err) {
				t.Errorf("%s(%s) = %v (alongside ran: %v), want %v", end.name, key, err, ran, tc.err)
			}
			if _, err := os.Stat(filepath.Join(b.Root(), key)); (err == nil) != tc.want {
				t.Errorf("object %s there afterwards: %v, want %v", key, err == nil, tc.want)
			}
		}
	}
}
