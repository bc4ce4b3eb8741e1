#!/usr/bin/env bash
# fuzz.sh: runs every Go fuzz target of the module for FUZZTIME each
# (default 5s). Usage: scripts/fuzz.sh [package patterns...] (default ./...).
#
# Packages are found by their *_test.go files declaring "func FuzzX(f *testing.F)";
# `go test -list` then names the targets exactly. A failing input is written
# by the go tool under the package's testdata/fuzz/ and the script exits 1
# after running the remaining targets.
set -euo pipefail

FUZZTIME=${FUZZTIME:-5s}
cd "$(dirname "$0")/.."

patterns=("$@")
[[ ${#patterns[@]} -gt 0 ]] || patterns=(./...)

# Directories of this module (nested modules are left out by go list) whose
# tests declare a fuzz target.
mapfile -t pkgs < <(go list -f '{{.ImportPath}} {{.Dir}}' "${patterns[@]}" |
	while read -r pkg dir; do
		if grep -qsE '^func Fuzz[A-Za-z0-9_]*\(' "$dir"/*_test.go; then
			echo "$pkg"
		fi
	done)

if [[ ${#pkgs[@]} == 0 ]]; then
	echo "fuzz: no fuzz targets found"
	exit 0
fi

# fuzz PKG TARGET: one run of a target. Go 1.26's fuzzing coordinator
# sometimes ends a run with "context deadline exceeded" and no failing
# input when its time is up while a worker is busy (golang/go#75804, fixed
# in Go 1.27): that run is not a finding, and the target runs again, up to
# three times; a real failure writes its input and fails at once.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() {
	local attempt
	for attempt in 1 2 3; do
		if go test -run '^$' -fuzz "^${2}\$" -fuzztime "$FUZZTIME" "$1" 2>&1 | tee "$log"; then
			return 0
		fi
		if ! grep -q 'context deadline exceeded' "$log" || grep -q 'Failing input written' "$log"; then
			return 1
		fi
		echo "fuzz: $1 $2 ended by the engine's deadline without a finding; running it again"
	done
	return 1
}

failed=()
count=0
for pkg in "${pkgs[@]}"; do
	mapfile -t targets < <(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz')
	for target in "${targets[@]}"; do
		count=$((count + 1))
		echo "fuzz: $pkg $target for $FUZZTIME"
		if ! fuzz "$pkg" "$target"; then
			failed+=("$pkg.$target")
		fi
	done
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "fuzz: FAILED ${failed[*]} (inputs saved under each package's testdata/fuzz/)" >&2
	exit 1
fi
echo "fuzz: $count targets ran for $FUZZTIME each, no failure"
