#!/usr/bin/env bash
# A kernel that refuses one program (a verifier older or stricter than the one we built
# for, a tracepoint whose tp_btf form it will not take) must cost that hook only: it falls
# back to its classic tracepoint, or goes without, and every other hook keeps its program.
# No kernel here refuses any of ours, so OOMCAST_TEST_REFUSE (tests only) gives the named
# programs a load flag no kernel knows, which the real kernel refuses (EINVAL, as the
# verifier's refusals): the refusal, the retry and the fallbacks are the kernel's and the
# loader's own. Then a leak
# is forecast and killed with the two main hooks on their fallbacks, and one without the
# OOM victim's hook at all.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

cg=$(make_cgroup fallback $((64 << 20))) || { not_ok "mkdir"; finish; }
hooks() { grep "^oomcast: hook $1" "$2" | head -1; }

# a hook without a classic form goes without; the rest keep tp_btf
out=$TEST_TMP/reclaim.json
if OOMCAST_TEST_REFUSE=oc_memcg_reclaim start_daemon "$out" --cgroup "$cg" -v; then
	stop_daemon
	check "the refusal is named" grep -q "the kernel refused program oc_memcg_reclaim" "$out.err"
	check "memcg_reclaim goes without: $(hooks memcg_reclaim "$out.err")" \
		grep -q "hook memcg_reclaim disabled: the kernel refused its program" "$out.err"
	check "mm_page_alloc keeps tp_btf: $(hooks mm_page_alloc "$out.err")" \
		grep -q "hook mm_page_alloc: tp_btf" "$out.err"
	check "oom_score_adj_update keeps tp_btf" grep -q "hook oom_score_adj_update: tp_btf" "$out.err"
	check "no fallback of all to classic tracepoints" \
		bash -c "! grep -q 'retrying with classic' '$out.err'"
else
	not_ok "daemon ready with oc_memcg_reclaim refused" "$(tail -3 "$out.err")"
fi

# the page allocator's and the OOM victim's hooks fall back to their classic tracepoints
# (two refusals, two retries); a leak is still forecast, its task named, its kill reported
out=$TEST_TMP/leak.json
if OOMCAST_TEST_REFUSE=oc_page_alloc_btf,oc_victim_btf start_daemon "$out" --cgroup "$cg" \
	--horizon 5 -v; then
	check "mm_page_alloc on its classic tracepoint: $(hooks mm_page_alloc "$out.err")" \
		grep -q "hook mm_page_alloc: tracepoint (the kernel refused the tp_btf one)" "$out.err"
	check "mark_victim on its classic tracepoint: $(hooks mark_victim "$out.err")" \
		grep -q "hook mark_victim: tracepoint (the kernel refused the tp_btf one)" "$out.err"
	check "memcg_reclaim keeps tp_btf" grep -q "hook memcg_reclaim: tp_btf" "$out.err"
	run_in_cgroup "$cg" "$LEAK" --rate 6 --timeout 40
	wait "$WORK_PID"; rc=$?
	wait_event "$out" oom_kill 5
	stop_daemon
	check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
	check_lead "leak with both hooks on their fallbacks" "$out" 3 9
	check "the forecast names the leak (pid $WORK_PID) from the classic page hook" \
		python3 - "$out" "$WORK_PID" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
f = [x for x in e if x["event"] == "forecast"]
sys.exit(0 if f and any(t["pid"] == int(sys.argv[2]) for t in f[0]["top_tasks"]) else 1)
PY
	check "oom_kill names the leak (pid $WORK_PID)" test "$(field "$out" oom_kill pid)" = "$WORK_PID"
else
	not_ok "daemon ready with two programs refused" "$(tail -3 "$out.err")"
fi

# the OOM victim's hook without either program: the kill is still reported, from the
# kernel's count (memory.oom_control, memory.events), without the victim, and replayed
out=$TEST_TMP/unseen.json
if OOMCAST_TEST_REFUSE=oc_victim_btf,oc_victim_tp start_daemon "$out" --cgroup "$cg" \
	--horizon 5 --record "$TEST_TMP/unseen.rec" -v; then
	check "mark_victim goes without: $(hooks mark_victim "$out.err")" \
		grep -q "hook mark_victim disabled: the kernel refused its classic program: oom_kill events from the kernel's counts" "$out.err"
	run_in_cgroup "$cg" "$LEAK" --rate 6 --timeout 40
	wait "$WORK_PID"; rc=$?
	wait_event "$out" oom_kill 5
	stop_daemon
	check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
	check_lead "leak without the victim's hook (the kill's time: the read of the count)" \
		"$out" 3 10
	check "one oom_kill, without pid or comm, its reason the count" python3 - "$out" <<'PY'
import json, sys
e = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
k = [x for x in e if x["event"] == "oom_kill"]
sys.exit(0 if len(k) == 1 and k[0]["pid"] is None and k[0]["comm"] is None
         and "victim was not seen" in k[0]["reason"] else 1)
PY
	"$OOMCAST" replay --json "$TEST_TMP/unseen.rec" > "$TEST_TMP/unseen.replay" 2>&1
	check "the replay reports the kill at the same time" test \
		"$(field "$TEST_TMP/unseen.replay" oom_kill time)" = "$(field "$out" oom_kill time)"
else
	not_ok "daemon ready with the victim's programs refused" "$(tail -3 "$out.err")"
fi
finish
