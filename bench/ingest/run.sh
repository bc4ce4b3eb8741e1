#!/usr/bin/env bash
# run.sh: C-STORE ingest and C-FIND, pacs serve against dcmtk storescp and
# Orthanc, driven by the same dcmtk client over loopback.
#
# Corpora (generated once into $CACHE, default ~/.cache/pacs-bench/ingest,
# from the header of a real CT file with new UIDs; see main.go):
#   ct    2,000 CT slices of 512x512 16-bit pixels (~0.5 MB each, 8 studies)
#   tiny  5,000 small objects (~2 KB, studies of 50)
#   find  10,000 studies of one small object (varied names and dates)
# Ingest: every server is started fresh, empty, in a new data directory for
# each measurement, and stopped afterwards (SIGTERM, then wait); the data
# directories are removed at the end (about 6.5 GB per round); storescu sends the corpus over 1
# association, or over 4 at once (4 storescu processes, whole studies each).
# The servers:
#   storescp  dcmtk storescp -od DIR (--fork for 4 associations; it has no
#             option to fsync what it writes, so it never syncs)
#   orthanc   Orthanc with its defaults (SyncStorageArea: files are synced;
#             index in SQLite), on loopback ports of its own
#   pacs      pacs serve (built from this tree) with a temp data directory:
#             files synced with their intent journal entry before the
#             answer, then dropped from the page cache (objects of at most 16 KiB written into the synced entry
#             instead, the file system synced within 100 ms); rows committed
#             without a log sync (the entry is their durable record until
#             the index log is synced, within 100 ms)
# All three announce a maximum PDU length of 65536 (storescp and Orthanc
# default to 16384). Rounds are interleaved (round 1 of every case, then
# round 2, ...) so that load changes on the shared machine hit every case
# alike; the best round of each case is kept, and the ratios to pacs are
# also given paired: the median over rounds of each round's own ratio, which
# load that changes between rounds disturbs less. Peak memory is VmHWM from
# /proc/PID/status just before the server is stopped (for storescp --fork,
# the parent process only). Server CPU per instance is the user and system
# time in /proc/PID/stat at the same moment, the children it has waited
# for included (storescp --fork's), over the instances stored; the median
# over rounds is reported.
# C-FIND: the find corpus is loaded into a fresh Orthanc and pacs serve, then
# one study-level query (PatientName SMITH* and a StudyDate range) is timed
# $FINDS times (default 20) on each, alternating: findscu's wall time (one
# process, one association, one query), and the time of one query on an open
# association, (findscu --repeat R+1 - findscu) / R with R=$FIND_REPEAT
# (default 20); medians are reported, and the match counts compared.
#
# Needs: Go, dcmtk (storescu storescp findscu), Orthanc, and a CT file (the
# shared corpus's CT_small.dcm, or pydicom's): scripts/install-peers.sh.
# Environment: NCT, NTINY, NSTUDIES (corpus sizes, for a quick run with
# another CACHE), ROUNDS (default 3), CASES (default "ct:1 ct:4 tiny:1 tiny:4"),
# SERVERS (default "storescp orthanc pacs"), FIND=0 skips C-FIND, FINDS,
# FIND_REPEAT,
# PORT (first port tried, default 11300), CACHE, PACS (a pacs binary to use
# instead of building one), OUT (default bench/out/ingest), KEEP=1 keeps the
# work directory. BASE=BINARY adds the server "base": pacs serve from another
# build (an earlier commit, say), run in every round beside the others, and
# reported as pacs/base, best against best and as the median of the rounds'
# own ratios.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ROUNDS=${ROUNDS:-3}
CASES=${CASES:-"ct:1 ct:4 tiny:1 tiny:4"}
SERVERS=${SERVERS:-"storescp orthanc pacs${BASE:+ base}"}
FIND=${FIND:-1}
FINDS=${FINDS:-20}
FIND_REPEAT=${FIND_REPEAT:-20}
PORT=${PORT:-11300}
CACHE=${CACHE:-$HOME/.cache/pacs-bench/ingest}
OUT=${OUT:-$root/bench/out/ingest}
export TCP_NODELAY=1 # Debian's dcmtk and Orthanc leave Nagle's algorithm on otherwise
export GOFLAGS=${GOFLAGS:--buildvcs=false}

