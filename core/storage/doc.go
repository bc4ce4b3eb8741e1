// Package storage declares the archive's storage backends: the Backend
// interface through which stored objects are written and read by opaque keys,
// the key layouts that turn an instance's UIDs into a key, and FS, the
// built-in filesystem backend ("fs").
//
// Keys are '/'-separated paths relative to a backend's root. ValidKey refuses
// any key that could leave the root or be read differently on another
// system: empty components, "." and "..", a leading '/', a backslash or NUL.
// Every backend checks its keys with ValidKey before touching anything.
package storage
