// Package sdk is what a Forge PACS plugin imports: the interfaces of the
// three plugin kinds (storage backends, SOP handlers, scheduled tasks), the
// types they exchange with the archive, and Serve, which runs a plugin
// process for the host (hashicorp/go-plugin over gRPC, protocol version
// ProtocolVersion).
//
// A plugin process serves one or more kinds. For each configured instance
// (a storage block, a sop_handler block, a task block naming the plugin) the
// host decodes the block's config { } body against the schema the plugin
// declares, with the config struct's hcl tags, and hands the decoded value to
// the kind's factory, which returns the instance's implementation.
//
// Errors: return the sentinels of this package (ErrNotFound,
// ErrInsufficientSpace, ErrUnavailable, ErrInvalidConfig), wrapped as you
// like; the host maps them to DICOM statuses. Any other error is a
// processing failure.
//
// Data sets are core/dicom's Dataset, the archive's own data model.
package sdk
