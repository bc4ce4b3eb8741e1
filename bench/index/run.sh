#!/usr/bin/env bash
# run.sh: the index at scale, in the shape of Orthanc's database benchmark.
#
# Builds the core/index test binary and runs TestScale with
# PACS_INDEX_SCALE=$N (default 1000000): small instances (headers only, a
# realistic patient/study/series/instance hierarchy) are added in batches of
# 5,000 by $WORKERS (default 32) concurrent Add calls, so group commit works
# as in pacs serve (default options: synchronous=FULL, batches of up to 1000
# writes). Each batch's seconds go to $OUT/curve.tsv with the database and
# WAL sizes; then study-level queries (PatientID, PatientName wildcard,
# StudyDate range) run $QUERIES times each and their medians are printed.
# The summary ($OUT/summary.txt) gives the first and last batch, the ratio
# of the last to the first (aim: at most 1.5) and of the means of the last
# and first ten batches.
#
# Needs Go only. Environment: N, WORKERS, QUERIES (default 50), OUT
# (default bench/out/index), DBDIR (where the database grows, default a temp
# directory removed at the end; 1,000,000 instances take about 4 GB).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${N:-1000000}
WORKERS=${WORKERS:-32}
QUERIES=${QUERIES:-50}
OUT=${OUT:-$root/bench/out/index}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dbdir=${DBDIR:-$work}

(cd "$root" && go test -c -o "$work/index.test" ./core/index)
echo "index bench: $N instances, $WORKERS workers, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
start=$(date +%s)
(cd "$work" && PACS_INDEX_SCALE=$N PACS_INDEX_SCALE_WORKERS=$WORKERS PACS_INDEX_SCALE_QUERIES=$QUERIES \
	PACS_INDEX_SCALE_OUT="$OUT/curve.tsv" PACS_INDEX_SCALE_DIR="$dbdir" \
	./index.test -test.run '^TestScale$' -test.v -test.timeout 0) | tee "$OUT/test.log"
end=$(date +%s)

{
	echo "Forge PACS index at scale, $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3-), $(nproc) cores, $(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 1024)) GiB"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); wall time $((end - start)) s"
	awk -F'\t' 'NR > 1 { s[++n] = $3; t += $3; db = $6; wal = $7 }
		END {
			k = n < 10 ? n : 10
			for (i = 1; i <= k; i++) { a += s[i]; b += s[n - k + i] }
			mx = 0; for (i = 1; i <= n; i++) if (s[i] > mx) { mx = s[i]; at = i }
			printf "batches: %d of 5000; total %.0f s (%.0f instances/s)\n", n, t, n * 5000 / t
			printf "first batch %.2f s, last %.2f s: last/first %.2f (aim <= 1.5)\n", s[1], s[n], s[n] / s[1]
			printf "mean of first %d %.2f s, of last %d %.2f s: ratio %.2f; slowest batch %d (%.2f s)\n", k, a / k, k, b / k, b / a, at, mx
			printf "database %.0f MiB, WAL %.1f MiB at the end\n", db, wal
		}' "$OUT/curve.tsv"
	grep -E 'query |ingested ' "$OUT/test.log" | sed 's/^ *scale_test.go:[0-9]*: //'
} | tee "$OUT/summary.txt"
echo "index bench: curve in $OUT/curve.tsv, summary in $OUT/summary.txt" >&2
