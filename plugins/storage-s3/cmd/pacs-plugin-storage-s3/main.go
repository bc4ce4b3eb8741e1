// Command pacs-plugin-storage-s3 is the S3 storage backend of Forge PACS as
// a plugin executable, started by the archive (not by hand) for storage
// blocks with backend = "s3".
package main

import s3storage "github.com/pacsforge/pacs/plugins/storage-s3"

func main() { s3storage.Serve() }
