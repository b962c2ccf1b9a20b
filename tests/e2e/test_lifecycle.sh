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
check "a cgroup created later is watched" wait_event "$out" watch 10
check "watch names it" grep -q "\"cgroup\":\"$cg\"" "$out"
check "maps pinned" test -e "$pin/cgroups"
if command -v bpftool >/dev/null; then
	id=$(stat -c %i "$cg")
	check "bpftool reads the pinned cgroups map" bash -c "bpftool map dump pinned '$pin/cgroups' | grep -q 'alloc_bytes'"
	check "the watched cgroup is in the map" bash -c "bpftool map dump pinned '$pin/cgroups' | grep -qw $id"
fi
rmdir "$cg"
check "a removed cgroup is unwatched" wait_event "$out" unwatch 10
progs_before=$(bpftool prog show 2>/dev/null | grep -c 'name oc_')
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; rc=$?
check "exit 0 on SIGTERM" test "$rc" -eq 0
check "stop event" wait_event "$out" stop 1
check "pins removed" test ! -e "$pin"
sleep 0.5
check "programs detached (were $progs_before)" test "$(bpftool prog show 2>/dev/null | grep -c 'name oc_')" -eq 0
check "stderr has no errors" bash -c "! grep -qiE 'error|fail' '$out.err'"
finish
