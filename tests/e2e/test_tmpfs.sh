#!/usr/bin/env bash
# Memory held in tmpfs (/dev/shm, a Kubernetes emptyDir of medium Memory) is shmem: charged
# to the cgroup of the task that wrote it, kept off the file LRU, not reclaimable without
# swap, and not freed when the OOM killer kills the writer. It is risk, not page cache: a
# file growing on tmpfs is forecast like an anonymous leak (a daemon that counted it as
# cache, as v2's memory.stat `file` does, would never warn). After the kill the cgroup
# stays full with no task in it: nothing grows, so nothing more is forecast.
source "$(dirname "$0")/lib.sh"
need_root

shm=$TEST_TMP/shm
mount_tmpfs "$shm" 256m || { not_ok "mount a tmpfs of our own"; finish; }
cg=$(make_cgroup "tmpfs" $((96 << 20)))
out=$TEST_TMP/tmpfs.json
horizon=10
start_daemon "$out" --cgroup "$cg" --horizon "$horizon" || not_ok "daemon ready"
run_in_cgroup "$cg" "$LEAK" --rate 4 --shm "$shm/blob" --timeout 60
wait "$WORK_PID"; rc=$?
wait_event "$out" oom_kill 5
shmem=$(awk '$1 == "shmem" { print $2 }' "$cg/memory.stat")
check "the writer was killed (exit $rc)" test "$rc" -eq 137
check "the cgroup's memory was shmem ($shmem bytes)" test "${shmem:-0}" -ge $((64 << 20))
check_lead "shmem leak at H=$horizon" "$out" "$(python3 -c "print(0.8*$horizon)")" \
	"$(python3 -c "print(1.5*$horizon)")"
check "the forecast counted none of it reclaimable ($(field "$out" forecast reclaimable_bytes))" \
	in_range "$(field "$out" forecast reclaimable_bytes)" 0 $((8 << 20))
# the file outlives its writer: the cgroup stays at its limit with no task in it
sleep 8
usage=$(cat "$cg/memory.usage_in_bytes")
check "the cgroup is still full after the kill ($usage bytes)" test "$usage" -ge $((88 << 20))
check "no task left in it" test -z "$(cat "$cg/cgroup.procs")"
check "one forecast in all: none after the kill ($(count_events "$out" forecast))" \
	test "$(count_events "$out" forecast)" -eq 1
check "no stall for a cgroup without tasks ($(count_events "$out" stall))" \
	test "$(count_events "$out" stall)" -eq 0
stop_daemon
check "daemon exits 0 (got $DAEMON_RC)" test "$DAEMON_RC" -eq 0
finish
