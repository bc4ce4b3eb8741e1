package storage

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

var _ FSSyncer = (*FS)(nil)

// SyncFS syncs the file system of the root with syncfs(2) (see FSSyncer):
// one call writes back every dirty file and directory of that file system,
// the backend's or not, and waits for the device. Since Linux 5.8 it
// reports a write-back error of any file there since the last call.
func (b *FS) SyncFS() error {
	d, err := os.Open(b.root)
	if err != nil {
		return fmt.Errorf("sync file system of %s: %w", b.id, err)
	}
	defer d.Close()
	for {
		err = unix.Syncfs(int(d.Fd()))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("sync file system of %s: %w", b.id, mapSpace(err))
	}
	return nil
}