for tool in storescu storescp findscu Orthanc curl; do
	command -v $tool >/dev/null || { echo "run.sh: $tool missing: run scripts/install-peers.sh" >&2; exit 1; }
done
mkdir -p "$OUT" "$CACHE"
work=$(mktemp -d)
server_pid=
kept_pids=()
cleanup() {
	for p in $server_pid "${kept_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
	[[ ${KEEP:-0} == 1 ]] && echo "work directory: $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# The binaries and the corpora.
(cd "$root" && go build -o "$work/ingestbench" ./bench/ingest)
if [[ -z ${PACS:-} ]]; then
	(cd "$root" && go build -o "$work/pacs" ./cmd/pacs)
	PACS=$work/pacs
fi
if [[ ! -f $CACHE/done ]]; then
	src=$root/../shared/testdata/dicom/transfer-syntax/explicit-vr-le/CT_small.dcm
	[[ -f $src ]] || src=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
	echo "run.sh: writing the corpora to $CACHE from $src" >&2
	rm -rf "${CACHE:?}"/{ct,tiny,find}
	"$work/ingestbench" gen -src "$src" -out "$CACHE" -ct "${NCT:-2000}" -tiny "${NTINY:-5000}" -studies "${NSTUDIES:-10000}" -split 4
	touch "$CACHE/done"
fi
declare -A count bytes
for c in ct tiny find; do
	count[$c]=$(find "$CACHE/$c" -name '*.dcm' | wc -l)
	bytes[$c]=$(du -cb "$CACHE/$c" | tail -1 | cut -f1)
done

. "$here/../ports.sh"

# start NAME PAR: starts a fresh, empty server in a new data directory;
# sets server_pid, dport, data. Data directories are removed only at the
# end: ext4 without a journal skips inodes freed in the last minutes when it
# allocates new ones, so deleting one measurement's files before the next
# would make every file creation of the next one scan past them.
runs=0
start() {
	local name=$1 par=$2
	runs=$((runs + 1))
	data=$work/data-$runs-$name
	mkdir -p "$data"
	free_port dport
	case $name in
	storescp)
		local fork=()
		((par > 1)) && fork=(--fork)
		storescp "${fork[@]}" --max-pdu 65536 -od "$data" "$dport" >"$work/server.log" 2>&1 &
		;;
	orthanc)
		free_port hport
		cat >"$data/orthanc.json" <<-EOF
			{
			  "Name": "BENCH-ORTHANC", "StorageDirectory": "$data/db", "IndexDirectory": "$data/db",
			  "Plugins": [], "HttpPort": $hport, "RemoteAccessAllowed": false,
			  "AuthenticationEnabled": false, "DicomAet": "ORTHANC", "DicomPort": $dport,
			  "DicomCheckCalledAet": false, "DicomAlwaysAllowEcho": true, "DicomAlwaysAllowStore": true,
			  "DicomAlwaysAllowFind": true, "UnknownSopClassAccepted": true,
			  "MaximumPduLength": 65536, "StableAge": 3600
			}
		EOF
		mkdir -p "$data/log"
		Orthanc --logdir="$data/log" "$data/orthanc.json" >"$work/server.log" 2>&1 &
		;;
	pacs | base)
		local bin=$PACS
		[[ $name == base ]] && bin=$BASE
		free_port hport
		cat >"$data/pacs.hcl" <<-EOF
			data_dir = "$data/archive"
			log { level = "warn" }
			dicom {
			  ae_title = "FORGE"
			  listen   = "127.0.0.1:$dport"
			}
			http { listen = "127.0.0.1:$hport" }
		EOF
		"$bin" serve --config "$data/pacs.hcl" >"$work/server.log" 2>&1 &
		;;
	esac
	server_pid=$!
	wait_port "$dport" "$server_pid" "$work/server.log"
}

