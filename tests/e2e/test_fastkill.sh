#!/usr/bin/env bash
# Discovery (no --cgroup) rescans every 2 s or more; a container that fills its limit within a
# second of its start is killed before any rescan sees its cgroup, and its runtime removes
# the cgroup right after. The kernel's victim record still names it: the daemon must look
# at once and report the kill (no forecast could come, but the kill must not go unsaid).
# Three such cgroups, one after another: each kill is reported with its pid.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

out=$TEST_TMP/fast.json
start_daemon "$out" --horizon 10 || { not_ok "daemon ready" "$(tail -3 "$out.err")"; finish; }
for i in 1 2 3; do
	cg=$(make_cgroup "fast$i" $((32 << 20))) || { not_ok "mkdir fast$i"; continue; }
	run_in_cgroup "$cg" "$LEAK" --rate 200 --timeout 20
	wait "$WORK_PID"; rc=$?
	for _ in $(seq 30); do grep -q "\"oom_kill\".*\"cgroup\":\"$cg\"" "$out" && break; sleep 0.1; done
	check "fast$i: killed (exit $rc)" test "$rc" -eq 137
	check "fast$i: its kill reported, pid $WORK_PID" python3 -c "import json,sys
e=[json.loads(l) for l in open('$out') if l.startswith('{')]
sys.exit(0 if any(x['event']=='oom_kill' and x['cgroup']=='$cg' and x['pid']==$WORK_PID for x in e) else 1)"
	rmdir "$cg"
done
stop_daemon
check "daemon exit 0" test "$DAEMON_RC" -eq 0
finish
