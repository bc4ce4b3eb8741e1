// Package s3storage is the storage backend for Amazon S3 and S3-compatible
// object stores (MinIO, Ceph RGW, VersityGW and others), built on the
// official AWS SDK for Go v2. It implements sdk.Storage; Serve runs it as the
// plugin "storage-s3", and the pacs binary can serve it itself.
//
// Objects are stored under the configured key prefix. An object smaller
// than part_size is written with one PutObject; a larger one is streamed in
// a multipart upload of part_size parts, concurrency of them in flight, so
// at most concurrency × part_size bytes are held in memory whatever the
// object's size. A failed or cancelled multipart upload is aborted, so
// nothing of it stays visible or billed. Every object carries its SHA-256
// as user metadata (x-amz-meta-sha256), which Stat returns.
//
// Credentials are the configured access_key_id and secret_access_key, else
// the default AWS credential chain (environment, shared files, web
// identity, container and instance roles). They are never logged.
package s3storage
