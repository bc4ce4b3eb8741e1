package storage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestDropCached: an object synced by SyncPlaced or by Put leaves no pages
// in the page cache, and still reads back whole.
func TestDropCached(t *testing.T) {
	ctx := context.Background()
	b := testFS(t)
	root := b.Root()
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		t.Skip("the test directory is on tmpfs, whose pages are the files themselves")
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB

	f := staged(t, b, string(data))
	if err := b.PlaceFile(ctx, f, "1.2/1.2.3/placed.dcm", false); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncPlaced(f, "1.2/1.2.3/placed.dcm", nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Put(ctx, "1.2/1.2.3/put.dcm", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"1.2/1.2.3/placed.dcm", "1.2/1.2.3/put.dcm"} {
		p := filepath.Join(root, filepath.FromSlash(key))
		if n := residentPages(t, p); n != 0 {
			t.Errorf("%s: %d pages still cached after the sync", key, n)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: read back %d bytes, %v", key, len(got), err)
		}
	}
}

// residentPages counts the pages of the file at p in the page cache.
func residentPages(t *testing.T, p string) int {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(fi.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}
