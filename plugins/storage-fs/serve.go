package fsstorage

import "github.com/pacsforge/pacs/sdk"

// Version is the plugin's version, reported to the host.
const Version = "0.1.0"

// Plugin describes the plugin process: storage-fs, serving the storage
// kind with instances made by New.
func Plugin() sdk.Plugin {
	return sdk.Plugin{Name: "storage-fs", Version: Version, Storage: sdk.NewStorage(New)}
}

// Serve runs the plugin process (see sdk.Serve) and exits.
func Serve() { sdk.Serve(Plugin()) }
