package index

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pacsforge/pacs/core/dicom"
)

// TestAddAfterCommitsOnceDurable: the record is written while durable runs
// and committed only after it has returned.
func TestAddAfterCommitsOnceDurable(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	ds := smallInstance(t, 1, 1, 1, 1)
	release := make(chan struct{})
	var res Result
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err = ix.AddAfter(ctx, record(ds, 1), func() error {
			<-release
			return nil
		})
	}()
	// Until durable returns, nothing is committed: a reader sees no row.
	time.Sleep(50 * time.Millisecond)
	if n := count(t, ix, "instance"); n != 0 {
		t.Errorf("instances before durable returned = %d, want 0", n)
	}
	close(release)
	<-done
	if err != nil || !res.Stored {
		t.Fatalf("AddAfter() = %+v, %v; want stored", res, err)
	}
	if n := count(t, ix, "instance"); n != 1 {
		t.Errorf("instances after AddAfter = %d, want 1", n)
	}
	checkCounts(t, ix)
}

// TestAddAfterWithdrawn: a record whose object failed is not written, its
// error is returned as it is, and the writes batched with it still commit.
func TestAddAfterWithdrawn(t *testing.T) {
	ctx := context.Background()
	// A batch delay gathers the writes below into one batch with the
	// withdrawn one.
	ix := openTest(t, Options{BatchDelay: 200 * time.Millisecond})
	errSync := errors.New("sync failed")
	release := make(chan struct{})
	var wg sync.WaitGroup
	var afterErr error
	wg.Go(func() {
		// Same series as the others: its rows are rolled back with it.
		_, afterErr = ix.AddAfter(ctx, record(smallInstance(t, 1, 1, 1, 0), 0), func() error {
			<-release
			return errSync
		})
	})
	time.Sleep(20 * time.Millisecond)
	const others = 5
	errs := make([]error, others)
	for i := range others {
		wg.Go(func() {
			_, errs[i] = ix.Add(ctx, record(smallInstance(t, 1, 1, 1, i+1), i+1))
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if !errors.Is(afterErr, errSync) {
		t.Errorf("AddAfter() error = %v, want %v", afterErr, errSync)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Add(%d) error = %v", i+1, err)
		}
	}
	if n := count(t, ix, "instance"); n != others {
		t.Errorf("instances = %d, want %d", n, others)
	}
	if _, err := ix.Instance(ctx, "1.2.3.1.1.1.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Instance(withdrawn) error = %v, want ErrNotFound", err)
	}
	checkCounts(t, ix)
	if st := ix.Stats(); st.Batches != 1 {
		t.Logf("Stats() = %+v: the writes were not batched together; the retry was not exercised", st)
	}
}

// TestAddAfterClosed: on a closed index durable still runs, to its end, and
// the index's error is returned.
func TestAddAfterClosed(t *testing.T) {
	ix := openTest(t, Options{})
	ix.Close()
	called := false
	_, err := ix.AddAfter(context.Background(), record(smallInstance(t, 1, 1, 1, 1), 1), func() error {
		time.Sleep(10 * time.Millisecond)
		called = true
		return nil
	})
	if !errors.Is(err, ErrClosed) || !called {
		t.Errorf("AddAfter() on a closed index = %v, durable returned %v; want ErrClosed, returned", err, called)
	}
}

// TestReplacingHook: under DuplicateOverwrite the caller hears of the
// replaced instance before the write commits.
func TestReplacingHook(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	ds := smallInstance(t, 1, 1, 1, 1)
	if _, err := ix.Add(ctx, record(ds, 1)); err != nil {
		t.Fatal(err)
	}
	rec := record(ds, 2)
	var got []Location
	rec.Replacing = func(prev Location) error {
		got = append(got, prev)
		return nil
	}
	res, err := ix.Add(ctx, rec)
	if err != nil || !res.Existed {
		t.Fatalf("Add(duplicate) = %+v, %v", res, err)
	}
	if len(got) != 1 || got[0].Key != record(ds, 1).Key || got[0] != res.Previous {
		t.Errorf("Replacing got %+v, want once %+v", got, res.Previous)
	}
	// Keep and Reject replace nothing.
	for _, p := range []DuplicatePolicy{DuplicateKeep, DuplicateReject} {
		rec := record(ds, 3)
		rec.Duplicate = p
		rec.Replacing = func(prev Location) error {
			t.Errorf("Replacing called under policy %d", p)
			return nil
		}
		ix.Add(ctx, rec)
	}
	// An error fails the write, which changes nothing.
	rec = record(ds, 4)
	errJournal := errors.New("journal full")
	rec.Replacing = func(Location) error { return errJournal }
	if _, err := ix.Add(ctx, rec); !errors.Is(err, errJournal) {
		t.Errorf("Add() with a failing Replacing = %v, want %v", err, errJournal)
	}
	if info, err := ix.Instance(ctx, ds.String(dicom.SOPInstanceUID)); err != nil || info.Key != record(ds, 2).Key {
		t.Errorf("Instance() after the failed replacement = %+v, %v; want key %s", info, err, record(ds, 2).Key)
	}
}

// TestAddAfterLate: a caller slow to make its object durable holds up its
// own write only; writes queued after it commit meanwhile, and it commits
// once ready.
func TestAddAfterLate(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t, Options{})
	release := make(chan struct{})
	slowDone := make(chan error, 1)
	go func() {
		_, err := ix.AddAfter(ctx, record(smallInstance(t, 1, 1, 1, 0), 0), func() error {
			<-release
			return nil
		})
		slowDone <- err
	}()
	// Wait until the slow write is queued or running: an instance of the
	// same series is then written after it.
	time.Sleep(20 * time.Millisecond)
	fastDone := make(chan error, 1)
	go func() {
		_, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 1), 1))
		fastDone <- err
	}()
	select {
	case err := <-fastDone:
		if err != nil {
			t.Fatalf("Add() error = %v", err)
		}
	case <-time.After(30 * time.Second):
		close(release)
		t.Fatal("Add() waited for an unrelated caller's object")
	}
	// Once put off, the slow write stays out of the batches until it is
	// ready: the writes that follow are not held up, nor rolled back.
	const more = 20
	for i := range more {
		if _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 2+i), 2+i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := ix.lateBatches.Load(); n > 1 {
		t.Errorf("%d batches rolled back for the slow write, want at most 1", n)
	}
	if n := count(t, ix, "instance"); n != 1+more {
		t.Errorf("instances while the slow write waits = %d, want %d", n, 1+more)
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatalf("AddAfter() error = %v", err)
	}
	if n := count(t, ix, "instance"); n != 2+more {
		t.Errorf("instances at the end = %d, want %d", n, 2+more)
	}
	checkCounts(t, ix)
}

