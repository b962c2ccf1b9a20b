#!/usr/bin/env bash
# Nested limits, as a pod's or a node's over its containers': a parent limited at 100 MiB over
# two children limited at 80 MiB each, a 4 MB/s leak in each. The parent's limit comes first
# (about 12 s), far below either child's own: the kill is the parent's, its forecast's lead
# goes with it, and the event names the child the victim lived in. The surviving leak then
# meets its own child's limit: that kill is the child's, with no victim_cgroup.
# Twice: with the default hooks, and with --classic-tracepoints (the mark_victim tracepoint
# of kernels before 6.8, which passes only the victim's pid: the task whose charge failed may
# be the other leak, and the victim's own cgroup then comes from the tasks map).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

h=10
# family NAME DAEMON_FLAGS...: parent P (100 MiB) over children P/a and P/b (80 MiB each), all
# three watched by a daemon writing to $out
family() {
	P=$(make_cgroup "$1" $((100 << 20))) || { not_ok "$1: mkdir parent"; return 1; }
	for c in a b; do
		mkdir "$P/$c" && echo $((80 << 20)) > "$P/$c/memory.limit_in_bytes" ||
			{ not_ok "$1: mkdir child $c"; return 1; }
	done
	out=$TEST_TMP/$1.json
	start_daemon "$out" --cgroup "$P" --cgroup "$P/a" --cgroup "$P/b" --horizon $h "${@:2}" ||
		{ not_ok "$1: daemon ready" "$(tail -3 "$out.err")"; return 1; }
}

# nested LABEL DAEMON_FLAGS...
nested() {
	local P c out pa pb ra rb first_cg victim_cg victim_pid want lead second_cg survivor
	family "nest$1" "${@:2}" || return
	run_in_cgroup "$P/a" "$LEAK" --rate 4 --timeout 60; pa=$WORK_PID
	run_in_cgroup "$P/b" "$LEAK" --rate 4 --timeout 60; pb=$WORK_PID
	wait "$pa"; ra=$?
	wait "$pb"; rb=$?
	for _ in $(seq 50); do [ "$(count_events "$out" oom_kill)" -ge 2 ] && break; sleep 0.1; done
	stop_daemon
	check "$1: both leaks were OOM-killed (exit $ra, $rb)" test "$ra" -eq 137 -a "$rb" -eq 137
	check "$1: two oom_kill events" test "$(count_events "$out" oom_kill)" -eq 2

	first_cg=$(field "$out" oom_kill cgroup 0)
	victim_cg=$(field "$out" oom_kill victim_cgroup 0)
	victim_pid=$(field "$out" oom_kill pid 0)
	check "$1: the first kill is the parent's ($first_cg)" test "$first_cg" = "$P"
	check "$1: at the parent's limit ($(field "$out" oom_kill usage_bytes 0) bytes)" \
		in_range "$(field "$out" oom_kill usage_bytes 0)" $((98 << 20)) $((100 << 20))
	case $victim_pid in
	"$pa") want=$P/a ;;
	"$pb") want=$P/b ;;
	*) want="(pid $victim_pid is neither leak)" ;;
	esac
	check "$1: it names the child the victim lived in ($victim_cg)" test "$victim_cg" = "$want"
	lead=$(field "$out" oom_kill lead_seconds 0)
	check "$1: the parent's forecast came 0.8-1.5 x $h s before its kill (${lead:-none})" \
		in_range "${lead:--1}" "$(python3 -c "print(0.8*$h)")" "$(python3 -c "print(1.5*$h)")"

	second_cg=$(field "$out" oom_kill cgroup 1)
	survivor=$([ "$victim_pid" = "$pa" ] && echo "$P/b" || echo "$P/a")
	check "$1: the second kill is the surviving child's, at its own limit ($second_cg)" \
		test "$second_cg" = "$survivor"
	check "$1: ... with no victim_cgroup" test -z "$(field "$out" oom_kill victim_cgroup 1)"
	check "$1: daemon exit 0 on SIGTERM" test "$DAEMON_RC" -eq 0
}

# holder LABEL DAEMON_FLAGS...: the victim is not the task whose charge failed. A holder of
# 70 MiB in child a (the largest task), a 4 MB/s leak in child b: the leak meets the
# parent's 100 MiB and the OOM killer takes the holder. Before 6.8 the tracepoint runs in
# the leak's context: only the tasks map knows the holder's cgroup.
holder() {
	local P c ph pl rh out vic
	family "hold$1" "${@:2}" || return
	run_in_cgroup "$P/a" "$LEAK" --rate 70 --max 70 --timeout 40; ph=$WORK_PID
	sleep 2
	run_in_cgroup "$P/b" "$LEAK" --rate 4 --timeout 40; pl=$WORK_PID
	wait "$ph"; rh=$?
	wait_event "$out" oom_kill 5
	kill "$pl" 2>/dev/null
	stop_daemon
	vic=$(field "$out" oom_kill pid 0)
	check "$1: the holder (pid $ph) was OOM-killed (exit $rh), not the leak" \
		test "$rh" -eq 137 -a "$vic" = "$ph"
	check "$1: the kill is the parent's ($(field "$out" oom_kill cgroup 0))" \
		test "$(field "$out" oom_kill cgroup 0)" = "$P"
	check "$1: it names the holder's child ($(field "$out" oom_kill victim_cgroup 0))" \
		test "$(field "$out" oom_kill victim_cgroup 0)" = "$P/a"
}

nested default
nested classic --classic-tracepoints
holder default
holder classic --classic-tracepoints
finish
