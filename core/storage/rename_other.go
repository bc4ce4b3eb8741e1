//go:build !linux

package storage

import "errors"

// renameNoReplace is not available here: callers find out first whether
// newpath is taken.
func renameNoReplace(oldpath, newpath string) error { return errors.ErrUnsupported }
