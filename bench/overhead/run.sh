#!/usr/bin/env bash
# bench/overhead/run.sh (`make bench-overhead`): what oomcast costs on the allocation path and
# how fast its alerts are.
#  1. cost: the fault-heavy workload (build/workloads/faulter) in a watched cgroup, under
#     bench/overhead/bpfstat, which turns BPF stats on for the run and attaches an empty program
#     to mm_page_alloc beside the daemon's: each daemon program's ns per run, all of them per
#     page allocation, as a ratio to the empty program. Then the same with the sampling period
#     at 1 GiB (the per-page fast path alone) and 4 KiB (attribution on every page).
#  2. the workload's run time without and with the daemon.
#  3. latency: leaks in watched cgroups until the kernel kills them; per forecast and oom_kill,
#     the kernel record's timestamp -> the line printed (--latency-log) -> the webhook's arrival
#     at a loopback receiver.
# Prints a table and PASS/FAIL against the targets; JSON in build/bench/overhead.json.
# Env: REPS (5), ROUNDS (32 x 64 MiB per workload run), EPISODES (24).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REPS=${REPS:-5} ROUNDS=${ROUNDS:-32} EPISODES=${EPISODES:-24}
MEMCG=/sys/fs/cgroup/memory
OUT=$ROOT/build/bench
TMP=$(mktemp -d /tmp/oomcast-overhead.XXXXXX)
CG=$MEMCG/oomcast-overhead-$$
DAEMON= RECEIVER=
lat_cgs=()
mkdir -p "$OUT"

cleanup() {
	local cg p
	[ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	[ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null
	for cg in "$CG" "${lat_cgs[@]}"; do
		[ -d "$cg" ] || continue
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.2; done
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "overhead bench: needs root" >&2; exit 1; }
for b in oomcast bench/bpfstat workloads/faulter workloads/leak; do
	[ -x "$ROOT/build/$b" ] || { echo "overhead bench: build/$b missing (make bench)" >&2; exit 1; }
done
mkdir "$CG" && echo $((4 << 30)) > "$CG/memory.limit_in_bytes" || exit 1

# in_cg CMD...: CMD inside the bench's cgroup
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
faulter() { in_cg "$ROOT/build/workloads/faulter" --mib 64 --rounds "$ROUNDS"; }

start_daemon() { # start_daemon OUTFILE ARGS...
	local out=$1; shift
	"$ROOT/build/oomcast" run --json --no-pin "$@" > "$out" 2> "$out.err" &
	DAEMON=$!
	for _ in $(seq 100); do grep -q '"event":"ready"' "$out" 2>/dev/null && return 0; sleep 0.1; done
	echo "overhead bench: the daemon did not start:" >&2; cat "$out.err" >&2; exit 1
}
stop_daemon() { kill -TERM "$DAEMON"; wait "$DAEMON"; DAEMON=; }

echo "# overhead: $REPS runs of faulter (${ROUNDS} x 64 MiB) per case" >&2
for ((i = 0; i < REPS; i++)); do faulter >> "$TMP/plain-off"; done
start_daemon "$TMP/d1" --cgroup "$CG"
for ((i = 0; i < REPS; i++)); do
	faulter >> "$TMP/plain-on"
	"$ROOT/build/bench/bpfstat" --pid "$DAEMON" -- sh -c \
		'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$ROOT/build/workloads/faulter" \
		--mib 64 --rounds "$ROUNDS" | grep '"empty"' >> "$TMP/stat-default"
done
stop_daemon
for ((i = 0; i < REPS; i++)); do faulter >> "$TMP/plain-off"; done
for kib in 1048576 4; do
	start_daemon "$TMP/d-$kib" --cgroup "$CG" --sample-kib "$kib"
	for ((i = 0; i < 3; i++)); do
		"$ROOT/build/bench/bpfstat" --pid "$DAEMON" -- sh -c \
			'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$ROOT/build/workloads/faulter" \
			--mib 64 --rounds "$ROUNDS" | grep '"empty"' >> "$TMP/stat-$kib"
	done
	stop_daemon
done

echo "# latency: $EPISODES leaks until killed, 8 at a time" >&2
python3 "$ROOT/bench/overhead/receiver.py" "$TMP/port" "$TMP/webhook" &
RECEIVER=$!
for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
for ((i = 0; i < EPISODES; i++)); do
	cg=$MEMCG/oomcast-overhead-lat$i-$$
	mkdir "$cg" && echo $((64 << 20)) > "$cg/memory.limit_in_bytes"
	lat_cgs+=("$cg")
done
args=(); for cg in "${lat_cgs[@]}"; do args+=(--cgroup "$cg"); done
start_daemon "$TMP/d-lat" "${args[@]}" --horizon 2 --latency-log "$TMP/latency" \
	--webhook "http://127.0.0.1:$(cat "$TMP/port")/"
for ((i = 0; i < EPISODES; i += 8)); do
	pids=()
	for ((j = i; j < i + 8 && j < EPISODES; j++)); do
		sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" --rate "$2" --timeout 30' \
			"${lat_cgs[j]}" "$ROOT/build/workloads/leak" $((8 + j % 8 * 2)) 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" 2>/dev/null
done
sleep 1.5   # the last webhooks
stop_daemon
for cg in "${lat_cgs[@]}"; do stat -c %i "$cg"; done > "$TMP/lat-ids"

python3 "$ROOT/bench/overhead/report.py" "$TMP" "$OUT/overhead.json"
