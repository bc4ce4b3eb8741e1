package storage

import "strings"

// IsTempName reports whether name, the last element of a path under an FS
// root, is the temporary file of a Put in progress or cut off. FS.List
// skips such files, so a key whose last element is such a name could be
// stored but never listed.
func IsTempName(name string) bool { return strings.HasPrefix(name, tempPrefix) }
