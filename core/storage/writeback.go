package storage

import "os"

// WritebackChunk is how many bytes a WritebackWriter lets accumulate
// before it asks the kernel to start writing them to the device.
const WritebackChunk = 256 << 10

// WritebackWriter writes a new file sequentially and, after every
// WritebackChunk bytes, asks the kernel to start writing those bytes back
// to the device without waiting for it (sync_file_range on Linux; nothing
// elsewhere). The device then writes an object while the rest of it
// arrives, and the sync that makes the file durable waits for the last
// chunk instead of the whole file: for a 0.5 MB CT slice received over the
// network that removes most of the sync's wait. It does not make anything
// durable by itself; the caller still syncs the file.
type WritebackWriter struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose writeback was started
}

// NewWritebackWriter returns a WritebackWriter appending to f from its
// current offset, which must be 0 (a new file).
func NewWritebackWriter(f *os.File) *WritebackWriter { return &WritebackWriter{f: f} }

// Write writes p to the file.
func (w *WritebackWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= WritebackChunk {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
