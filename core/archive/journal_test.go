package archive

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestJournal: intents without an end are read back in order; ended ones,
// a torn last line, a line of which only the end was written back, the
// zeros of the area not written yet and a missing journal give nothing; a
// journal past its size limit is rewritten with only the open intents.
func TestJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spool.journal")
	if got, err := readJournal(path); err != nil || len(got) != 0 {
		t.Fatalf("readJournal(missing) = %v, %v", got, err)
	}
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := j.begin(intent{SOPInstanceUID: "1.1", Backend: "b", Keys: []string{"k1"}})
	b, _ := j.begin(intent{SOPInstanceUID: "1.2", Backend: "b", Keys: []string{"k2", "old"}})
	j.begin(intent{SOPInstanceUID: "1.3", Backend: "b", Keys: []string{"k3"}})
	j.end(a)
	size := j.size
	j.close()
	if fi, err := os.Stat(path); err != nil || fi.Size() != journalArea {
		t.Fatalf("journal file of %v bytes (%v), want the area's %d", fi.Size(), err, journalArea)
	}
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	// The end of a line whose start a crash lost, then one torn by it.
	f.WriteAt([]byte(`","backend":"b","keys":["k8"]}}`+"\n"+`{"id":9,"intent":{"sop_instance_u`), size+40)
	f.Close()
	got, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SOPInstanceUID != "1.2" || got[1].SOPInstanceUID != "1.3" || got[0].Keys[1] != "old" {
		t.Errorf("open intents = %+v, want 1.2 and 1.3", got)
	}
	_ = b

	// Rewriting: many ended stores and one open one, holding objects'
	// bytes.
	j, err = openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	data := bytes.Repeat([]byte("DICM"), 512)
	keep, _ := j.begin(intent{SOPInstanceUID: "2.1", Backend: "b", Keys: []string{"kept"}, Logged: true, Data: data})
	for range 5000 {
		id, err := j.begin(intent{SOPInstanceUID: "2.2", Backend: "b", Keys: []string{"some/long/key/of/an/instance.dcm"}, Logged: true, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		j.end(id)
	}
	j.preparers.Wait() // the rewrite prepared meanwhile
	j.mu.Lock()
	if j.size > maxJournalSize {
		t.Errorf("journal of %d bytes of lines, want it rewritten below %d", j.size, maxJournalSize)
	}
	j.mu.Unlock()
	if _, err := os.Stat(path + ".next"); !os.IsNotExist(err) {
		t.Errorf("the file prepared for a rewrite is left beside the journal: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != journalArea {
		t.Errorf("journal file of %v bytes (%v), want the area's %d", fi.Size(), err, journalArea)
	}
	got, err = readJournal(path)
	if err != nil || len(got) != 1 || got[0].SOPInstanceUID != "2.1" || !bytes.Equal(got[0].Data, data) {
		t.Errorf("open intents after rewrites = %+v, %v, want 2.1 only, with its data", got, err)
	}
	j.end(keep)
}

// TestJournalSync: concurrent syncs share the file's syncs and each returns
// once its own lines are durable; after a failed sync the open intents are
// written again to a new file before any later sync is trusted.
func TestJournalSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.journal")
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := j.begin(intent{SOPInstanceUID: fmt.Sprintf("1.%d", i), Backend: "b", Keys: []string{"k"}}); err != nil {
				t.Error(err)
			}
			if err := j.sync(); err != nil {
				t.Errorf("sync() = %v", err)
			}
		})
	}
	wg.Wait()
	if j.synced != j.written {
		t.Errorf("synced %d of %d appends", j.synced, j.written)
	}

	// A sync that fails: its file is closed under it.
	j.f.Close()
	if _, err := j.begin(intent{SOPInstanceUID: "2.1", Backend: "b", Keys: []string{"k"}}); err == nil {
		t.Fatal("begin() on a closed file succeeded")
	}
	if err := j.sync(); err == nil {
		t.Fatal("sync() of a closed file succeeded")
	}
	if j.suspect {
		t.Fatal("the journal was not rewritten after the failed sync")
	}
	if _, err := j.begin(intent{SOPInstanceUID: "2.2", Backend: "b", Keys: []string{"k"}}); err != nil {
		t.Fatalf("begin() after the rewrite: %v", err)
	}
	if err := j.sync(); err != nil {
		t.Fatalf("sync() after the rewrite: %v", err)
	}
	got, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 9 || got[8].SOPInstanceUID != "2.2" {
		t.Errorf("open intents after the rewrite = %d (%+v), want the 8 first and 2.2", len(got), got)
	}
}
