package storage

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestStage: a staged file committed under a key is the object, listings
// never show staged files, a file outside the root is refused, and
// ClearStaged removes what is left.
func TestStage(t *testing.T) {
	ctx := context.Background()
	b, err := NewFS("hot", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f, err := b.Stage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("object bytes"); err != nil {
		t.Fatal(err)
	}
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
