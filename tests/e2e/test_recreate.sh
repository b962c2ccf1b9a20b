#!/usr/bin/env bash
# A --cgroup directory removed and made again (a service restarted by systemd, a container
# runtime reusing its path) is a new cgroup: a new inode, a new memcg for the kernel side.
# The daemon must follow it: `unwatch`, then `watch` with the new id, and the leak in the new
# cgroup is forecast (with its task, which only the kernel side's watch can name) and its
# kill reported. Before, the watch kept the old id: no task, no oom_kill, a late forecast.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

h=5
cg=$(make_cgroup recreate $((64 << 20))) || { not_ok "mkdir"; finish; }
out=$TEST_TMP/recreate.json
start_daemon "$out" --cgroup "$cg" --horizon $h || { not_ok "daemon ready" "$(tail -3 "$out.err")"; finish; }
old=$(field "$out" watch cgroup_id 0)
rmdir "$cg" && mkdir "$cg" && echo $((64 << 20)) > "$cg/memory.limit_in_bytes" ||
	{ not_ok "remake the cgroup"; finish; }
new=$(stat -c %i "$cg")
for _ in $(seq 60); do [ "$(count_events "$out" watch)" -ge 2 ] && break; sleep 0.1; done
check "unwatch of the old cgroup" test "$(field "$out" unwatch cgroup_id 0)" = "$old"
check "watch of the new one (id $new, was $old)" test "$(field "$out" watch cgroup_id 1)" = "$new"
run_in_cgroup "$cg" "$LEAK" --rate 4 --timeout 60
wait "$WORK_PID"; rc=$?
wait_event "$out" oom_kill 5
stop_daemon
check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
check "oom_kill reported for the new cgroup" test "$(field "$out" oom_kill cgroup_id 0)" = "$new"
check "forecast for the new cgroup" test "$(field "$out" forecast cgroup_id 0)" = "$new"
check "the forecast names the leak (pid $WORK_PID), seen by the kernel side" \
	python3 -c "import json,sys
e=[json.loads(l) for l in open('$out') if l.startswith('{')]
f=[x for x in e if x['event']=='forecast']
sys.exit(0 if f and any(t['pid']==$WORK_PID for t in f[0]['top_tasks']) else 1)"
lead=$(field "$out" oom_kill lead_seconds 0)
check "the forecast came at least 0.5 x $h s before the kill (${lead:-none})" in_range "${lead:--1}" 2.5 1000

# Discovery (no --cgroup: every limited cgroup of the host) finds the path remade between
# two rescans: it says `unwatch` (old id) before `watch` (new id), so that a consumer keyed
# on paths keeps the new cgroup.
out3=$TEST_TMP/discover.json
start_daemon "$out3" || { not_ok "discovery daemon ready" "$(tail -3 "$out3.err")"; finish; }
old=$(stat -c %i "$cg")
rmdir "$cg" && mkdir "$cg" && echo $((64 << 20)) > "$cg/memory.limit_in_bytes"
new=$(stat -c %i "$cg")
# discovery spaces its rescans by what they cost, up to 10 s apart on a busy host
for _ in $(seq 150); do grep -q "\"cgroup_id\":$new" "$out3" && break; sleep 0.1; done
stop_daemon
check "discovery: unwatch of the old id ($old), then watch of the new ($new)" python3 -c "
import json, sys
e = [json.loads(l) for l in open('$out3') if l.startswith('{')]
i = [n for n, x in enumerate(e) if x['event'] == 'unwatch' and x['cgroup_id'] == $old]
j = [n for n, x in enumerate(e) if x['event'] == 'watch' and x['cgroup_id'] == $new]
sys.exit(0 if i and j and i[0] < j[0] and e[j[0]]['cgroup'] == '$cg' else 1)"

# Without --json, a cgroup that comes or goes after `ready` is said too (those found at start
# are only counted).
out2=$TEST_TMP/recreate.txt
"$OOMCAST" run --no-pin --cgroup "$cg" > "$out2" 2> "$out2.err" &
DAEMON_PID=$!
_pids+=("$DAEMON_PID")
for _ in $(seq 200); do grep -q ' ready ' "$out2" && break; sleep 0.1; done
rmdir "$cg" && mkdir "$cg" && echo $((64 << 20)) > "$cg/memory.limit_in_bytes"
for _ in $(seq 60); do grep -q ' watch ' "$out2" && break; sleep 0.1; done
stop_daemon
check "text: no watch line before ready" test "$(grep -c ' watch ' <(sed '/ ready /q' "$out2"))" -eq 0
check "text: unwatch and watch said after ready" \
	bash -c "grep -q ' unwatch ' '$out2' && grep -q ' watch ' '$out2'"
finish
