#!/usr/bin/env bash
# demo.sh: oomcast's main job on a built-in default: a scratch memory cgroup with a small
# limit, the daemon watching it, a leaking workload inside it, the forecast, then the
# kernel's OOM kill, and the lead time between them. Removes everything it made.
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_MB=${DEMO_LIMIT_MB:-160}
RATE=${DEMO_RATE_MBPS:-8}
HORIZON=${DEMO_HORIZON:-10}
OOMCAST=build/oomcast
LEAK=build/workloads/leak

[ "$(id -u)" = 0 ] || { echo "demo: needs root (it loads BPF programs and makes a cgroup)" >&2; exit 1; }
[ -x "$OOMCAST" ] && [ -x "$LEAK" ] || { echo "demo: run 'make demo' (it builds first)" >&2; exit 1; }

if [ -e /sys/fs/cgroup/memory/memory.usage_in_bytes ] || [ -d /sys/fs/cgroup/memory ] &&
   [ -e /sys/fs/cgroup/memory/cgroup.procs ]; then
	CG=/sys/fs/cgroup/memory/oomcast-demo-$$           # cgroup v1 memory controller
	mkdir "$CG"
	echo $((LIMIT_MB << 20)) > "$CG/memory.limit_in_bytes"
elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	CG=/sys/fs/cgroup/oomcast-demo-$$                  # cgroup v2
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control || echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir "$CG"
	echo $((LIMIT_MB << 20)) > "$CG/memory.max"
	[ -e "$CG/memory.swap.max" ] && echo 0 > "$CG/memory.swap.max"
else
	echo "demo: no memory cgroup controller found (v1 /sys/fs/cgroup/memory or v2)" >&2; exit 1
fi

out=$(mktemp /tmp/oomcast-demo.XXXXXX)
daemon="" leak=""
cleanup() {
	[ -n "$leak" ] && kill -KILL "$leak" 2>/dev/null || true
	[ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG" 2>/dev/null && break; sleep 0.2; done
	rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat <<EOT
== oomcast demo ==
A scratch cgroup $CG with a ${LIMIT_MB} MiB limit, a workload leaking ${RATE} MB/s
inside it, and oomcast watching it with a ${HORIZON} s horizon. The kernel will kill the
workload in about $((LIMIT_MB * 1048576 / (RATE * 1000000))) s; oomcast should say so about ${HORIZON} s before.

EOT
"$OOMCAST" run --cgroup "$CG" --horizon "$HORIZON" --no-pin 2>&1 | tee "$out" &
daemon=$(jobs -p | tail -1)
for _ in $(seq 100); do grep -q ' ready ' "$out" && break; sleep 0.1; done
grep -q ' ready ' "$out" || { echo "demo: the daemon did not start"; exit 1; }

sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$LEAK" --rate "$RATE" --timeout 120 2>/dev/null &
leak=$!
wait "$leak" 2>/dev/null && rc=0 || rc=$?
leak=""
for _ in $(seq 30); do grep -q ' oom_kill ' "$out" && break; sleep 0.1; done
kill -TERM "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null || true; daemon=""

echo
lead=$(sed -n 's/.*forecast \([0-9.]*\) s before.*/\1/p' "$out" | head -1)
if [ "$rc" = 137 ] && [ -n "$lead" ]; then
	echo "== the kernel OOM-killed the leak (exit 137); oomcast forecast it $lead s before =="
elif [ "$rc" = 137 ]; then
	echo "== the kernel OOM-killed the leak, but no forecast came before it: see above =="; exit 1
else
	echo "== the leak ended with status $rc instead of an OOM kill: see above =="; exit 1
fi
