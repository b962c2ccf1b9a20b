#!/usr/bin/env bash
# With oom_kill_disable the leak hangs at the limit instead of dying: the forecast must come
# at least 0.7x the horizon before the hang, and `stall` within 3 s after it.
source "$(dirname "$0")/lib.sh"
need_root

for c in "4 8 96" "3 15 128"; do
	read -r rate horizon limit_mb <<<"$c"
	name="stall_${rate}MBps_h${horizon}"
	cg=$(make_cgroup "stall$rate" $((limit_mb << 20))) || { not_ok "$name: mkdir"; continue; }
	echo 1 > "$cg/memory.oom_control"
	out=$TEST_TMP/$name.json
	start_daemon "$out" --cgroup "$cg" --horizon "$horizon" || { not_ok "$name: daemon ready"; continue; }
	run_in_cgroup "$cg" "$LEAK" --rate "$rate" --timeout $((limit_mb / rate + 40))
	# the hang: the first moment the kernel reports under_oom (polled at 20 Hz)
	hang=""
	for ((i = 0; i < (limit_mb / rate + 30) * 20; i++)); do
		if grep -q '^under_oom 1' "$cg/memory.oom_control"; then
			hang=$(date +%s.%N); break
		fi
		sleep 0.05
	done
	[ -n "$hang" ] && wait_event "$out" stall 5
	check "$name: the leak hung at the limit (under_oom 1)" test -n "$hang"
	check "$name: the leak is still alive (not killed)" kill -0 "$WORK_PID"
	stop_daemon
	kill -KILL "$WORK_PID" 2>/dev/null
	ft=$(field "$out" forecast time); st=$(field "$out" stall time)
	if [ -z "$hang" ] || [ -z "$ft" ] || [ -z "$st" ]; then
		not_ok "$name: forecast and stall" "forecast=$ft stall=$st hang=$hang"; continue
	fi
	lead=$(python3 -c "print($hang - $ft)")
	check "$name: forecast $lead s before the hang (>= 0.7 x $horizon)" \
		in_range "$lead" "$(python3 -c "print(0.7*$horizon)")" 1e9
	after=$(python3 -c "print($st - $hang)")
	check "$name: stall $after s after the hang (<= 3)" in_range "$after" -1 3
	check "$name: no oom_kill" test "$(count_events "$out" oom_kill)" -eq 0
done
finish
