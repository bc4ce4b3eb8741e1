// Package parsers is the benchmark harness that compares Forge PACS's DICOM
// parser with other Go DICOM parsers on the same files. It lives in its own Go
// module so that nothing it needs reaches the main module's go.mod, and so
// that `go test ./...` at the repository root does not run it.
//
// A parser is described by a Parser value; Full and Header run one
// sub-benchmark per parser and fixture, named <parser>/<fixture>, so that
// results from several modules line up. Another parser is compared by a
// module outside this repository that imports this package and runs its own
// BenchmarkFull and BenchmarkHeader with the same names (see bench/README.md).
package parsers
