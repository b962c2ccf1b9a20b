#!/usr/bin/env bash
# test_replay.sh: `run --record` on a real leak that the kernel OOM-kills, then `replay`:
# --json gives the very events printed live; --summary and --svg describe the real incident;
# a record whose daemon was SIGKILLed still replays (losing at most the last second);
# damaged copies fail as documented; a rotated record (FILE.1 FILE) replays the live events;
# a hang at the limit (oom_kill_disable) replays to the same stall.
# Prints the record's size per cgroup-hour.
source "$(dirname "$0")/lib.sh"
need_root

RATE=6          # MB/s
LIMIT_MB=96
HORIZON=10

# json_check FILE PYTHON-EXPR: evaluate EXPR with `s` = the summary line of our cgroup,
# `ev` = all JSON lines of FILE; true -> exit 0
json_check() {
	python3 - "$1" "$2" "$CG" <<'PY'
import json, sys
f, expr, cg = sys.argv[1:4]
ev = [json.loads(l) for l in open(f) if l.startswith("{")]
s = next((e for e in ev if e.get("event") == "summary" and e.get("cgroup") == cg), {})
sys.exit(0 if eval(expr) else 1)
PY
}

file_size() { stat -c %s "$1"; }

# new_cgroup VAR NAME LIMIT: make_cgroup, but known to the EXIT trap. (make_cgroup run in
# $( ) appends to _cgroups in a subshell, so the trap would never remove the cgroup.)
new_cgroup() {
	_cgroups+=("$MEMCG_ROOT/oomcast-$2-$$")
	printf -v "$1" %s "$(make_cgroup "$2" "$3")" && [ -n "${!1}" ]
}

# ---- 1. a leak killed by the kernel, recorded; replay prints the same events ----
new_cgroup CG replay $((LIMIT_MB << 20)) || { not_ok "mkdir cgroup"; exit 1; }
rec=$TEST_TMP/leak.rec
live=$TEST_TMP/live.json
if ! start_daemon "$live" --cgroup "$CG" --horizon "$HORIZON" --record "$rec"; then
	not_ok "daemon ready" "$(tail -3 "$live.err")"; exit 1
fi
t_start=$(date +%s.%N)
run_in_cgroup "$CG" "$LEAK" --rate "$RATE" --timeout $((LIMIT_MB / RATE + 30))
leak_pid=$WORK_PID
wait "$WORK_PID"; rc=$?
wait_event "$live" oom_kill 5
sleep 1.5               # the calm after the kill is part of the record too
stop_daemon
t_stop=$(date +%s.%N)
check "leak was OOM-killed (exit $rc)" test "$rc" -eq 137
check "live output has a forecast and the oom_kill" \
	test "$(count_events "$live" forecast)" -ge 1 -a "$(count_events "$live" oom_kill)" -eq 1

"$OOMCAST" replay "$rec" --json > "$TEST_TMP/replay.json" 2> "$TEST_TMP/replay.err"
check "replay exits 0 (stderr: $(head -c 200 "$TEST_TMP/replay.err"))" test $? -eq 0
if cmp -s "$live" "$TEST_TMP/replay.json"; then
	ok "replay --json prints exactly what run --json printed ($(wc -l < "$live") events)"
else
	not_ok "replay --json prints exactly what run --json printed" \
		"$(diff "$live" "$TEST_TMP/replay.json" | head -5 | tr '\n' ' ')"
fi
# the record is 0600 root: a readable copy for nobody
chmod o+x "$TEST_TMP" && mkdir -m 755 "$TEST_TMP/pub" && install -m 644 "$rec" "$TEST_TMP/pub/leak.rec"
setpriv --reuid=65534 --regid=65534 --clear-groups "$OOMCAST" replay "$TEST_TMP/pub/leak.rec" \
	--json > "$TEST_TMP/nobody.json" 2> "$TEST_TMP/nobody.err"
check "replay needs no root: as nobody, the same events" cmp -s "$live" "$TEST_TMP/nobody.json"
"$OOMCAST" replay "$rec" --json --horizon 60 > "$TEST_TMP/h60.json" 2>/dev/null
check "replay --horizon 60 forecasts earlier than the recorded $HORIZON s" python3 - \
	"$live" "$TEST_TMP/h60.json" <<'PY'
import json, sys
def first(f):
    return next(json.loads(l)["time"] for l in open(f) if '"event":"forecast"' in l)
sys.exit(0 if first(sys.argv[2]) < first(sys.argv[1]) else 1)
PY

# size: the whole record over the whole run, one cgroup
bytes=$(file_size "$rec")
per_hour=$(python3 -c "print(int($bytes / ($t_stop - $t_start) * 3600))")
echo "# record: $bytes bytes for one cgroup over $(python3 -c "print(round($t_stop - $t_start, 1))") s of a leak: $per_hour bytes/cgroup/hour"
check "record under 4 MB per cgroup-hour while leaking ($per_hour)" test "$per_hour" -lt 4000000

