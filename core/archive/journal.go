package archive

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/pacsforge/pacs/core/storage"
)

// journalSuffix makes the name of the intent journal beside the spool
// directory (spool.journal), like its lock file.
const journalSuffix = ".journal"

// maxJournalSize is the size of the journal's lines past which it is
// rewritten with the intents still open, if those take less than half of
// it. Logged intents of small objects hold their bytes (see maxJournaled):
// about 350 stores of 2 KB objects fill it.
const maxJournalSize = 1 << 20

// journalArea is the size a journal file is created with: zeros, written and
// synced, that its lines then overwrite. A sync of lines written there
// writes only them: the file's size and block map are already durable.
// Appended to a file's end instead, every sync had to write its inode too,
// one more write to wait for: 225 µs per sync instead of 275 µs here.
// Lines past the area (a rewrite put off by a sync under way) are appended.
const journalArea = maxJournalSize + 256<<10

// journalRecord is a line of the journal: an intent (Intent set) or the end
// of the store that wrote it (Done).
type journalRecord struct {
	ID     uint64  `json:"id"`
	Intent *intent `json:"intent,omitempty"`
	Done   bool    `json:"done,omitempty"`
}

// journal records the intents of the stores in progress, one line each
// appended to a single file, and their ends: after a crash, the intents
// without an end name the objects that may be left without an index row.
// A line is one write, after the last (see journalArea). Lines are synced
// only when a store asks (sync): a logged intent must survive a power loss,
// the others need only survive the process. It is safe for concurrent use.
type journal struct {
	path string

	mu       sync.Mutex
	f        *os.File
	size     int64 // of the lines written: where the next one goes
	next     uint64
	open     map[uint64][]byte // the intent lines of stores in progress
	openSize int64             // their bytes
	// written counts the lines appended, synced those known durable;
	// syncing is set while a sync runs, outside mu, and synced signals its
	// end.
	written, synced uint64
	syncing         bool
	syncDone        *sync.Cond
	// suspect is set when the file may miss or mangle lines: a sync failed
	// (a later sync of the same file may report success for the lines it
	// lost: Linux marks such pages clean) and no rewrite succeeded since,
	// a partial line could not be cut off, or a rewrite's directory sync
	// failed. Syncs then rewrite the journal first, until that succeeds.
	suspect bool
	// preparing is set while a goroutine (prepareRewrite, counted in
	// preparers) creates the next file for a rewrite.
	preparing bool
	preparers sync.WaitGroup
}

// openJournal opens (creating) the journal at path, empty: recovery has
// read what it held.
func openJournal(path string) (*journal, error) {
	f, err := createJournal(path, nil)
	if err != nil {
		return nil, fmt.Errorf("open intent journal: %w", noSpace(err))
	}
	j := &journal{path: path, f: f, open: map[uint64][]byte{}}
	j.syncDone = sync.NewCond(&j.mu)
	return j, nil
}

// createJournal creates (truncating) the journal file at path holding lines,
// then zeros up to journalArea, synced.
func createJournal(path string, lines []byte) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, max(journalArea, len(lines)))
	copy(buf, lines)
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// begin appends in and returns its id for end.
func (j *journal) begin(in intent) (uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.next++
	id := j.next
	line, err := json.Marshal(journalRecord{ID: id, Intent: &in})
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	if err := j.append(line); err != nil {
		return 0, fmt.Errorf("write intent journal: %w", noSpace(err))
	}
	j.open[id] = line
	j.openSize += int64(len(line))
	return id, nil
}

// end records that the stores of ids have finished: what they wrote is
// either indexed durably or removed. A failure to record it is harmless
// (recovery finds nothing to do) and is not reported.
func (j *journal) end(ids ...uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var lines []byte
	for _, id := range ids {
		j.openSize -= int64(len(j.open[id]))
		delete(j.open, id)
		line, _ := json.Marshal(journalRecord{ID: id, Done: true})
		lines = append(append(lines, line...), '\n')
	}
	// Not while the open intents fill half of the journal: each rewrite
	// would be followed by another.
	if j.append(lines) == nil && j.size > maxJournalSize && j.openSize < maxJournalSize/2 && !j.preparing {
		j.preparing = true
		j.preparers.Go(j.prepareRewrite)
	}
}

