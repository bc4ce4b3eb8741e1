// Package azurestorage is the "azure" storage backend: objects are block
// blobs in one Azure Blob Storage container, under an optional prefix,
// through the official Azure SDK for Go (azblob).
//
// Put sends an object up to block_size in one request and a larger one as
// blocks staged in parallel and committed by one Put Block List, reading the
// stream once with bounded memory (concurrency x block_size) and recording
// the object's SHA-256 in the blob's metadata (sha256). Either way a blob
// appears whole or not at all. Get reads ranges; a blob in the Archive
// access tier cannot be read before it is rehydrated, and Get says so.
//
// Errors carry the sdk sentinels: ErrNotFound for a missing blob,
// ErrUnavailable for a service that cannot be reached, is busy or fails
// (after the Azure SDK's own retries), ErrInsufficientSpace for an account
// or blob limit reached.
//
// Serve runs the backend as a plugin process; cmd/pacs-plugin-storage-azure
// is its executable, and the pacs binary serves it too.
package azurestorage
