// Package config is the site configuration of Forge PACS: the HCL schema
// (gohcl structs), the zero-config defaults, and validation that reports
// every mistake at once with its file, line and column.
//
// A site file is decoded strictly: an unknown attribute or block is an
// error. Absent attributes and blocks take the values of Default, the
// zero-config archive (SQLite and filesystem storage under ./pacs-data, AE
// title FORGE, DICOM on port 11112 of every interface, HTTP on
// 127.0.0.1:8042), so an empty file is a valid configuration.
//
// Expressions are evaluated in a small, explicit context: env("NAME")
// returns an environment variable (an error when it is unset) and
// env("NAME", "fallback") returns fallback instead; lower, upper and
// trimspace transform strings. Nothing reads files or the network.
//
// Durations ("30s", "5m"), ages ("30d", "12h", "1y") and sizes ("64KiB",
// "16MB", or a plain number of bytes; the syntax of sdk.ParseSize, shared
// with the plugins) are strings checked by validation; the typed values are
// returned by methods such as DICOM.Timeouts.
//
// The config {} body of a storage block belongs to its backend: it is kept
// as an hcl.Body and decoded later against the backend's schema, so its
// mistakes still point at the site's file. The built-in "fs" backend is
// decoded here (DecodeFS); other backends are left for their plugins.
//
// Adding a block kind (plugin, task, sop_handler) is a struct in its own
// file with a validate method, a field of Config, a call in Config.validate
// and its lines in Encode.
package config
