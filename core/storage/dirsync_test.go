package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestDirSyncerConcurrent: many writers committing into a few directories
// at once all return, without error, with their objects in place (run
// with -race: the syncer's state is shared).
func TestDirSyncerConcurrent(t *testing.T) {
	ctx := context.Background()
	b, err := NewFS("hot", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := b.Stage()
			if err != nil {
				errs <- err
				return
			}
			fmt.Fprintf(f, "object %d", i)
			f.Close()
			errs <- b.CommitStaged(ctx, f.Name(), fmt.Sprintf("study/series-%d/%d.dcm", i%3, i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range 64 {
		if _, err := os.Stat(filepath.Join(b.Root(), "study", fmt.Sprintf("series-%d", i%3), fmt.Sprintf("%d.dcm", i))); err != nil {
			t.Error(err)
		}
	}
	if len(b.dirs.dirs) != 0 {
		t.Errorf("%d directories left in the syncer", len(b.dirs.dirs))
	}
}
