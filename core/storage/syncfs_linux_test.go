package storage

import (
	"context"
	"errors"
	"os"
	"testing"
)

// TestClosePlaced: an object placed and closed unsynced is there once
// ClosePlaced returns, and SyncFS then makes it durable; when alongside
// fails, its error is returned and the object removed.
func TestClosePlaced(t *testing.T) {
	ctx := context.Background()
	b, err := NewFS("hot", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	place := func(key, content string) *os.File {
		t.Helper()
		f, err := b.Stage()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(content); err != nil {
			t.Fatal(err)
		}
		if err := b.PlaceFile(ctx, f, key, false); err != nil {
			t.Fatal(err)
		}
		return f
	}
	ran := false
	if err := b.ClosePlaced(place("1.2/1.2.3/a.dcm", "object a"), "1.2/1.2.3/a.dcm", func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("ClosePlaced() = %v, alongside run: %v", err, ran)
	}
	if err := b.SyncFS(); err != nil {
		t.Fatalf("SyncFS() = %v", err)
	}
	if oi, err := b.Stat(ctx, "1.2/1.2.3/a.dcm"); err != nil || oi.Size != int64(len("object a")) {
		t.Errorf("Stat() = %+v, %v", oi, err)
	}
	injected := errors.New("injected: journal not synced")
	if err := b.ClosePlaced(place("1.2/1.2.3/b.dcm", "object b"), "1.2/1.2.3/b.dcm", func() error { return injected }); !errors.Is(err, injected) {
		t.Errorf("ClosePlaced() with a failing alongside = %v, want %v", err, injected)
	}
	if _, err := b.Stat(ctx, "1.2/1.2.3/b.dcm"); !errors.Is(err, ErrNotFound) {
		t.Errorf("object of a failed ClosePlaced: Stat() = %v, want %v", err, ErrNotFound)
	}
}
