// Package archive is the archive's ingest path: it receives an instance as a
// stream, checks it, stores the object in a storage backend and indexes it,
// and owns the rule that neither a stored object without an index row nor a
// row without its object is ever left behind.
//
// Store spools the data set to a local file (File Meta Information first,
// then the data set bytes exactly as received, never re-encoded), reads the
// header from the spool, validates it against the request, applies the
// duplicate policy, puts the object into the backend (atomic and durable),
// then adds the index row (group commit, durable on return). It returns nil
// only after both are durable. Errors are plain Go errors: the service edge
// maps them to DIMSE statuses (see the sentinels).
package archive
