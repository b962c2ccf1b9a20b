# tests/e2e/lib.sh: what the end-to-end tests share: a scratch memory cgroup of their own,
# the daemon, workloads in the cgroup, JSON event queries, and a cleanup that runs on any
# exit. Only cgroups named oomcast-* that a test created are ever touched.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OOMCAST=$ROOT/build/oomcast
LEAK=$ROOT/build/workloads/leak
MEMCG_ROOT=/sys/fs/cgroup/memory
TEST_TMP=$(mktemp -d /tmp/oomcast-e2e.XXXXXX)
_cgroups=()
_pids=()
_mounts=()
_fails=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+: $2}"; _fails=$((_fails + 1)); }
check() { # check NAME CMD...: ok if CMD succeeds
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

cleanup() {
	local p cg
	# make_cgroup runs in $(...), a subshell: find our cgroups by their name (pid suffix)
	for cg in "$MEMCG_ROOT"/oomcast-*-"$$"; do [ -d "$cg" ] && _cgroups+=("$cg"); done
	for p in "${_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	# our tmpfs mounts before our cgroups: their pages are charged to them
	for p in "${_mounts[@]}"; do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null; done
	for cg in "${_cgroups[@]}"; do
		[ -d "$cg" ] || continue
		# tasks left in our own cgroup or below it (only ours: a cgroup this test made),
		# then its children before it, deepest first
		for p in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
		for d in $(find "$cg" -mindepth 1 -depth -type d 2>/dev/null) "$cg"; do
			for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.2; done
		done
	done
	if [ "$_fails" -ne 0 ]; then   # keep the evidence of a failure for the log reader
		local keep=$ROOT/build/test-logs/$(basename "$0" .sh)-$$
		mkdir -p "$keep" && cp -r "$TEST_TMP"/. "$keep"/ 2>/dev/null
		echo "# outputs kept in $keep" >&2
	fi
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need_root() {
	if [ "$(id -u)" != 0 ]; then not_ok "needs root"; exit 1; fi
	[ -x "$OOMCAST" ] || { not_ok "build/oomcast missing: run make"; exit 1; }
	[ -d "$MEMCG_ROOT" ] || { not_ok "no cgroup v1 memory hierarchy at $MEMCG_ROOT"; exit 1; }
}

# make_cgroup NAME LIMIT_BYTES -> prints the path
make_cgroup() {
	local cg=$MEMCG_ROOT/oomcast-$1-$$
	mkdir "$cg" || return 1
	_cgroups+=("$cg")
	echo "$2" > "$cg/memory.limit_in_bytes" || return 1
	echo "$cg"
}

# mount_tmpfs DIR SIZE: a tmpfs of our own (bounded), unmounted by cleanup
mount_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" oomcast-test "$1" || return 1
	_mounts+=("$1")
}

# start_daemon OUT ARGS... : runs oomcast in the background, JSON to OUT, stderr to OUT.err
start_daemon() {
	local out=$1; shift
	"$OOMCAST" run --json --no-pin "$@" > "$out" 2> "$out.err" &
	DAEMON_PID=$!
	_pids+=("$DAEMON_PID")
	wait_event "$out" ready 20
}

# run_in_cgroup CG CMD... : start CMD inside CG (moved in before it execs); sets WORK_PID
run_in_cgroup() {
	local cg=$1; shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" 2>>"$TEST_TMP/work.err" &
	WORK_PID=$!
	_pids+=("$WORK_PID")
}

# wait_event FILE EVENT TIMEOUT_S: wait until a line with "event":"EVENT" appears
wait_event() {
	local f=$1 ev=$2 t=$3 i
	for ((i = 0; i < t * 10; i++)); do
		grep -q "\"event\":\"$ev\"" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# field FILE EVENT KEY [N]: KEY of the Nth (default first) EVENT in FILE
field() {
	python3 - "$@" <<'PY'
import json, sys
f, ev, key = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
evs = [json.loads(l) for l in open(f) if l.strip().startswith("{")]
evs = [e for e in evs if e.get("event") == ev]
if len(evs) > n and evs[n].get(key) is not None:
    print(evs[n][key])
PY
}

count_events() { grep -c "\"event\":\"$2\"" "$1" 2>/dev/null || true; }

stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_RC=$?
}

# in_range V LO HI: float comparison
in_range() { python3 -c "import sys; v,lo,hi=map(float,sys.argv[1:]); sys.exit(0 if lo<=v<=hi else 1)" "$@"; }

# check_lead NAME OUT LO HI: the first forecast in OUT came LO..HI seconds before its first
# oom_kill (sets LEAD; a missing event fails)
check_lead() {
	local ft kt
	ft=$(field "$2" forecast time); kt=$(field "$2" oom_kill time)
	LEAD=
	if [ -z "$ft" ] || [ -z "$kt" ]; then
		not_ok "$1: forecast then oom_kill" "forecast=$ft oom_kill=$kt"; return 1
	fi
	LEAD=$(python3 -c "print(round($kt - $ft, 3))")
	check "$1: forecast $LEAD s before the kill ($3..$4 s)" in_range "$LEAD" "$3" "$4"
}

finish() { [ "$_fails" -eq 0 ]; exit $?; }
