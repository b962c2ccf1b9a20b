#!/usr/bin/env bash
# Shapes, for real: a stationary GC-shaped sawtooth peaking at 90% of the limit gets no
# forecast after a 10 s warm-up, and a rising sawtooth (a leak under a GC) is forecast at
# least half a horizon before the kernel kills it. Both cgroups run at once (~80 s).
source "$(dirname "$0")/lib.sh"
need_root

horizon=10
saw=$(make_cgroup "shape-saw" $((318 << 20))) || { not_ok "mkdir"; finish; }     # peak 300 MB = 90%
rise=$(make_cgroup "shape-rise" $((256 << 20))) || { not_ok "mkdir"; finish; }
out=$TEST_TMP/shapes.json
start_daemon "$out" --cgroup "$saw" --cgroup "$rise" --horizon $horizon || { not_ok "daemon ready"; finish; }
t0=$(date +%s.%N)
run_in_cgroup "$saw" "$LEAK" --shape sawtooth --floor 150 --peak 300 --rate 40 --timeout 60
saw_pid=$WORK_PID
run_in_cgroup "$rise" "$LEAK" --shape rising-sawtooth --floor 60 --peak 120 --peak-rise 8 --rate 40 --timeout 80
wait "$WORK_PID"; rc=$?
wait "$saw_pid"
wait_event "$out" oom_kill 5
stop_daemon
check "rising sawtooth was OOM-killed (exit $rc)" test "$rc" -eq 137

late=$(python3 - "$out" "$saw" "$t0" <<'PY'
import json, sys
f, cg, t0 = sys.argv[1], sys.argv[2], float(sys.argv[3])
evs = [json.loads(l) for l in open(f) if l.startswith("{")]
print(sum(1 for e in evs if e.get("event") == "forecast" and e.get("cgroup") == cg and e["time"] > t0 + 10))
PY
)
check "stationary sawtooth at 90%: no forecast after 10 s ($late)" test "$late" -eq 0
lead=$(python3 - "$out" "$rise" <<'PY'
import json, sys
f, cg = sys.argv[1:3]
evs = [json.loads(l) for l in open(f) if l.startswith("{") and json.loads(l).get("cgroup") == cg]
k = next((e for e in evs if e["event"] == "oom_kill"), None)
print("" if not k or k.get("lead_seconds") is None else k["lead_seconds"])
PY
)
if [ -n "$lead" ]; then
	check "rising sawtooth forecast $lead s before the kill (>= $((horizon / 2)))" in_range "$lead" $((horizon / 2)) 1e9
else
	not_ok "rising sawtooth: a forecast before the kill"
fi
finish
