# Forge PACS. `make test` is what CI runs (.ci/run) and what a contributor runs
# before pushing. Targets: test vet fmtcheck peers unit fuzz-smoke fuzz-long
# bench generate build.

SHELL := /bin/bash
export GOFLAGS := -buildvcs=false

GO       ?= go
FUZZTIME ?= 5s

.PHONY: test vet fmtcheck peers unit fuzz-smoke fuzz-long bench generate build

## test: everything CI checks: vet, formatting, peers, unit tests, a short fuzz pass.
test: vet fmtcheck peers unit fuzz-smoke

## vet: go vet over the module.
vet:
	$(GO) vet ./...

## fmtcheck: fail listing every tracked .go file that gofmt would change.
fmtcheck:
	@files=$$(git ls-files -- '*.go' | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt needed on:"; echo "$$files"; exit 1; fi

## peers: install the external programs the tests compare with (dcmtk, ...).
peers:
	scripts/install-peers.sh

## unit: core packages with the race detector, the rest without.
## Peer tests are ordinary tests: run `make peers` first (as `make test` does).
unit:
	$(GO) test -race ./core/...
	@all=$$($(GO) list ./...) || exit 1; \
	rest=$$(echo "$$all" | grep -v '^github.com/pacsforge/pacs/core\(/\|$$\)'); \
	if [ -n "$$rest" ]; then set -x; $(GO) test $$rest; fi

## fuzz-smoke: every fuzz target for FUZZTIME (default 5s).
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## fuzz-long: every fuzz target for 10 minutes; not part of test.
fuzz-long:
	FUZZTIME=10m scripts/fuzz.sh

## bench: compare parsing speed and allocations (see bench/README.md).
bench:
	bench/run.sh

## generate: rerun go generate (the dictionary needs ../shared/dicom-standard).
generate:
	$(GO) generate ./...

## build: the pacs binary in bin/.
build:
	$(GO) build -o bin/pacs ./cmd/pacs
