package storage

import (
	"context"
	"testing"
)

// TestSyncFS: an object placed and closed unsynced is made durable by
// SyncFS, and is there afterwards.
func TestSyncFS(t *testing.T) {
	ctx := context.Background()
	b := testFS(t)
	f := staged(t, b, "object a")
	if err := b.PlaceFile(ctx, f, "1.2/1.2.3/a.dcm", false); err != nil {
		t.Fatal(err)
	}
	if err := b.ClosePlaced(f, "1.2/1.2.3/a.dcm", nil); err != nil {
		t.Fatalf("ClosePlaced() = %v", err)
	}
	if err := b.SyncFS(); err != nil {
		t.Fatalf("SyncFS() = %v", err)
	}
	if oi, err := b.Stat(ctx, "1.2/1.2.3/a.dcm"); err != nil || oi.Size != int64(len("object a")) {
		t.Errorf("Stat() = %+v, %v", oi, err)
	}
}
