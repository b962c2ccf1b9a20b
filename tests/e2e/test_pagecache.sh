#!/usr/bin/env bash
# Page cache is not risk: a cgroup whose usage sits at its limit because it reads files
# larger than the limit gets no forecast, while an anonymous leak under a full cache does.
source "$(dirname "$0")/lib.sh"
need_root

file=$TEST_TMP/big
dd if=/dev/urandom of="$file" bs=1M count=256 conv=fsync status=none
cg=$(make_cgroup "cache" $((64 << 20)))
out=$TEST_TMP/cache.json
start_daemon "$out" --cgroup "$cg" --horizon 30 || not_ok "daemon ready"
run_in_cgroup "$cg" "$LEAK" --shape cache --file "$file" --timeout 25
wait "$WORK_PID"
usage_max=$(cat "$cg/memory.max_usage_in_bytes")
stop_daemon
check "the cache filled the cgroup (max usage $usage_max)" test "$usage_max" -ge $((60 << 20))
check "no forecast for page cache" test "$(count_events "$out" forecast)" -eq 0
check "no oom_kill" test "$(count_events "$out" oom_kill)" -eq 0

# anonymous leak while another task keeps the cache full
cg2=$(make_cgroup "mixed" $((128 << 20)))
out2=$TEST_TMP/mixed.json
start_daemon "$out2" --cgroup "$cg2" --horizon 10 || not_ok "daemon ready (mixed)"
run_in_cgroup "$cg2" "$LEAK" --shape cache --file "$file" --timeout 60
reader=$WORK_PID
sleep 3
run_in_cgroup "$cg2" "$LEAK" --rate 4 --timeout 60
leaker=$WORK_PID
wait "$leaker"; rc=$?
wait_event "$out2" oom_kill 5
stop_daemon
kill "$reader" 2>/dev/null
check "mixed: the leak was killed (exit $rc)" test "$rc" -eq 137
check_lead "mixed" "$out2" 5 1e9
finish
