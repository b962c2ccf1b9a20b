#!/usr/bin/env bash
# A steady leak in a real v1 memcg is OOM-killed by the kernel; the first forecast must
# come between 0.8x and 1.5x the horizon before the kill, and oom_kill names the victim.
source "$(dirname "$0")/lib.sh"
need_root

# rate MB/s, horizon s, limit MiB: kill after limit/rate s, well past the horizon
cases=("8 5 128" "4 10 96" "3 20 128" "2 30 112")
for c in "${cases[@]}"; do
	read -r rate horizon limit_mb <<<"$c"
	name="leak_${rate}MBps_h${horizon}"
	cg=$(make_cgroup "leak$rate" $((limit_mb << 20))) || { not_ok "$name: mkdir"; continue; }
	out=$TEST_TMP/$name.json
	if ! start_daemon "$out" --cgroup "$cg" --horizon "$horizon"; then
		not_ok "$name: daemon ready" "$(tail -3 "$out.err")"; continue
	fi
	run_in_cgroup "$cg" "$LEAK" --rate "$rate" --timeout $((limit_mb / rate + 30))
	wait "$WORK_PID"; rc=$?
	wait_event "$out" oom_kill 5
	stop_daemon
	check "$name: leak was OOM-killed (exit $rc)" test "$rc" -eq 137
	check_lead "$name" "$out" "$(python3 -c "print(0.8*$horizon)")" \
		"$(python3 -c "print(1.5*$horizon)")" || continue
	check "$name: oom_kill names the leak (pid $WORK_PID)" test "$(field "$out" oom_kill pid)" = "$WORK_PID"
	check "$name: oom_kill carries the lead" test -n "$(field "$out" oom_kill lead_seconds)"
	check "$name: one forecast per episode" test "$(count_events "$out" forecast)" -eq 1
	check "$name: forecast has limit $limit_mb MiB" test "$(field "$out" forecast limit_bytes)" = $((limit_mb << 20))
	check "$name: daemon exit 0 on SIGTERM" test "$DAEMON_RC" -eq 0
done
finish
