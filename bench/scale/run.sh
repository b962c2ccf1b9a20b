#!/usr/bin/env bash
# bench/scale/run.sh: oomcast on a busy node. Creates NCG memory cgroups of its own
# (/sys/fs/cgroup/memory/oomcast-scale-<n>-$$) holding NTASKS sleeping tasks among them, starts
# the daemon in discovery mode, then leaks in NLEAK of those cgroups until the kernel kills each
# leak. Measures the daemon's CPU and RSS over the window, ring-buffer drops (the pinned health
# map), and kills the kernel made that the daemon did not report. Then churns cgroups (create
# and remove CHURN_RATE a second for CHURN_S) and checks the daemon's maps and memory come back.
# Everything it made is removed on exit, its tasks killed; nothing else is touched.
# Env: NCG (1000) NTASKS (10000) NLEAK (20) WINDOW_S (60) CHURN_RATE (200) CHURN_S (20)
#      OOMCAST_ARGS (extra daemon options). Results: build/bench/scale.json.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NCG=${NCG:-1000} NTASKS=${NTASKS:-10000} NLEAK=${NLEAK:-20} WINDOW_S=${WINDOW_S:-60}
CHURN_RATE=${CHURN_RATE:-200} CHURN_S=${CHURN_S:-20}
MEMCG=/sys/fs/cgroup/memory
PREFIX=$MEMCG/oomcast-scale
PIN=/sys/fs/bpf/oomcast-scale-$$
OUT=$ROOT/build/bench
TMP=$(mktemp -d /tmp/oomcast-scale.XXXXXX)
DAEMON=
mkdir -p "$OUT"

