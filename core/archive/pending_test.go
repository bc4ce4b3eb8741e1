package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
)

// lostAnswer is a backend whose puts write the object and then fail as
// unavailable while lose is set (the answer lost with a plugin process
// that died or hung), and whose deletes fail as unavailable while down is
// set.
type lostAnswer struct {
	fs         *storage.FS
	lose, down atomic.Bool
}

// lostAnswer is a plain Backend (not a storage.Stager, so puts go through
// Put, as to a plugin).
var _ storage.Backend = (*lostAnswer)(nil)

func (b *lostAnswer) ID() string { return b.fs.ID() }

func (b *lostAnswer) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return b.fs.Get(ctx, key)
}

func (b *lostAnswer) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	return b.fs.Stat(ctx, key)
}

func (b *lostAnswer) Put(ctx context.Context, key string, r io.Reader) (int64, string, error) {
	n, sum, err := b.fs.Put(ctx, key, r)
	if err == nil && b.lose.Load() {
		return 0, "", &storage.UnavailableError{Backend: b.ID(), Err: errors.New("plugin is not running")}
	}
	return n, sum, err
}

func (b *lostAnswer) Delete(ctx context.Context, key string) error {
	if b.down.Load() {
		return &storage.UnavailableError{Backend: b.ID(), Err: errors.New("plugin is not running")}
	}
	return b.fs.Delete(ctx, key)
}

// newLostAnswerFixture is newFixture with its archive over a lostAnswer
// backend that loses the answers of puts and refuses deletes.
func newLostAnswerFixture(t *testing.T) (*fixture, *lostAnswer) {
	t.Helper()
	fx := newFixture(t, index.DuplicateOverwrite)
	opt := fx.arc.opt
	fx.arc.Close()
	b := &lostAnswer{fs: fx.store}
	b.lose.Store(true)
	b.down.Store(true)
	opt.Storage = b
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	fx.arc = a
	return fx, b
}

// spoolEntries counts the files of the spool directory and the intents the
// archive keeps pending.
func spoolEntries(t *testing.T, fx *fixture) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(fx.dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	n := len(ents)
	fx.arc.pendMu.Lock()
	defer fx.arc.pendMu.Unlock()
	return n + len(fx.arc.pending)
}

// TestUncertainPutRemoved: a put that wrote its object but failed as
// unavailable leaves the object until the backend answers again; then the
// cleanup removes it and ends its intent.
func TestUncertainPutRemoved(t *testing.T) {
	ctx := context.Background()
	fx, b := newLostAnswerFixture(t)
	req, data := sample(t)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Store() = %v, want ErrUnavailable", err)
	}
	if got := fx.objects(t); len(got) != 1 {
		t.Fatalf("objects after the failed put = %q, want the one it wrote", got)
	}
	fx.arc.cleanupPending(ctx)
	if got, n := fx.objects(t), spoolEntries(t, fx); len(got) != 1 || n != 1 {
		t.Errorf("backend down: objects = %q and %d spool files, want the object kept and its intent pending", got, n)
	}
	b.down.Store(false)
	fx.arc.cleanupPending(ctx)
	if got, n := fx.objects(t), spoolEntries(t, fx); len(got) != 0 || n != 0 {
		t.Errorf("backend up: objects = %q and %d spool files, want none", got, n)
	}
}

// TestUncertainPutStoredAgain: when the instance is stored again under the
// same key before the cleanup runs, the cleanup keeps the object the index
// now references.
func TestUncertainPutStoredAgain(t *testing.T) {
	ctx := context.Background()
	fx, b := newLostAnswerFixture(t)
	req, data := sample(t)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Store() = %v, want ErrUnavailable", err)
	}
	b.lose.Store(false)
	b.down.Store(false)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	fx.arc.cleanupPending(ctx)
	info, err := fx.ix.Instance(ctx, req.SOPInstanceUID)
	if err != nil {
		t.Fatal(err)
	}
	if got := fx.objects(t); len(got) != 1 || got[0] != info.Key {
		t.Errorf("objects = %q, want the indexed %s kept", got, info.Key)
	}
	if n := spoolEntries(t, fx); n != 0 {
		t.Errorf("%d spool files left, want none", n)
	}
}

// TestUncertainPutRecovered: an object the cleanup could not remove before
// Close is removed by the recovery of the next start.
func TestUncertainPutRecovered(t *testing.T) {
	ctx := context.Background()
	fx, b := newLostAnswerFixture(t)
	req, data := sample(t)
	if err := fx.arc.Store(ctx, req, bytes.NewReader(data)); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Store() = %v, want ErrUnavailable", err)
	}
	opt := fx.arc.opt
	if err := fx.arc.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fx.objects(t); len(got) != 1 {
		t.Fatalf("objects after Close with the backend down = %q, want the one left", got)
	}
	b.down.Store(false)
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fx.arc = a
	if got, n := fx.objects(t), spoolEntries(t, fx); len(got) != 0 || n != 0 {
		t.Errorf("after the restart: objects = %q and %d spool files or pending intents, want none", got, n)
	}
}
