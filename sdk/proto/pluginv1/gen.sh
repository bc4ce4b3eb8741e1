#!/bin/sh
# Regenerates plugin.pb.go and plugin_grpc.pb.go from plugin.proto with
# pinned generators, built into a temporary directory outside the module so
# that go.mod is not touched. Needs protoc (3.21 or newer) on PATH.
set -eu
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

cd "$(dirname "$0")"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$bin" && GOFLAGS= GOBIN="$bin" go install "$PROTOC_GEN_GO" && GOFLAGS= GOBIN="$bin" go install "$PROTOC_GEN_GO_GRPC")
PATH="$bin:$PATH" protoc -I . \
	--go_out=. --go_opt=paths=source_relative \
	--go-grpc_out=. --go-grpc_opt=paths=source_relative \
	plugin.proto