# ---- 2. the summary and the picture of the real incident ----
"$OOMCAST" replay "$rec" --json -q --summary > "$TEST_TMP/summary.json" 2>/dev/null
kill_lead=$(field "$live" oom_kill lead_seconds)
ft=$(field "$live" forecast time)
check "summary: one kill, victim is the leak (pid $leak_pid)" json_check "$TEST_TMP/summary.json" \
	"s['oom_kills'] == 1 and s['victims'][0]['pid'] == $leak_pid and s['victims'][0]['comm'] == 'leak'"
check "summary: peak usage at the $LIMIT_MB MiB limit" json_check "$TEST_TMP/summary.json" \
	"s['limit_bytes'] == $((LIMIT_MB << 20)) and 0.9 * s['limit_bytes'] <= s['peak_usage_bytes'] <= s['limit_bytes']"
check "summary: growth near $RATE MB/s" json_check "$TEST_TMP/summary.json" \
	"0.5 * ${RATE}e6 <= s['growth_bytes_per_second'] <= 1.5 * ${RATE}e6"
check "summary: first forecast at the live forecast's time ($ft), lead $kill_lead s" \
	json_check "$TEST_TMP/summary.json" \
	"abs(s['first_forecast_time'] - $ft) < 1e-6 and abs(s['kill_lead_seconds'][0] - $kill_lead) < 1e-3"
check "summary: the leak is the top task" json_check "$TEST_TMP/summary.json" \
	"s['top_tasks'] and s['top_tasks'][0]['pid'] == $leak_pid and s['top_tasks'][0]['growth_bytes'] > 50e6"
"$OOMCAST" replay "$rec" -q --summary > "$TEST_TMP/summary.txt" 2>&1
check "text summary names the kill and its lead" \
	grep -q "oom_kill leak\[$leak_pid\]: forecast .* s before" "$TEST_TMP/summary.txt"

svg=$TEST_TMP/leak.svg
"$OOMCAST" replay "$rec" -q --svg "$svg" 2>/dev/null
check "svg: written" test -s "$svg"
check "svg: well-formed XML" python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$svg"
for want in 'id="cg0-usage" class="series usage"' 'id="cg0-limit" class="series limit"' \
	'id="cg0-reclaimable"' 'id="cg0-eta" class="series eta"' 'class="marker forecast"' \
	'class="marker oom_kill"' "id=\"cg0-task-$leak_pid\"" "data-path=\"$CG\""; do
	check "svg: has $want" grep -qF "$want" "$svg"
done
if command -v rsvg-convert > /dev/null; then
	rsvg-convert "$svg" -o "$TEST_TMP/leak.png" 2>/dev/null
	check "svg: rsvg-convert renders it" test -s "$TEST_TMP/leak.png"
fi

# ---- 3. damaged copies ----
cp "$rec" "$TEST_TMP/torn.rec"
truncate -s $(($(file_size "$rec") - 3)) "$TEST_TMP/torn.rec"
"$OOMCAST" replay "$TEST_TMP/torn.rec" --json > "$TEST_TMP/torn.json" 2> "$TEST_TMP/torn.err"
check "torn tail: exit 0" test $? -eq 0
check "torn tail: a warning names the byte offset" grep -q "warning: .*truncated record at byte offset [0-9]" "$TEST_TMP/torn.err"
cp "$rec" "$TEST_TMP/bad.rec"
printf '\xff\xff\xff\xff' | dd of="$TEST_TMP/bad.rec" bs=1 seek=$(($(file_size "$rec") / 2)) conv=notrunc 2>/dev/null
"$OOMCAST" replay "$TEST_TMP/bad.rec" --json > "$TEST_TMP/bad.json" 2> "$TEST_TMP/bad.err"
check "corrupt middle: exit 1" test $? -eq 1
check "corrupt middle: the message names the byte offset" grep -q "corrupt record at byte offset [0-9]" "$TEST_TMP/bad.err"
check "corrupt middle: the valid prefix is replayed" grep -q '"event":"ready"' "$TEST_TMP/bad.json"
head -c 100 /dev/urandom > "$TEST_TMP/junk.rec"
"$OOMCAST" replay "$TEST_TMP/junk.rec" > /dev/null 2> "$TEST_TMP/junk.err"
check "not a record: exit 1, says bad magic" test $? -eq 1 -a -n "$(grep 'bad magic at byte offset 0' "$TEST_TMP/junk.err")"
"$OOMCAST" replay "$TEST_TMP/missing.rec" > /dev/null 2> "$TEST_TMP/missing.err"
check "missing file: exit 1, says so" test $? -eq 1 -a -n "$(grep 'No such file' "$TEST_TMP/missing.err")"

