// Command pacs-plugin-storage-azure is the Azure Blob storage backend as a
// plugin executable; the archive launches it. The pacs binary serves the
// same plugin itself, so a site needs this executable only to run the
// backend from a plugin directory.
package main

import azurestorage "github.com/pacsforge/pacs/plugins/storage-azure"

func main() { azurestorage.Serve() }
