package storage

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// IsTempName reports whether name, the last element of a path under an FS
// root, is the temporary file of a Put in progress or cut off. FS.List
// skips such files, so a key whose last element is such a name could be
// stored but never listed.
func IsTempName(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// createTemp creates a new file in dir, named prefix and a random suffix,
// open for reading and writing, as os.CreateTemp does but with openFile.
func createTemp(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := openFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		return f, err
	}
}
