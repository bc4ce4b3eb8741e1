#!/usr/bin/env bash
# run.sh: the parser comparison (make bench). Writes the fixtures if missing,
# runs the benchmarks of bench/parsers and of every extra directory in
# $BENCH_EXTRA (space-separated Go packages outside this repository that use
# the same benchmark names, see bench/README.md), and prints medians and
# forge-versus-other ratios, also saved to bench/out/results.txt.
#
# Environment: COUNT (runs per benchmark, default 5), BENCHTIME (go test
# -benchtime, default 1s), BENCH (regexp, default .), BENCH_EXTRA, BENCHSTAT
# (command that prints full statistics of the raw output, default benchstat
# when installed).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_FIXTURES:-$here/out}
export BENCH_FIXTURES=$out
export GOFLAGS=${GOFLAGS:--buildvcs=false}
COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-1s}
BENCH=${BENCH:-.}
BENCHSTAT=${BENCHSTAT:-benchstat}

"$here/gen-fixtures.sh"

raw=$out/raw.txt
: >"$raw"
for dir in "$here/parsers" ${BENCH_EXTRA:-}; do
	echo "bench: $dir (count $COUNT, benchtime $BENCHTIME)" >&2
	(cd "$dir" && go test -mod=mod -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -benchtime "$BENCHTIME" .) | tee -a "$raw"
done

{
	echo "Forge PACS parser benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3-), $(nproc) cores"
	echo "fixtures: $out (ct512: 512x512 16-bit CT slice; multiframe: 600 such frames)"
	echo
	awk -f "$here/summarise.awk" "$raw"
	# Full statistics (confidence intervals) when benchstat is installed, or
	# BENCHSTAT="go run golang.org/x/perf/cmd/benchstat@latest".
	if command -v "${BENCHSTAT%% *}" >/dev/null 2>&1; then
		echo
		$BENCHSTAT "$raw" || true
	fi
} | tee "$out/results.txt"
echo "bench: raw output in $raw, summary in $out/results.txt" >&2
