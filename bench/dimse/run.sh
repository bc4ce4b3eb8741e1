#!/usr/bin/env bash
# run.sh: time C-STORE over loopback, dcmtk against Forge PACS.
#
# Generates $N (default 1000) CT slices of 512x512 16-bit pixels (~512 KiB
# each, Explicit VR Little Endian), then sends them all over one association,
# one store at a time, for each pair:
#   dcmtk storescu -> dcmtk storescp   (discarding with --ignore, and writing with -od)
#   dcmtk storescu -> Forge SCP        (discarding, and writing Part 10 files)
#   Forge SCU      -> Forge SCP        (discarding, and writing)
#   Forge SCU      -> dcmtk storescp   (discarding)
# Every side uses a maximum PDU length of $MAXPDU (default 65536). Prints
# images/s, MB/s and the ratio to dcmtk -> dcmtk for the same sink, of the
# best round and of the median round, the median of the per-round ratios
# ("paired": each round's two runs are seconds apart), and the server's CPU
# time per object
# over all rounds (from /proc, less disturbed by other load than wall time).
# Each pair runs ROUNDS times (default 5); the
# rounds are interleaved (round 1 of every pair, then round 2, ...) so that
# a change of load on a shared machine hits every pair alike.
# Environment: N, MAXPDU, ROUNDS, PORT (base port, default 11140), KEEP=1
# keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
N=${N:-1000}
MAXPDU=${MAXPDU:-65536}
PORT=${PORT:-11140}
ROUNDS=${ROUNDS:-5}
export TCP_NODELAY=1 # Debian's dcmtk leaves Nagle's algorithm on otherwise

for tool in storescu storescp; do
	command -v $tool >/dev/null || { echo "run.sh: $tool missing: run scripts/install-peers.sh" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ ${KEEP:-0} == 1 ]] && echo "work directory: $work" || rm -rf "$work"
}
trap cleanup EXIT

(cd "$root" && go build -o "$work/dimsebench" ./bench/dimse)
bench=$work/dimsebench
"$bench" gen -n "$N" -out "$work/in"
bytes=$(du -cb "$work"/in/*.dcm | tail -1 | cut -f1)
echo "dimse bench: $N files, $((bytes / 1024 / 1024)) MiB, max PDU $MAXPDU, $(nproc) cores"

wait_port() {
	for _ in $(seq 200); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "run.sh: nothing listens on port $1" >&2
	exit 1
}

# start_server PORT CMD...: starts a server in the background.
start_server() {
	local port=$1
	shift
	"$@" >"$work/server-$port.log" 2>&1 &
	pids+=($!)
	last_server=$!
	wait_port "$port"
}

# cputicks PID: the user and system CPU time of a process, in clock ticks.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

now() { date +%s.%N; }

declare -A secs all srv ticks
names=()
declare -A cmds
# pair NAME CMD...: registers a client command to measure.
pair() {
	local name=$1
	shift
	names+=("$name")
	srv[$name]=$last_server
	cmds[$name]=$(printf '%q ' "$@")
}

# measure_all: runs every pair's client $ROUNDS times, interleaved, and
# records each pair's best seconds (the machine is shared: the best round is
# the least disturbed).
measure_all() {
	local r name t0 t1 s
	for r in $(seq "$ROUNDS"); do
		for name in "${names[@]}"; do
			c0=$(cputicks "${srv[$name]}")
			t0=$(now)
			eval "${cmds[$name]}" >"$work/client.log" 2>&1 || { echo "run.sh: $name failed:"; tail -5 "$work/client.log"; exit 1; }
			t1=$(now)
			ticks[$name]=$((${ticks[$name]:-0} + $(cputicks "${srv[$name]}") - c0))
			s=$(echo "$t1 - $t0" | bc -l)
			all[$name]="${all[$name]:-} $s"
			if [[ -z ${secs[$name]:-} ]] || (($(echo "$s < ${secs[$name]}" | bc -l))); then secs[$name]=$s; fi
		done
	done
}

storescu_to() { storescu -aec ANY-SCP --max-pdu "$MAXPDU" -R +sd 127.0.0.1 "$1" "$work/in"; }

p=$PORT
mkdir -p "$work/o1" "$work/o2" "$work/o3"
start_server $p storescp --max-pdu "$MAXPDU" --ignore $p
pair "dcmtk->dcmtk discard" storescu_to $p
pair "forge->dcmtk discard" "$bench" scu -maxpdu "$MAXPDU" -addr 127.0.0.1:$p "$work/in"
p=$((p + 1))
start_server $p storescp --max-pdu "$MAXPDU" -od "$work/o1" $p
pair "dcmtk->dcmtk disk" storescu_to $p
p=$((p + 1))
start_server $p "$bench" scp -port $p -maxpdu "$MAXPDU"
pair "dcmtk->forge discard" storescu_to $p
pair "forge->forge discard" "$bench" scu -maxpdu "$MAXPDU" -addr 127.0.0.1:$p "$work/in"
p=$((p + 1))
start_server $p "$bench" scp -port $p -maxpdu "$MAXPDU" -out "$work/o2"
pair "dcmtk->forge disk" storescu_to $p
p=$((p + 1))
start_server $p "$bench" scp -port $p -maxpdu "$MAXPDU" -out "$work/o3"
pair "forge->forge disk" "$bench" scu -maxpdu "$MAXPDU" -addr 127.0.0.1:$p "$work/in"
measure_all

for d in o1 o2 o3; do
	got=$(find "$work/$d" -type f | wc -l)
	[[ $got == "$N" ]] || { echo "run.sh: $d holds $got files, want $N" >&2; exit 1; }
done

median() { printf '%s\n' $1 | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# paired REF OURS: the median of the per-round ratios REF/OURS. The two runs of
# a round follow each other within seconds, so a change of the machine's load
# between rounds cancels out of each ratio.
paired() {
	local -a r o
	read -ra r <<<"$1"
	read -ra o <<<"$2"
	local ratios=() i
	for i in "${!r[@]}"; do ratios+=("$(echo "${r[$i]} / ${o[$i]}" | bc -l)"); done
	median "${ratios[*]}"
}
hz=$(getconf CLK_TCK)
printf '%-24s %9s %10s %9s %8s %8s %8s %12s\n' "pair" "seconds" "images/s" "MB/s" "best" "median" "paired" "server CPU"
printf '%-24s %9s %10s %9s %8s %8s %8s %12s\n' "" "(best)" "(best)" "(best)" "vs dcmtk" "vs dcmtk" "vs dcmtk" "us/object"
for name in "dcmtk->dcmtk discard" "dcmtk->forge discard" "forge->forge discard" "forge->dcmtk discard" \
	"dcmtk->dcmtk disk" "dcmtk->forge disk" "forge->forge disk"; do
	s=${secs[$name]}
	m=$(median "${all[$name]}")
	case $name in *discard) ref="dcmtk->dcmtk discard" ;; *) ref="dcmtk->dcmtk disk" ;; esac
	printf '%-24s %9.3f %10.1f %9.1f %7.2fx %7.2fx %7.2fx %12.0f\n' "$name" "$s" "$(echo "$N / $s" | bc -l)" \
		"$(echo "$bytes / 1000000 / $s" | bc -l)" "$(echo "${secs[$ref]} / $s" | bc -l)" \
		"$(echo "$(median "${all[$ref]}") / $m" | bc -l)" "$(paired "${all[$ref]}" "${all[$name]}")" \
		"$(echo "${ticks[$name]} * 1000000 / $hz / ($N * $ROUNDS)" | bc -l)"
done
