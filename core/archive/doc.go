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
//
// On a filesystem backend in this process (storage.FileStager) the data set
// is received straight into a file staged on the backend, and committed in
// place: the file is renamed under its key only if the key is free (a taken
// key means a likely duplicate, and the index is asked first, as for other
// backends), and the index writes the row while the object is synced, and
// commits it only once the object is durable (index.AddAfter). A duplicate
// under another key is decided by the index inside its write; an object it
// replaces is recorded in the intent journal before the commit.
//
// Such a store waits for one device flush, not two in turn. Its intent
// journal entry (the key, size, SHA-256 and reception time of the object)
// is synced together with the object and its directory, and is then the
// durable record of the row: the row commits without a sync of the index's
// log (index.InstanceRecord.Logged), and the entry stays open until the
// index has synced its log, 100 ms later at most. After a power loss,
// recovery indexes the object of an open entry again if the index lost its
// row, the object is whole and no later store replaced it.
//
// A small object (at most 16 KiB, see maxJournaled) on a backend that can
// sync its whole file system (storage.FSSyncer) is journaled: its entry
// holds the object's bytes too, and the entry's sync is the store's only
// one. The object and its directory are left unsynced; before the entry
// ends, one sync of the file system makes every such object durable, and
// recovery writes the object again from the entry if a power loss took it.
//
// So the promise holds after kill -9 and after a power loss alike: an
// acknowledged instance is indexed and retrievable once the archive has
// started again.
package archive
