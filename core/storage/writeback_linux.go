package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off
// back to the device, and does not wait. A failure is not reported: the
// sync that follows reports what matters.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}

// dropCached asks the kernel to drop f's pages from the page cache (see FS).
// Called on a file just synced, whose pages are all clean, it frees them at
// once; a failure changes nothing but the cache, and is not reported.
func dropCached(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED)
	})
}
