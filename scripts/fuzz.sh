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

failed=()
count=0
for pkg in "${pkgs[@]}"; do
	mapfile -t targets < <(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz')
	for target in "${targets[@]}"; do
		count=$((count + 1))
		echo "fuzz: $pkg $target for $FUZZTIME"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"; then
			failed+=("$pkg.$target")
		fi
	done
done

if [[ ${#failed[@]} -gt 0 ]]; then
	echo "fuzz: FAILED ${failed[*]} (inputs saved under each package's testdata/fuzz/)" >&2
	exit 1
fi
echo "fuzz: $count targets ran for $FUZZTIME each, no failure"
