#!/usr/bin/env bash
# The daemon's life: discovery of cgroups created and removed while it runs (no --cgroup),
# maps pinned for bpftool while running, and a clean exit on SIGTERM: exit 0, `stop`, no
# pins, no programs left attached.
source "$(dirname "$0")/lib.sh"
need_root

pin=/sys/fs/bpf/oomcast-test-$$
out=$TEST_TMP/life.json
"$OOMCAST" run --json --pin-dir "$pin" --interval 0.5 > "$out" 2> "$out.err" &
DAEMON_PID=$!
_pids+=("$DAEMON_PID")
check "ready" wait_event "$out" ready 20
cg=$(make_cgroup "disc" $((64 << 20)))
# other cgroups of the machine come and go too: wait for the event naming ours
wait_for() { # wait_for FILE REGEX SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do grep -qE "$2" "$1" && return 0; sleep 0.1; done
	return 1
}
check "a cgroup created later is watched" wait_for "$out" "\"event\":\"watch\".*\"cgroup\":\"$cg\"" 10
check "maps pinned" test -e "$pin/cgroups"
if command -v bpftool >/dev/null; then
	id=$(stat -c %i "$cg")
	check "bpftool reads the pinned cgroups map" bash -c "bpftool map dump pinned '$pin/cgroups' | grep -q 'alloc_bytes'"
	check "the watched cgroup is in the map" bash -c "bpftool map dump pinned '$pin/cgroups' | grep -qw $id"
fi
rmdir "$cg"
check "a removed cgroup is unwatched" wait_for "$out" "\"event\":\"unwatch\".*\"cgroup\":\"$cg\"" 10
# our programs: those using our pinned cgroups map (other daemons may run beside us)
map_id=$(bpftool map show pinned "$pin/cgroups" -j | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
our_progs() {
	bpftool prog show -j | python3 -c '
import json, sys
m = int(sys.argv[1])
print(" ".join(str(p["id"]) for p in json.load(sys.stdin) if m in p.get("map_ids", [])))' "$map_id"
}
progs=$(our_progs)
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
check "exit 0 on SIGTERM" test "$rc" -eq 0
check "stop event" wait_event "$out" stop 1
check "pins removed" test ! -e "$pin"
sleep 0.5
check "our programs were attached ($progs)" test -n "$progs"
left=""
for id in $progs; do bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"; done
check "our programs are gone after exit (left:${left:- none})" test -z "$left"
check "stderr has no errors" bash -c "! grep -qiE 'error|fail' '$out.err'"

# SIGHUP (the terminal it ran in closed) stops it as cleanly as SIGTERM
cg=$(make_cgroup "hup" $((64 << 20)))
out=$TEST_TMP/hup.json
"$OOMCAST" run --json --pin-dir "$pin" --cgroup "$cg" > "$out" 2> "$out.err" &
DAEMON_PID=$!
_pids+=("$DAEMON_PID")
wait_event "$out" ready 20
kill -HUP "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
check "exit 0 on SIGHUP" test "$rc" -eq 0
check "stop event on SIGHUP" wait_event "$out" stop 1
check "pins removed after SIGHUP" test ! -e "$pin"
# ... unless started to outlive its terminal: nohup ignores SIGHUP, and so must the daemon
nohup "$OOMCAST" run --json --no-pin --cgroup "$cg" > "$out" 2> "$out.err" &
DAEMON_PID=$!
_pids+=("$DAEMON_PID")
wait_event "$out" ready 20
kill -HUP "$DAEMON_PID"; sleep 1
check "under nohup, SIGHUP does not stop it" kill -0 "$DAEMON_PID"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
check "... and SIGTERM then does (exit $rc)" test "$rc" -eq 0

# --duration counts from `ready`
"$OOMCAST" run --json --no-pin --cgroup "$cg" --duration 2 > "$out" 2> "$out.err"
span=$(python3 -c "import json
t={e['event']:e['time'] for e in map(json.loads, open('$out')) if e['event'] in ('ready','stop')}
print(t['stop'] - t['ready'])")
check "--duration 2: stop 2 s after ready (${span} s)" in_range "$span" 1.95 2.6

# stdout into a pipe whose reader went: stop, and say why
SECONDS=0
"$OOMCAST" run --json --no-pin --cgroup "$cg" --duration 60 2> "$out.err" | head -1 > /dev/null
check "stops when the reader of stdout goes (${SECONDS} s)" test "$SECONDS" -le 20
check "... and says so" grep -qE 'stdout|reader' "$out.err"
finish
