// Package storagetest is the conformance suite of sdk.Storage: every storage
// backend, in process or behind the plugin protocol, must pass Run.
//
// The contract it checks, beyond the doc comments of sdk.Storage:
//
//   - Put returns the stored size and the lower-case hex SHA-256 of the bytes
//     read, with size -1 (unknown) as with the size given. A reader that
//     yields more or fewer bytes than a size given is an error. Put replaces
//     an existing object.
//   - Put is atomic: after an error (the reader failing, a size mismatch, ctx
//     cancelled before or during the copy, even while the reader blocks),
//     nothing is visible under the key (Get, Stat and List) and an object
//     stored before under the key is unchanged. A Put whose ctx is cancelled
//     returns an error even if its reader goes on yielding bytes.
//   - Get(key, offset, length) returns bytes [offset, offset+length) cut at
//     the end of the object; length < 0 reads to the end; an offset at or
//     past the end, or length 0, gives an empty reader (not an error). A
//     cancelled ctx gives an error.
//   - Stat gives the size, a plausible ModTime and, when the backend keeps
//     it (Options.KeepsSHA256), the SHA-256; a digest Stat or List gives is
//     checked either way. ObjectInfo.Key, when set, is the full key.
//   - Get, Stat and Delete of a key holding no object give an error matching
//     sdk.ErrNotFound with errors.Is, including a key that is a "directory"
//     (a proper prefix ending before a '/') of stored keys and a key below a
//     stored object. Delete removes only its key.
//   - List returns the objects whose keys start with prefix (a plain string
//     prefix, not only whole path elements) in lexical byte order, with each
//     page at most pageSize long, following NextPageToken until it is "",
//     without duplicates or gaps.
//   - Concurrent Puts and Gets of distinct and of the same keys are safe; a
//     Get always returns one whole version of an object, never a mix.
//   - Objects of DefaultLargeSize (24 MiB, past the 1 MiB chunks of the
//     plugin protocol and common multipart and block sizes) survive whole and
//     ranged reads; zero-length objects too.
//   - Keys may hold spaces, '+', '%', '#', '?', '&', '=', ':', '@', quotes,
//     brackets, non-ASCII letters, a leading dot, and be sdk.MaxKeyLength bytes.
//
// Every subtest calls the factory for its own sdk.Storage and writes only
// under a key prefix unique to the run and the subtest, so backends that
// share a bucket or container between subtests (or between runs) pass; each
// subtest deletes what it stored when it ends.
//
// Memory is a small in-memory sdk.Storage that passes the suite, for tests
// of code built on sdk.Storage.
package storagetest
