// Package index is the archive's catalogue: patients, studies, series and
// instances in an embedded SQLite database (modernc.org/sqlite, WAL), the
// storage location of every instance, its non-bulk attributes as DICOM JSON,
// and C-FIND matching (PS3.4 C.2.2.2) translated to SQL.
//
// # Connections and durability
//
// An Index holds one writer connection, used only by its committer goroutine,
// and a pool of read-only connections for lookups and queries. Concurrent
// writes (Add, Delete) are queued to the committer, which groups them into one
// transaction (group commit): a batch closes when it holds Options.MaxBatch
// operations, or when the queue is empty (optionally after waiting
// Options.BatchDelay for more). Each caller gets its own result after COMMIT
// returned. The writer runs with synchronous=FULL, so in WAL mode a COMMIT
// syncs the log to stable storage before it returns: an acknowledged Add
// survives kill -9 and power loss. One fsync is shared by the whole batch,
// which is what makes FULL affordable. (synchronous=NORMAL would be safe
// against a process crash but could lose the last batches on power loss; it is
// offered as Options.Synchronous for tests and throwaway archives.)
//
// One kind of write is exempt: a record added with AddAfter and marked
// Logged, whose caller has made both the object and a journal entry naming
// it durable before the commit. Such an entry is a write-ahead record of the
// row, since the row can be built again from the object; a batch of only
// logged writes therefore commits with synchronous=NORMAL, and its caller
// keeps the entry until SyncLog, called periodically, has synced the log.
// After a power loss, the caller's recovery writes again the rows the index
// lost. A single store then waits for one device flush instead of two.
//
// # Schema and portability
//
// The schema is created and moved forward by ordered migrations recorded in
// schema_migrations; Open applies the missing ones and refuses a database
// whose schema is newer than this code (ErrSchemaTooNew). The SQL is kept to
// what PostgreSQL also accepts, with these documented exceptions, each
// confined to one place: "INTEGER PRIMARY KEY" row ids (BIGINT GENERATED ...
// AS IDENTITY there), "?" placeholders ($n there), the connection pragmas in
// dsn, and LIKE being case-sensitive (PRAGMA case_sensitive_like on SQLite,
// the default on PostgreSQL). Times are stored as integer nanoseconds since
// the Unix epoch, UTC.
//
// # Matching
//
// Find translates the keys of a C-FIND identifier into SQL conditions on
// indexed, normalised columns (see columns.go for the set, chosen from the
// required, unique and commonly queried keys of PS3.4 C.6.1.1 and C.6.2.1).
// Keys without a column are matched in Go against the stored DICOM JSON of the
// entity's newest instance after the SQL pre-filter. Supported: single value,
// list of UIDs, universal, wildcard (* and ?) for the text VRs that allow it,
// date, time and date-time ranges, combined date-time matching of
// (Study Date, Study Time) on request, empty value matching (""), and
// sequence matching with one item (in Go). Results are streamed; cancelling
// the context stops the iteration (C-CANCEL).
//
// All text in the index is UTF-8; a returned data set whose text is not ASCII
// carries Specific Character Set "ISO_IR 192".
package index
