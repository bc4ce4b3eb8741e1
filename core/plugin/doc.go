// Package plugin runs the archive's plugin processes: it verifies each
// executable's SHA-256 before starting it, launches it with
// hashicorp/go-plugin over gRPC (AutoMTLS, the handshake and protocol
// versions of sdk/rpc), folds its log into the host's under
// plugin.<name>, configures every instance a site's config names
// (storage and sop_handler blocks), checks its health, and restarts it
// with exponential back-off when it crashes or hangs.
//
// Every call crosses a per-plugin semaphore (max_concurrency) and carries
// a deadline (call_timeout; for streams, an idle timeout between chunks).
// A call in flight when its plugin process dies fails at once with
// ErrPluginDown; one past its deadline fails with ErrCallTimeout, and
// HungAfter such overruns in a row mark the plugin hung: it is killed and
// restarted.
//
// Storage instances are adapted to core/storage's Backend (Manager.Storage):
// sdk.ErrNotFound becomes storage.ErrNotFound, sdk.ErrInsufficientSpace
// storage.ErrInsufficientSpace, and an unreachable plugin or backend a
// *storage.UnavailableError, which the DICOM services answer with A700.
package plugin
