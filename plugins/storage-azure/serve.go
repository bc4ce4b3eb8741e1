package azurestorage

import "github.com/pacsforge/pacs/sdk"

// Name is the plugin's name, and the backend name of a storage block
// served by it.
const Name = "storage-azure"

// Version is the plugin's version.
const Version = "0.1.0"

// Plugin describes the plugin: the storage kind with New as its factory.
func Plugin() sdk.Plugin {
	return sdk.Plugin{Name: Name, Version: Version, Storage: sdk.NewStorage[Config](New)}
}

// Serve runs the plugin process for the host (sdk.Serve) and returns when
// the host stops it.
func Serve() { sdk.Serve(Plugin()) }
