#!/usr/bin/env bash
# A real container (podman + runc, no image registry: a rootfs of busybox and the static
# leak) with -m: the daemon, watching every limited cgroup, finds the container's memcg,
# forecasts with the container's id and runtime before exit code 137; with
# --oom-kill-disable the container hangs at its limit, forecast before and `stall` after.
source "$(dirname "$0")/lib.sh"
need_root
command -v podman >/dev/null && command -v runc >/dev/null || { not_ok "podman/runc missing (make deps)"; exit 1; }

rootfs=$TEST_TMP/rootfs
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
cp /bin/busybox "$LEAK" "$rootfs/bin/"
names=()
container_cleanup() {
	for n in "${names[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done
	cleanup
}
trap container_cleanup EXIT

# ctr NAME EXTRA_ARGS...: start a leaking container in the background; sets CID_FILE, CTR_PID
ctr() {
	local name=$1; shift
	names+=("$name")
	CID_FILE=$TEST_TMP/$name.cid
	# from our scratch dir: conmon leaves a file named "oom" in its working directory
	cd "$TEST_TMP" || return 1
	podman --runtime runc run --rm --name "$name" --cidfile "$CID_FILE" --network none \
		--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -m 96m --memory-swap 96m "$@" \
		--rootfs "$rootfs" /bin/leak --rate 4 --timeout 60 > "$TEST_TMP/$name.out" 2>&1 &
	CTR_PID=$!
	_pids+=("$CTR_PID")
	cd "$ROOT" || return 1
	for _ in $(seq 100); do [ -s "$CID_FILE" ] && break; sleep 0.1; done
}

horizon=8
out=$TEST_TMP/ctr.json
start_daemon "$out" --horizon "$horizon" --interval 0.5 || { not_ok "daemon ready"; exit 1; }

# 1. killed: exit code 137, forecast first, with the container's id
ctr "oomcast-ctr-kill-$$"
wait "$CTR_PID"; rc=$?
cid=$(cat "$CID_FILE" 2>/dev/null)
wait_event "$out" oom_kill 5
check "container exited 137 (got $rc)" test "$rc" -eq 137
check "container id known ($cid)" test -n "$cid"
fc=$(python3 - "$out" "$cid" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
mine = [e for e in evs if e.get("container_id") == sys.argv[2]]
fc = [e for e in mine if e["event"] == "forecast"]
kill = [e for e in mine if e["event"] == "oom_kill"]
if fc and kill:
    print(fc[0]["time"], kill[0]["time"], fc[0].get("container_runtime"), fc[0]["cgroup"])
PY
)
if [ -n "$fc" ]; then
	read -r ft kt runtime path <<<"$fc"
	lead=$(python3 -c "print($kt - $ft)")
	check "forecast $lead s before the kill (0.8-1.5 x $horizon)" \
		in_range "$lead" "$(python3 -c "print(0.8*$horizon)")" "$(python3 -c "print(1.5*$horizon)")"
	check "runtime label is podman ($runtime)" test "$runtime" = podman
	check "cgroup path carries the id ($path)" bash -c "[[ '$path' == *'$cid'* ]]"
else
	not_ok "forecast and oom_kill labelled with container id $cid"
fi

# 2. --oom-kill-disable: hangs at the limit; forecast before, stall after
ctr "oomcast-ctr-hang-$$" --oom-kill-disable
cid=$(cat "$CID_FILE" 2>/dev/null)
cg=""
for _ in $(seq 50); do
	cg=$(ls -d /sys/fs/cgroup/memory/*/libpod-"$cid"* 2>/dev/null | head -1)
	[ -n "$cg" ] && break; sleep 0.1
done
hang=""
for ((i = 0; i < 60 * 20; i++)); do
	[ -n "$cg" ] && grep -q '^under_oom 1' "$cg/memory.oom_control" 2>/dev/null && { hang=$(date +%s.%N); break; }
	sleep 0.05
done
check "container hung at its limit (under_oom 1)" test -n "$hang"
sleep 3
check "container still running (not killed)" kill -0 "$CTR_PID"
r=$(python3 - "$out" "$cid" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
mine = [e for e in evs if e.get("container_id") == sys.argv[2]]
fc = [e["time"] for e in mine if e["event"] == "forecast"]
st = [e["time"] for e in mine if e["event"] == "stall"]
print(fc[0] if fc else "", st[0] if st else "")
PY
)
read -r ft st <<<"$r"
if [ -n "$hang" ] && [ -n "$ft" ] && [ -n "$st" ]; then
	lead=$(python3 -c "print($hang - $ft)")
	check "forecast $lead s before the hang (>= 0.7 x $horizon)" in_range "$lead" "$(python3 -c "print(0.7*$horizon)")" 1e9
	after=$(python3 -c "print($st - $hang)")
	check "stall $after s after the hang (<= 3)" in_range "$after" -1 3
else
	not_ok "forecast and stall for the hung container" "forecast=$ft stall=$st hang=$hang"
fi
podman rm -f -t 0 "oomcast-ctr-hang-$$" >/dev/null 2>&1
stop_daemon
finish
