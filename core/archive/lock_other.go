//go:build !unix

package archive

import "os"

// lockDir opens the lock file; without flock the exclusion of another
// process is not enforced on this system.
func lockDir(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
}