# stop: sets m to the server's peak RSS in MiB and cpu to the CPU time it
# has used, in seconds (its own, and its children's that it has waited for:
# storescp --fork's), stops it and waits until it is gone.
stop() {
	m=$(($(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status") / 1024))
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); print ($12 + $13 + $14 + $15) / hz}' "/proc/$server_pid/stat")
	kill -TERM "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# stored NAME: prints the number of objects the server holds.
stored() {
	case $1 in
	storescp) find "$data" -type f | wc -l ;;
	orthanc) curl -s "http://127.0.0.1:$hport/statistics" | tr -d ' \n' | sed 's/.*"CountInstances":\([0-9]*\).*/\1/' ;;
	pacs | base) find "$data/archive" -type f -name '*.dcm' | wc -l ;;
	esac
}

# send CORPUS PAR: storescu over PAR associations at once.
send() {
	local corpus=$1 par=$2 pids=() k rc=0
	if ((par == 1)); then
		storescu -aec ANY-SCP -R +sd +r 127.0.0.1 "$dport" "$CACHE/$corpus" >"$work/client.log" 2>&1 || rc=$?
	else
		for k in $(seq 0 $((par - 1))); do
			storescu -aec ANY-SCP -R +sd 127.0.0.1 "$dport" "$CACHE/$corpus/$k" >"$work/client-$k.log" 2>&1 &
			pids+=($!)
		done
		for k in "${pids[@]}"; do wait "$k" || rc=$?; done
	fi
	if ((rc != 0)); then
		echo "run.sh: storescu failed ($corpus, $par), exit status $rc; its logs, then the server's:" >&2
		tail -n 5 "$work"/client*.log >&2 || true
		tail -n 20 "$work/server.log" >&2 || true
		exit 1
	fi
}

now() { date +%s.%N; }

