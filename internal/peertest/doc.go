// Package peertest helps tests that need a real peer: an external program such
// as dcmtk's dcmdump or storescu, or the shared corpus of real DICOM files.
//
// A missing peer is a loud skip on a developer's machine and a failure under
// CI (environment variable CI=true), so that continuous integration never
// passes by skipping. Peers are installed by scripts/install-peers.sh, which
// `make test` runs first.
package peertest