// TestLoggedWrites: a batch of only logged writes commits with
// synchronous=NORMAL, any batch with another write with FULL; SyncLog syncs
// the log of the logged ones, and every write is there after a reopen.
func TestLoggedWrites(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/index.db"
	ix, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The writer's one connection is the committer's only during a batch.
	mode := func() string {
		t.Helper()
		var m int
		if err := ix.writer.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&m); err != nil {
			t.Fatal(err)
		}
		return [...]string{"OFF", "NORMAL", "FULL", "EXTRA"}[m]
	}
	durable := func() error { return nil }
	logged := func(i int) InstanceRecord {
		rec := record(smallInstance(t, 1, 1, 1, i), i)
		rec.Logged = true
		return rec
	}
	steps := []struct {
		name string
		add  func() error
		want string
	}{
		{"logged AddAfter", func() error { _, err := ix.AddAfter(ctx, logged(1), durable); return err }, "NORMAL"},
		{"Add", func() error { _, err := ix.Add(ctx, record(smallInstance(t, 1, 1, 1, 2), 2)); return err }, "FULL"},
		{"logged AddAfter again", func() error { _, err := ix.AddAfter(ctx, logged(3), durable); return err }, "NORMAL"},
		{"AddAfter, not logged", func() error {
			_, err := ix.AddAfter(ctx, record(smallInstance(t, 1, 1, 1, 4), 4), durable)
			return err
		}, "FULL"},
		{"logged AddAfter, last", func() error { _, err := ix.AddAfter(ctx, logged(5), durable); return err }, "NORMAL"},
	}
	for _, s := range steps {
		if err := s.add(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := mode(); got != s.want {
			t.Errorf("after %s, synchronous = %s, want %s", s.name, got, s.want)
		}
	}
	if err := ix.SyncLog(); err != nil {
		t.Fatalf("SyncLog() = %v", err)
	}
	ix.Close()
	if ix, err = Open(ctx, path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n := count(t, ix, "instance"); n != len(steps) {
		t.Errorf("instances after reopening = %d, want %d", n, len(steps))
	}
}
