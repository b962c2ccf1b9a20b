#!/usr/bin/env bash
# Pod and container names in alerts, from the kubelet's log directory (--kubelet-logs),
# without the API server. A real v1 memcg tree shaped as the kubelet's cgroupfs driver makes
# it (kubepods/burstable/pod<uid>/<container id>, under our own oomcast-kube-* cgroup), and
# a log directory laid out as the kubelet lays it out: pods/<namespace>_<pod>_<uid> and
# containers/<pod>_<namespace>_<container>-<id>.log. There is no kubelet on this machine;
# the layout is the kubelet's, the cgroups, the leak and the kill are real. The container's
# link is made after the daemon is watching (the kubelet makes it just after the container
# starts): its names must still reach the forecast and the kill, the live metrics, and the
# replay of the record.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
need_root

uid=1234abcd-5678-90ef-1234-$(printf '%012x' $$)
id=$(printf '%064x' $((0xc0ffee00 + $$)))
h=5
top=$(make_cgroup kube $((512 << 20))) || { not_ok "mkdir"; finish; }
pod=$top/kubepods/burstable/pod$uid
ctr=$pod/$id
mkdir -p "$ctr" && echo $((256 << 20)) > "$pod/memory.limit_in_bytes" &&
	echo $((64 << 20)) > "$ctr/memory.limit_in_bytes" || { not_ok "the pod's cgroups"; finish; }
logs=$TEST_TMP/log
mkdir -p "$logs/pods/shop_api-7d9f8_$uid" "$logs/containers" || { not_ok "log dir"; finish; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mport=$(free_port)
out=$TEST_TMP/kube.json
rec=$TEST_TMP/kube.rec
start_daemon "$out" --cgroup "$pod" --cgroup "$ctr" --horizon $h --kubelet-logs "$logs" \
	--record "$rec" --metrics "127.0.0.1:$mport" ||
	{ not_ok "daemon ready" "$(tail -3 "$out.err")"; finish; }
sleep 1
ln -s /dev/null "$logs/containers/api-7d9f8_shop_server-$id.log"
run_in_cgroup "$ctr" "$LEAK" --rate 4 --timeout 60
# the metrics while it leaks: the names are labels once found (within 2 s of the link)
for _ in $(seq 50); do
	m=$(curl -sf --max-time 2 "http://127.0.0.1:$mport/metrics" | grep "^oomcast_cgroup_usage_bytes" | grep "container=\"server\"")
	[ -n "$m" ] && break
	sleep 0.2
done
check "metrics label the container's series with its names ($m)" \
	grep -q 'namespace="shop",pod="api-7d9f8",container="server"' <<<"$m"
wait "$WORK_PID"; rc=$?
wait_event "$out" oom_kill 5
stop_daemon
check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
for ev in forecast oom_kill; do
	got=$(python3 - "$out" "$ev" "$ctr" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
e = [x for x in evs if x["event"] == sys.argv[2] and x["cgroup"] == sys.argv[3]]
print("/".join(e[0].get(k, "-") for k in ("namespace", "pod", "container")) if e else "none")
PY
)
	check "$ev names the container: shop/api-7d9f8/server (got $got)" test "$got" = shop/api-7d9f8/server
done
check "the pod's own cgroup is named by its pod, no container" python3 - "$out" "$pod" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
e = [x for x in evs if x.get("cgroup") == sys.argv[2] and "pod" in x]
sys.exit(0 if e and e[-1]["namespace"] == "shop" and e[-1]["pod"] == "api-7d9f8"
         and "container" not in e[-1] else 1)
PY
# the replay prints the names as the daemon did, from the record alone (no log directory)
"$OOMCAST" replay --json "$rec" > "$TEST_TMP/replay.json" 2> "$TEST_TMP/replay.err"
check "the replay's forecast and oom_kill carry the same names" python3 - "$out" "$TEST_TMP/replay.json" <<'PY'
import json, sys
def named(f):
    return [(e["event"], e.get("namespace"), e.get("pod"), e.get("container"))
            for e in map(json.loads, (l for l in open(f) if l.startswith("{")))
            if e["event"] in ("forecast", "oom_kill")]
live, replay = named(sys.argv[1]), named(sys.argv[2])
print(live, replay, file=sys.stderr)
sys.exit(0 if live and live == replay else 1)
PY
finish
