// Command pacs-plugin-storage-fs is the filesystem storage backend as a
// plugin executable: the archive starts it and talks to it over the plugin
// protocol. Started by hand, it says so and exits.
package main

import fsstorage "github.com/pacsforge/pacs/plugins/storage-fs"

func main() { fsstorage.Serve() }