// prepareRewrite creates the next journal file, its area of zeros written
// and synced, without holding the lock: that is most of a rewrite's time,
// 2–3 ms for 1.25 MiB here, which stores would otherwise wait for. It then
// rewrites the journal into it once no sync runs. On failure the journal is
// left as it is, and the next end tries again.
func (j *journal) prepareRewrite() {
	next, err := createJournal(j.path+".next", nil)
	if err != nil {
		os.Remove(j.path + ".next") // what a full disk let it write
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.preparing = false
	if err != nil {
		return
	}
	for j.syncing {
		j.syncDone.Wait()
	}
	if j.f == nil {
		next.Close()
		os.Remove(next.Name())
		return
	}
	j.rewrite(next)
}

// append writes lines at the end of the journal.
func (j *journal) append(lines []byte) error {
	if j.f == nil {
		return os.ErrClosed
	}
	// Written at the file's offset, not with WriteAt: after a partial
	// write, os.File.WriteAt reports no byte written.
	n, err := j.writeAt(lines, j.size)
	j.written++
	if err != nil && n > 0 {
		// A partial line (the disk filled up past the area) would be
		// glued to the next one, and both lost to readJournal: zeros
		// replace it.
		if _, zerr := j.writeAt(make([]byte, n), j.size); zerr != nil {
			j.size += int64(n)
			j.suspect = true
		}
		return err
	}
	j.size += int64(n)
	return err
}

// writeAt writes b at offset off of the journal file and returns how much of
// b it wrote, also on error.
func (j *journal) writeAt(b []byte, off int64) (int, error) {
	if _, err := j.f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return j.f.Write(b)
}

// sync makes every line appended so far durable. Concurrent calls share
// one sync of the file where they can: a call waits for a sync under way
// and starts another only if its lines were appended after that one began.
func (j *journal) sync() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	target := j.written
	for j.synced < target {
		if j.syncing {
			j.syncDone.Wait()
			continue
		}
		if j.f == nil {
			return os.ErrClosed
		}
		if j.suspect {
			if err := j.rewrite(nil); err != nil {
				return fmt.Errorf("rewrite intent journal after a failed sync: %w", noSpace(err))
			}
			j.suspect = false
			continue
		}
		j.syncing = true
		f, upto := j.f, j.written
		j.mu.Unlock()
		err := syncData(f)
		j.mu.Lock()
		j.syncing = false
		j.syncDone.Broadcast()
		if err != nil {
			// What the failed sync did not write may never be: the open
			// intents are written again, to a new file, before any other
			// sync is trusted.
			j.suspect = j.rewrite(nil) != nil
			return fmt.Errorf("sync intent journal: %w", noSpace(err))
		}
		j.synced = max(j.synced, upto)
	}
	return nil
}

// rewrite replaces the journal by one holding only the open intents,
// durably: the new file is synced before it replaces the old one, and the
// directory after. The new file is next, if not nil: created by
// createJournal, its lines are written over its zeros; else it is created
// here. On a failure before the rename the journal stays as it was (and
// next is removed); after it (the directory's sync), the new file is the
// journal, marked suspect. It is not called while a sync runs.
func (j *journal) rewrite(next *os.File) error {
	if j.f == nil {
		if next != nil {
			next.Close()
			os.Remove(next.Name())
		}
		return os.ErrClosed
	}
	var buf bytes.Buffer
	for _, id := range slices.Sorted(maps.Keys(j.open)) {
		buf.Write(j.open[id])
	}
	tmp := j.path + ".new"
	var f *os.File
	var err error
	if next != nil {
		f, tmp = next, next.Name()
		if _, err = f.WriteAt(buf.Bytes(), 0); err == nil {
			err = syncData(f)
		}
		if err != nil {
			f.Close()
		}
	} else {
		f, err = createJournal(tmp, buf.Bytes())
	}
	if err == nil {
		if err = os.Rename(tmp, j.path); err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	j.f.Close()
	j.f, j.size = f, int64(buf.Len())
	// Until the directory is synced, a power loss may bring the old
	// journal back, which holds the same open intents but not the lines
	// appended from now on.
	if err := storage.SyncDir(filepath.Dir(j.path)); err != nil {
		j.suspect = true
		return err
	}
	j.synced = j.written
	return nil
}

// close closes the journal file, once a rewrite being prepared has ended.
func (j *journal) close() error {
	defer j.preparers.Wait()
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// readJournal returns the intents of the journal at path that have no end,
// in order; a missing journal has none. A torn last line (the crash cut its
// write) is ignored: its store had not put anything yet. So are the zeros
// of the area not written yet, and a line of which a power loss kept only
// the end (its start on a page not written back): it had not been synced,
// and only synced lines are promised to outlive a power loss.
func readJournal(path string) ([]intent, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read intent journal: %w", err)
	}
	defer f.Close()
	open := map[uint64]intent{}
	var order []uint64
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		line = bytes.TrimLeft(line, "\x00")
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var rec journalRecord
			if json.Unmarshal(line, &rec) == nil {
				switch {
				case rec.Done:
					delete(open, rec.ID)
				case rec.Intent != nil:
					open[rec.ID] = *rec.Intent
					order = append(order, rec.ID)
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read intent journal: %w", err)
		}
	}
	var out []intent
	for _, id := range order {
		if in, ok := open[id]; ok {
			out = append(out, in)
			delete(open, id)
		}
	}
	return out, nil
}

// journalPath is the journal of a spool directory.
func journalPath(spoolDir string) string { return filepath.Clean(spoolDir) + journalSuffix }
