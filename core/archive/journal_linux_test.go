package archive

import (
	"bytes"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
)

// TestJournalPartialLine: a line that the file system takes only part of
// (here the file size limit, as a full disk would) fails its store and is
// replaced by zeros, so that the line after it is not glued to it: both the
// open intents before it and the line written after it are read back.
func TestJournalPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spool.journal")
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	// Open intents only: with no end, the journal is not rewritten.
	n := 0
	for j.size < journalArea-4096 {
		if _, err := j.begin(intent{SOPInstanceUID: fmt.Sprintf("1.%d", n), Backend: "b", Keys: []string{"k"}}); err != nil {
			t.Fatal(err)
		}
		n++
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("file size limit: %v", err)
	}
	lim := old
	lim.Cur = uint64(j.size + 40)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot set the file size limit: %v", err)
	}
	_, perr := j.begin(intent{SOPInstanceUID: "2.1", Backend: "b", Keys: []string{"a/key/longer/than/the/forty/bytes/left.dcm"}})
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if perr == nil {
		t.Fatal("begin() of a line cut off by the file size limit succeeded")
	}
	if j.suspect {
		t.Error("the partial line could not be replaced by zeros")
	}
	b := make([]byte, 40)
	if _, err := j.f.ReadAt(b, j.size); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, make([]byte, 40)) {
		t.Errorf("the partial line was left in the file: %q", b)
	}
	if _, err := j.begin(intent{SOPInstanceUID: "2.2", Backend: "b", Keys: []string{"k"}}); err != nil {
		t.Fatalf("begin() after the partial line: %v", err)
	}
	got, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 || got[n-1].SOPInstanceUID != fmt.Sprintf("1.%d", n-1) || got[n].SOPInstanceUID != "2.2" {
		last := got
		if len(last) > 2 {
			last = last[len(last)-2:]
		}
		t.Errorf("read back %d open intents ending %+v, want %d ending 1.%d and 2.2", len(got), last, n+1, n-1)
	}
}
