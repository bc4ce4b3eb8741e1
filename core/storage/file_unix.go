//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// openFile is os.OpenFile without the attempt to register the file with
// the runtime's network poller, which fails for a regular file or a
// directory after an epoll_ctl and four fcntl system calls: one fcntl is
// left (os.NewFile's). Stores open a few files each.
func openFile(name string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}

// syncDir syncs a directory, so that the names just made in it are durable.
func syncDir(dir string) error {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	for {
		err = syscall.Fsync(fd)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if cerr := syscall.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return &os.PathError{Op: "sync", Path: dir, Err: err}
	}
	return nil
}