declare -A best mem
raw=$OUT/raw.tsv
printf 'round\tserver\tcorpus\tassociations\tseconds\tinstances_per_s\tvmhwm_mib\tcpu_ms_per_instance\n' >"$raw"
echo "ingest bench: ${count[ct]} CT slices ($((bytes[ct] / 1048576)) MiB), ${count[tiny]} tiny objects, $ROUNDS rounds, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
	for c in $CASES; do
		corpus=${c%:*} par=${c#*:}
		for s in $SERVERS; do
			start "$s" "$par"
			t0=$(now)
			send "$corpus" "$par"
			t1=$(now)
			secs=$(echo "$t1 - $t0" | bc -l)
			n=$(stored "$s")
			stop
			[[ $n == "${count[$corpus]}" ]] || { echo "run.sh: $s holds $n objects after $c, want ${count[$corpus]}" >&2; tail -20 "$work/server.log" >&2; exit 1; }
			printf '%d\t%s\t%s\t%d\t%.3f\t%.1f\t%d\t%.2f\n' "$r" "$s" "$corpus" "$par" "$secs" "$(echo "$n / $secs" | bc -l)" "$m" \
				"$(echo "$cpu * 1000 / $n" | bc -l)" | tee -a "$raw" >&2
			k="$s $c"
			if [[ -z ${best[$k]:-} ]] || (($(echo "$secs < ${best[$k]}" | bc -l))); then best[$k]=$secs; fi
			if [[ -z ${mem[$k]:-} ]] || ((m > mem[$k])); then mem[$k]=$m; fi
		done
	done
done

# C-FIND: load the find corpus into Orthanc and pacs, then query both.
declare -A find_ms query_ms find_n load_s find_mem
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
if [[ $FIND == 1 ]]; then
	query=(-S -k QueryRetrieveLevel=STUDY -k 'PatientName=SMITH*' -k StudyDate=20170101-20191231
		-k StudyInstanceUID -k PatientID -k StudyDescription -k AccessionNumber -k ModalitiesInStudy)
	declare -A fdir fport fpid
	for s in orthanc pacs; do
		start "$s" 4
		t0=$(now)
		send find 4
		t1=$(now)
		load_s[$s]=$(echo "$t1 - $t0" | bc -l)
		n=$(stored "$s")
		[[ $n == "${count[find]}" ]] || { echo "run.sh: $s holds $n objects after the find corpus, want ${count[find]}" >&2; exit 1; }
		fport[$s]=$dport fpid[$s]=$server_pid fdir[$s]=$data
		cp "$work/server.log" "$work/server-$s.log"
		kept_pids+=("$server_pid")
		server_pid= # kept running; stopped below
	done
	for s in orthanc pacs; do
		if ! findscu -aec ANY-SCP -v "${query[@]}" 127.0.0.1 "${fport[$s]}" >"$work/find-$s.log" 2>&1; then
			find_n[$s]=failed
			echo "run.sh: findscu against $s failed:" >&2
			tail -5 "$work/find-$s.log" >&2
		else
			find_n[$s]=$(grep -a -c 'Find Response:.*(Pending)' "$work/find-$s.log" || true)
		fi
	done
	declare -A times qtimes
	for _ in $(seq "$FINDS"); do
		for s in orthanc pacs; do
			[[ ${find_n[$s]} == failed ]] && continue
			t0=$(now)
			findscu -aec ANY-SCP "${query[@]}" 127.0.0.1 "${fport[$s]}" >/dev/null 2>&1
			t1=$(now)
			findscu -aec ANY-SCP --repeat $((FIND_REPEAT + 1)) "${query[@]}" 127.0.0.1 "${fport[$s]}" >/dev/null 2>&1
			t2=$(now)
			times[$s]+="$(echo "($t1 - $t0) * 1000" | bc -l) "
			qtimes[$s]+="$(echo "(($t2 - $t1) - ($t1 - $t0)) * 1000 / $FIND_REPEAT" | bc -l) "
		done
	done
	for s in orthanc pacs; do
		if [[ ${find_n[$s]} != failed ]]; then
			find_ms[$s]=$(median ${times[$s]})
			query_ms[$s]=$(median ${qtimes[$s]})
		fi
		find_mem[$s]=$(($(awk '/VmHWM/ {print $2}' "/proc/${fpid[$s]}/status") / 1024))
		kill -TERM "${fpid[$s]}"
		wait "${fpid[$s]}" 2>/dev/null || true
	done
fi

# paired SERVER: the median over rounds of pacs's rate over SERVER's in the
# same round, for the case $corpus:$par.
paired() {
	awk -F'\t' -v c="$corpus" -v p="$par" -v s="$1" '$3 == c && $4 == p && ($2 == "pacs" || $2 == s) {t[$1, $2] = $5; r[$1] = 1}
		END {for (k in r) if (t[k, "pacs"] > 0 && t[k, s] > 0) print t[k, s] / t[k, "pacs"]}' "$raw" | sort -g |
		awk '{a[NR] = $1} END {if (NR) printf "%8.2fx", a[int((NR + 1) / 2)]; else printf "%9s", "-"}'
}

{
	echo "Forge PACS ingest, $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3-), $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "storescu (dcmtk $(storescu --version 2>&1 | head -1 | grep -o '[0-9.]*' | head -1)) -> storescp -od / Orthanc $(Orthanc --version 2>&1 | head -1 | awk '{print $2}') / pacs serve; best of $ROUNDS interleaved rounds"
	echo "ratios: best over best (pacs/scp, pacs/orth), then paired (p./scp, p./orth): the median over rounds of each round's own ratio"
	echo
	printf '%-6s %5s | %-22s | %-22s | %-22s | %9s %9s | %9s %9s\n' corpus assoc "storescp inst/s (MiB)" "orthanc inst/s (MiB)" "pacs inst/s (MiB)" pacs/scp pacs/orth p./scp p./orth
	for c in $CASES; do
		corpus=${c%:*} par=${c#*:}
		line=$(printf '%-6s %5s' "$corpus" "$par")
		for s in storescp orthanc pacs; do
			if [[ -n ${best["$s $c"]:-} ]]; then
				line+=$(printf ' | %10.1f (%4d MiB)  ' "$(echo "${count[$corpus]} / ${best["$s $c"]}" | bc -l)" "${mem["$s $c"]}")
			else
				line+=$(printf ' | %-22s' -)
			fi
		done
		ratio() { [[ -n ${best["$1 $c"]:-} && -n ${best["pacs $c"]:-} ]] && printf '%8.2fx' "$(echo "${best["$1 $c"]} / ${best["pacs $c"]}" | bc -l)" || printf '%9s' -; }
		echo "$line | $(ratio storescp) $(ratio orthanc) | $(paired storescp) $(paired orthanc)"
	done
	echo
	echo "server CPU per instance (ms), the median over rounds (storescp --fork: the children it has reaped):"
	for c in $CASES; do
		corpus=${c%:*} par=${c#*:}
		line=$(printf '%-6s %5s' "$corpus" "$par")
		for s in $SERVERS; do
			line+=$(awk -F'\t' -v c="$corpus" -v p="$par" -v s="$s" '$2 == s && $3 == c && $4 == p {print $8}' "$raw" | sort -g |
				awk -v s="$s" '{a[NR] = $1} END {if (NR) printf " | %s %.2f", s, a[int((NR + 1) / 2)]}')
		done
		echo "$line"
	done
	if [[ " $SERVERS " == *" base "* ]]; then
		echo
		echo "pacs against base ($BASE), same rounds: best over best, and the median of each round's own ratio"
		for c in $CASES; do
			corpus=${c%:*} par=${c#*:}
			printf '%-6s %5s | base %8.1f inst/s | pacs/base %s best, %s paired\n' "$corpus" "$par" \
				"$(echo "${count[$corpus]} / ${best["base $c"]}" | bc -l)" "$(ratio base)" "$(paired base | tr -d ' ')"
		done
	fi
	if [[ $FIND == 1 ]]; then
		echo
		echo "C-FIND, STUDY level, PatientName=SMITH* and StudyDate=20170101-20191231, over ${count[find]} studies, medians of $FINDS:"
		echo "query = one C-FIND on an open association ((findscu --repeat $((FIND_REPEAT + 1)) - findscu) / $FIND_REPEAT); findscu = the whole process"
		for s in orthanc pacs; do
			printf '%-8s load %6.1f s (%6.1f studies/s, 4 associations), %s matches, query %s ms, findscu %s ms, peak RSS %d MiB\n' "$s" "${load_s[$s]}" \
				"$(echo "${count[find]} / ${load_s[$s]}" | bc -l)" "${find_n[$s]}" "$(printf %.2f "${query_ms[$s]:-0}")" \
				"$(printf %.1f "${find_ms[$s]:-0}")" "${find_mem[$s]}"
		done
		[[ ${find_n[pacs]} == "${find_n[orthanc]}" ]] || echo "MATCH COUNTS DIFFER: pacs ${find_n[pacs]}, orthanc ${find_n[orthanc]}"
		if [[ -n ${query_ms[pacs]:-} && -n ${query_ms[orthanc]:-} ]]; then
			printf 'C-FIND latency pacs/orthanc: query %.2f (aim <= 0.2), findscu %.2f\n' "$(echo "${query_ms[pacs]} / ${query_ms[orthanc]}" | bc -l)" \
				"$(echo "${find_ms[pacs]} / ${find_ms[orthanc]}" | bc -l)"
		fi
	fi
} | tee "$OUT/summary.txt"
echo "ingest bench: per-round figures in $raw, summary in $OUT/summary.txt" >&2
