// Package plugins measures the cost of the storage plugin boundary. run.sh
// drives dcmtk storescu into pacs serve with the filesystem backend in
// process, the same backend as a plugin process, and the S3 plugin against
// VersityGW; the benchmarks of this package's tests put one CT-sized object
// (525,068 bytes) through each layer on its own: core/storage.FS directly,
// the storage-fs plugin over gRPC in the same process (sdk/plugintest), and
// the plugin executable in a process of its own, with and without
// AutoMTLS, reporting the CPU time of both processes per object:
//
//	go test -run '^$' -bench . -benchtime 200x ./bench/plugins/
//
// BENCH_PLUGIN_DIR sets the directory the objects are written to (default:
// a temporary directory; /dev/shm leaves out the disk and its syncs).
// Results: RESULTS.md.
package plugins
