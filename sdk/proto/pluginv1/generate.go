// Package pluginv1 is the generated protobuf and gRPC code of the Forge
// PACS plugin protocol, version 1 (proto package forgepacs.plugin.v1,
// plugin.proto). Never edit the generated files: change plugin.proto
// (additively) and run go generate.
package pluginv1

//go:generate sh gen.sh
