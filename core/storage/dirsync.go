package storage

import "sync"

// dirSyncer shares directory syncs between concurrent writers. A writer
// that renamed a file into a directory needs a sync of that directory that
// starts after its rename. While a sync of a directory runs, the writers
// arriving meanwhile all wait for one next sync, run by the writer that ran
// the first, instead of one sync each: objects of one series land in one
// directory, so concurrent stores of a study share their directory syncs.
type dirSyncer struct {
	mu   sync.Mutex
	dirs map[string]*dirSync // directories with a sync running
}

// dirSync is a directory with a sync running.
type dirSync struct {
	waiting *syncRound // the next sync, for the writers that arrived since
}

// syncRound is one sync shared by the writers that joined it.
type syncRound struct {
	done chan struct{}
	err  error
}

// sync syncs dir, or joins the next sync of it, and returns its error.
func (s *dirSyncer) sync(dir string) error {
	s.mu.Lock()
	if s.dirs == nil {
		s.dirs = map[string]*dirSync{}
	}
	if d := s.dirs[dir]; d != nil {
		r := d.waiting
		if r == nil {
			r = &syncRound{done: make(chan struct{})}
			d.waiting = r
		}
		s.mu.Unlock()
		<-r.done
		return r.err
	}
	d := &dirSync{}
	s.dirs[dir] = d
	s.mu.Unlock()
	err := syncDir(dir)
	// Run the rounds the others queued while a sync ran, until none is
	// left.
	for {
		s.mu.Lock()
		r := d.waiting
		d.waiting = nil
		if r == nil {
			delete(s.dirs, dir)
			s.mu.Unlock()
			return err
		}
		s.mu.Unlock()
		r.err = syncDir(dir)
		close(r.done)
	}
}

// SyncDir syncs the directory dir, so that the names created, renamed or
// removed in it survive a power loss.
func SyncDir(dir string) error { return syncDir(dir) }
