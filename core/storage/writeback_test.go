package storage

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestWritebackWriter: what a WritebackWriter writes, in pieces of any
// size, is the file, and writeback was started for all but less than a chunk of it.
func TestWritebackWriter(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "obj"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 3*WritebackChunk+12345)
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	w := NewWritebackWriter(f)
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 1+rng.IntN(100<<10))
		if m, err := w.Write(rest[:n]); m != n || err != nil {
			t.Fatalf("Write = %d, %v; want %d", m, err, n)
		}
		rest = rest[n:]
	}
	if w.off-w.started >= WritebackChunk || w.started < 2*WritebackChunk || w.off != int64(len(want)) {
		t.Errorf("started %d, written %d of %d", w.started, w.off, len(want))
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes (%v), not what was written", len(got), err)
	}
}