cleanup() {
	local cg p
	[ -n "$DAEMON" ] && kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
	[ -n "${CHURNER:-}" ] && kill "$CHURNER" 2>/dev/null
	for cg in "$PREFIX"-*-$$ "$PREFIX"-churn-*-$$; do
		[ -d "$cg" ] || continue
		for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	done
	sleep 0.5
	rm -rf "$PIN" 2>/dev/null
	for cg in "$PREFIX"-*-$$; do
		[ -d "$cg" ] || continue
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.2; done
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || { echo "scale bench: needs root" >&2; exit 1; }
for b in oomcast workloads/sleeper workloads/leak; do
	[ -x "$ROOT/build/$b" ] || { echo "scale bench: build/$b missing (make bench)" >&2; exit 1; }
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
map_len() { bpftool map dump pinned "$PIN/$1" -j 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
# map_has MAP IDFILE: how many of the ids in IDFILE are keys of MAP
map_has() {
	bpftool map dump pinned "$PIN/$1" -j 2>/dev/null | python3 -c '
import json, sys
ids = set(int(l) for l in open(sys.argv[1]) if l.strip())
print(sum(1 for e in json.load(sys.stdin) if e.get("formatted", e)["key"] in ids))' "$2"
}
rb_drops() {
	bpftool map dump pinned "$PIN/health" -j 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(v["value"]["rb_drops"] for e in d for v in e.get("formatted", e)["values"]))'
}

echo "# scale: $NCG cgroups, $NTASKS tasks, $NLEAK leaking; window $WINDOW_S s" >&2
t0=$SECONDS
per=$((NTASKS / NCG))
for ((i = 0; i < NCG; i++)); do
	cg=$PREFIX-$i-$$
	mkdir "$cg" && echo $((64 << 20)) > "$cg/memory.limit_in_bytes"
done
# The daemon starts before the tasks: it sees them arrive, as on a node that fills up.
"$ROOT/build/oomcast" run --json --pin-dir "$PIN" ${OOMCAST_ARGS:-} > "$TMP/events" 2> "$TMP/err" &
DAEMON=$!
for _ in $(seq 100); do grep -q '"event":"ready"' "$TMP/events" 2>/dev/null && break; sleep 0.2; done
# (started from a subshell: they are not this shell's jobs, so their deaths stay quiet)
for ((i = 0; i < NCG; i++)); do
	(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" "$2"' "$PREFIX-$i-$$" \
		"$ROOT/build/workloads/sleeper" "$per" &)
done
wait_tasks() {
	local n
	for _ in $(seq 150); do
		n=$(cat "$PREFIX"-*-$$/cgroup.procs 2>/dev/null | wc -l)
		[ "$n" -ge "$NTASKS" ] && break
		sleep 0.2
	done
	echo "$n"
}
ntasks=$(wait_tasks)
echo "# setup: $ntasks tasks in $NCG cgroups after $((SECONDS - t0)) s" >&2
sleep 5     # let discovery and the first polls of everything settle

# The window: leaks in NLEAK cgroups (limit 32-64 MiB, 1-4 MB/s) until killed.
c0=$(cpu_ticks "$DAEMON"); w0=$(date +%s.%N); d0=$(rb_drops)
leak_cgs=()
for ((k = 0; k < NLEAK; k++)); do
	cg=$PREFIX-$((k * NCG / NLEAK))-$$
	leak_cgs+=("$cg")
	echo $(((32 + k % 4 * 8) << 20)) > "$cg/memory.limit_in_bytes"
	rate=$((1 + k % 4))
	(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" --rate "$2" --timeout "$3"' "$cg" \
		"$ROOT/build/workloads/leak" "$rate" "$WINDOW_S" 2>/dev/null &)
done
rss_max=0
for ((s = 0; s < WINDOW_S; s++)); do
	sleep 1
	r=$(rss_kib "$DAEMON"); [ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
done
c1=$(cpu_ticks "$DAEMON"); w1=$(date +%s.%N); d1=$(rb_drops)
sleep 2     # the last kills' events
kills=0; reported=0; missed=()
for cg in "${leak_cgs[@]}"; do
	k=$(awk '/^oom_kill /{print $2}' "$cg/memory.oom_control")
	id=$(stat -c %i "$cg")
	e=$(grep -c "\"event\":\"oom_kill\".*\"cgroup_id\":$id[,}]" "$TMP/events")
	kills=$((kills + k)); reported=$((reported + (e < k ? e : k)))
	[ "$e" -lt "$k" ] && missed+=("$(basename "$cg"): $k kills, $e reported")
done
watched=$(map_len cgroups)
tasks_map=$(map_len tasks)
rss_window=$(rss_kib "$DAEMON")

# Churn: create and remove CHURN_RATE cgroups a second, with a limit (so they are watched).
echo "# churn: $CHURN_RATE cgroups/s for $CHURN_S s" >&2
for cg in "${leak_cgs[@]}"; do for p in $(cat "$cg/cgroup.procs"); do kill -KILL "$p"; done; done
sleep 3
base_cg=$(map_len cgroups); base_rss=$(rss_kib "$DAEMON")
churn() {
	local n=0 end=$((SECONDS + CHURN_S)) batch=$((CHURN_RATE / 10)) j cg
	while [ "$SECONDS" -lt "$end" ]; do
		for ((j = 0; j < batch; j++)); do
			cg=$PREFIX-churn-$((n++ % 500))-$$
			mkdir "$cg" 2>/dev/null && echo $((64 << 20)) > "$cg/memory.limit_in_bytes" &&
				stat -c %i "$cg" >> "$TMP/churn-ids"
		done
		sleep 0.05
		for ((j = n - batch; j < n; j++)); do rmdir "$PREFIX-churn-$((j % 500))-$$" 2>/dev/null; done
		sleep 0.05
	done
	echo "$n"
}
created=$(churn)
# Discovery rescans every 2 s, spaced out to what a rescan costs (0.2% of a core) but never
# more than 10 s apart (DISCOVER_MAX in user/run.c): the last removals leave the maps
# within that. Wait for it (bounded), and report how long it took.
t_churn=$SECONDS
while :; do
	sleep 1
	left_cg=$(map_has cgroups "$TMP/churn-ids"); left_trips=$(map_has trips "$TMP/churn-ids")
	[ "$left_cg" = 0 ] && [ "$left_trips" = 0 ] && break
	[ $((SECONDS - t_churn)) -ge 14 ] && break
done
settle=$((SECONDS - t_churn))
after_cg=$(map_len cgroups); after_trips=$(map_len trips); after_rss=$(rss_kib "$DAEMON")
seen=$(grep -c '"event":"watch".*oomcast-scale-churn' "$TMP/events")
errs=$(grep -vc -e '^oomcast: watching' -e 'oom_score_adj to -1000' "$TMP/err")

python3 - "$OUT/scale.json" <<PY
import json, sys
hz = 100.0
r = dict(cgroups=$NCG, tasks=$ntasks, leaking=$NLEAK, window_s=$w1 - $w0,
         cpu_percent=100.0 * ($c1 - $c0) / hz / ($w1 - $w0),
         rss_kib_max=$rss_max, rss_kib_end=$rss_window, vmhwm_kib=$(hwm_kib "$DAEMON"),
         rb_drops=$d1 - $d0, rb_drops_total=$d1, kills=$kills, kills_reported=$reported,
         missed=${#missed[@]}, watched_map_entries=$watched, tasks_map_entries=$tasks_map,
         churn=dict(created=$created, per_s=$CHURN_RATE, seconds=$CHURN_S,
                    cgroups_map_before=$base_cg, cgroups_map_after=$after_cg,
                    trips_map_after=$after_trips, watched_while_alive=$seen,
                    churned_ids_left_in_cgroups_map=$left_cg, settle_s=$settle,
                    churned_ids_left_in_trips_map=$left_trips, rss_kib_before=$base_rss,
                    rss_kib_after=$after_rss),
         daemon_stderr_lines=$errs)
ok = (r["cpu_percent"] < 1.0 and r["rss_kib_max"] < 20 * 1024 and r["rb_drops"] == 0
      and r["missed"] == 0 and r["kills"] >= $NLEAK
      and r["churn"]["churned_ids_left_in_cgroups_map"] == 0
      and r["churn"]["churned_ids_left_in_trips_map"] == 0
      and r["churn"]["rss_kib_after"] <= r["churn"]["rss_kib_before"] + 1024)
r["pass"] = ok
json.dump(r, open(sys.argv[1], "w"), indent=1)
c = r["churn"]
print(f"""scale: {r['cgroups']} cgroups, {r['tasks']} tasks, {r['leaking']} leaking, {r['window_s']:.0f} s window
  daemon CPU           {r['cpu_percent']:.2f} % of one core   (target < 1 %)
  daemon RSS           max {r['rss_kib_max']/1024:.1f} MiB, end {r['rss_kib_end']/1024:.1f} MiB   (target < 20 MiB)
  ring-buffer drops    {r['rb_drops']} in the window ({r['rb_drops_total']} since start)
  OOM kills            {r['kills']} by the kernel, {r['kills_reported']} reported, {r['missed']} cgroups with a missed kill
  maps                 {r['watched_map_entries']} watched cgroups, {r['tasks_map_entries']} tasks
  churn                {c['created']} cgroups made and removed at {c['per_s']}/s, {c['watched_while_alive']} watched while alive
                       left in the maps {c['settle_s']} s after: {c['churned_ids_left_in_cgroups_map']} cgroups, {c['churned_ids_left_in_trips_map']} trips (map sizes {c['cgroups_map_before']} -> {c['cgroups_map_after']})
                       daemon RSS {c['rss_kib_before']/1024:.1f} -> {c['rss_kib_after']/1024:.1f} MiB
{'PASS' if ok else 'FAIL'}: scale""")
PY
rc=$?
[ ${#missed[@]} -gt 0 ] && printf '  missed: %s\n' "${missed[@]}"
[ "$errs" -gt 0 ] && { echo "# daemon stderr:"; head -5 "$TMP/err"; }
exit $rc
