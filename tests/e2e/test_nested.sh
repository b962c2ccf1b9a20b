#!/usr/bin/env bash
# Nested limits, as a pod's or a node's over its containers': a parent limited at 100 MiB over
# two children limited at 80 MiB each, a 4 MB/s leak in each. The parent's limit comes first
# (about 12 s), far below either child's own: the kill is the parent's, its forecast's lead
# goes with it, and the event names the child the victim lived in. The surviving leak then
# meets its own child's limit: that kill is the child's, with no victim_cgroup.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

h=10
P=$(make_cgroup nest $((100 << 20))) || { not_ok "mkdir parent"; finish; }
for c in a b; do
	mkdir "$P/$c" && echo $((80 << 20)) > "$P/$c/memory.limit_in_bytes" ||
		{ not_ok "mkdir child $c"; finish; }
done
out=$TEST_TMP/nested.json
start_daemon "$out" --cgroup "$P" --cgroup "$P/a" --cgroup "$P/b" --horizon $h ||
	{ not_ok "daemon ready" "$(tail -3 "$out.err")"; finish; }
run_in_cgroup "$P/a" "$LEAK" --rate 4 --timeout 60; pa=$WORK_PID
run_in_cgroup "$P/b" "$LEAK" --rate 4 --timeout 60; pb=$WORK_PID
wait "$pa"; ra=$?
wait "$pb"; rb=$?
for _ in $(seq 50); do [ "$(count_events "$out" oom_kill)" -ge 2 ] && break; sleep 0.1; done
stop_daemon
check "both leaks were OOM-killed (exit $ra, $rb)" test "$ra" -eq 137 -a "$rb" -eq 137
check "two oom_kill events" test "$(count_events "$out" oom_kill)" -eq 2

first_cg=$(field "$out" oom_kill cgroup 0)
victim_cg=$(field "$out" oom_kill victim_cgroup 0)
victim_pid=$(field "$out" oom_kill pid 0)
check "the first kill is the parent's ($first_cg)" test "$first_cg" = "$P"
check "at the parent's limit ($(field "$out" oom_kill usage_bytes 0) bytes)" \
	in_range "$(field "$out" oom_kill usage_bytes 0)" $((98 << 20)) $((100 << 20))
case $victim_pid in
"$pa") want=$P/a ;;
"$pb") want=$P/b ;;
*) want="(pid $victim_pid is neither leak)" ;;
esac
check "it names the child the victim lived in ($victim_cg)" test "$victim_cg" = "$want"
lead=$(field "$out" oom_kill lead_seconds 0)
check "the parent's forecast came 0.8-1.5 x $h s before its kill (${lead:-none})" \
	in_range "${lead:--1}" "$(python3 -c "print(0.8*$h)")" "$(python3 -c "print(1.5*$h)")"

second_cg=$(field "$out" oom_kill cgroup 1)
survivor=$([ "$victim_pid" = "$pa" ] && echo "$P/b" || echo "$P/a")
check "the second kill is the surviving child's, at its own limit ($second_cg)" \
	test "$second_cg" = "$survivor"
check "... with no victim_cgroup" test -z "$(field "$out" oom_kill victim_cgroup 1)"
check "daemon exit 0 on SIGTERM" test "$DAEMON_RC" -eq 0
finish
