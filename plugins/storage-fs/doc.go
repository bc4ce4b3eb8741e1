// Package fsstorage is the filesystem storage backend served as a plugin
// ("storage-fs"): the archive's embedded backend, core/storage.FS, out of
// process. Each object is a file under the instance's root, its key the
// file's path relative to the root; Put writes a temporary file, syncs it,
// renames it over the key and syncs the directory, so an object is either
// absent or whole, even after a crash.
//
// Beyond core/storage.FS it reads ranges, lists in lexical key order with
// page tokens (the last key of the page), and answers sdk.ErrNotFound for
// keys that name a directory or lie below an object. It does not keep
// objects' SHA-256: Stat and List leave it empty.
//
// New builds an instance in process; Serve runs the plugin process, which
// cmd/pacs-plugin-storage-fs is.
package fsstorage