# ---- 4. a SIGKILLed daemon: its record replays, minus at most the last second ----
rec2=$TEST_TMP/killed.rec
live2=$TEST_TMP/live2.json
new_cgroup CG2 replaykill $((128 << 20)) || { not_ok "mkdir cgroup 2"; exit 1; }
if start_daemon "$live2" --cgroup "$CG2" --horizon 20 --record "$rec2"; then
	run_in_cgroup "$CG2" "$LEAK" --rate 4 --timeout 60
	wait_event "$live2" forecast 30
	sleep 2.5
	kill -KILL "$DAEMON_PID"
	t_kill=$(date +%s.%N)
	wait "$DAEMON_PID" 2>/dev/null
	kill -KILL "$WORK_PID" 2>/dev/null
	"$OOMCAST" replay "$rec2" --json > "$TEST_TMP/replay2.json" 2> "$TEST_TMP/replay2.err"
	check "SIGKILLed daemon: replay exits 0" test $? -eq 0
	check "SIGKILLed daemon: replayed events are the live ones, in order" python3 - \
		"$live2" "$TEST_TMP/replay2.json" <<'PY'
import sys
live = open(sys.argv[1]).read().splitlines()
rep = open(sys.argv[2]).read().splitlines()
sys.exit(0 if rep and rep == live[:len(rep)] and any('"forecast"' in l for l in rep) else 1)
PY
	CG=$CG2
	"$OOMCAST" replay "$rec2" --json -q --summary > "$TEST_TMP/summary2.json" 2>/dev/null
	check "SIGKILLed daemon: the record reaches within 2.5 s of the kill" \
		json_check "$TEST_TMP/summary2.json" "s['time'] >= $t_kill - 2.5"
else
	not_ok "daemon 2 ready" "$(tail -3 "$live2.err")"
fi

# ---- 5. rotation: FILE.1 FILE replay as one history ----
rec3=$TEST_TMP/rot.rec
live3=$TEST_TMP/live3.json
# --record-max-bytes is at least 4096: a leak long enough for ~1.5 x that, so one rotation
max=4096
lim3=$((LIMIT_MB * 6144 / bytes)); lim3=$((lim3 < LIMIT_MB ? LIMIT_MB : lim3 > 400 ? 400 : lim3))
new_cgroup CG3 replayrot $((lim3 << 20)) || { not_ok "mkdir cgroup 3"; exit 1; }
if start_daemon "$live3" --cgroup "$CG3" --horizon "$HORIZON" --record "$rec3" --record-max-bytes "$max"; then
	run_in_cgroup "$CG3" "$LEAK" --rate "$RATE" --timeout $((lim3 / RATE + 30))
	wait "$WORK_PID"
	wait_event "$live3" oom_kill 5
	sleep 1.5
	stop_daemon
	check "rotation ($lim3 MiB leak): FILE.1 exists, both within $max bytes" test -f "$rec3.1" -a \
		"$(file_size "$rec3.1" 2>/dev/null)0" -le "${max}0" -a "$(file_size "$rec3")" -le "$max"
	"$OOMCAST" replay "$rec3" --json > "$TEST_TMP/rot-last.json" 2>/dev/null
	check "rotation: the newer file replays alone, re-announcing the cgroup" \
		grep -q "\"event\":\"watch\".*\"cgroup\":\"$CG3\"" "$TEST_TMP/rot-last.json"
	"$OOMCAST" replay "$rec3.1" "$rec3" --json > "$TEST_TMP/rot.json" 2>/dev/null
	if cmp -s "$live3" "$TEST_TMP/rot.json"; then
		ok "rotation: replay FILE.1 FILE prints exactly the live events"
	else
		not_ok "rotation: replay FILE.1 FILE prints exactly the live events" \
			"$(diff "$live3" "$TEST_TMP/rot.json" | head -5 | tr '\n' ' ')"
	fi
else
	not_ok "daemon 3 ready" "$(tail -3 "$live3.err")"
fi
# ---- 6. a hang (oom_kill_disable): the stall replays too, and is drawn ----
rec4=$TEST_TMP/stall.rec
live4=$TEST_TMP/live4.json
new_cgroup CG4 replaystall $((64 << 20)) || { not_ok "mkdir cgroup 4"; exit 1; }
echo 1 > "$CG4/memory.oom_control"
if start_daemon "$live4" --cgroup "$CG4" --horizon 5 --record "$rec4"; then
	run_in_cgroup "$CG4" "$LEAK" --rate 8 --timeout 40
	wait_event "$live4" stall 25
	stop_daemon
	kill -KILL "$WORK_PID" 2>/dev/null
	check "stall: the live daemon saw it" test "$(count_events "$live4" stall)" -ge 1
	"$OOMCAST" replay "$rec4" --json --svg "$TEST_TMP/stall.svg" > "$TEST_TMP/stall.json" 2>/dev/null
	check "stall: replay --json prints exactly the live events" cmp -s "$live4" "$TEST_TMP/stall.json"
	check "stall: the SVG has a stall marker" grep -qF 'class="marker stall"' "$TEST_TMP/stall.svg"
else
	not_ok "daemon 4 ready" "$(tail -3 "$live4.err")"
fi
finish
