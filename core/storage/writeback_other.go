//go:build !linux

package storage

import "os"

// startWriteback does nothing where sync_file_range does not exist: the
// sync that follows writes everything.
func startWriteback(*os.File, int64, int64) {}

// dropCached does nothing where posix_fadvise is not used.
func dropCached(*os.File) {}
