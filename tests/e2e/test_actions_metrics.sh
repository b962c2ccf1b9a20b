#!/usr/bin/env bash
# --metrics end to end: the daemon's /metrics, scraped for real while a leak runs into its
# limit, passes `promtool check metrics` and shows the cgroup's series; a real Prometheus
# server scrapes it, and its query API returns oomcast_cgroup_limit_bytes for our cgroup and
# then the OOM kill in oomcast_oom_kills_total. ":PORT" listens on loopback only.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[ -n "${OOMCAST_BIN:-}" ] && OOMCAST=$OOMCAST_BIN   # test another build of the daemon
need_root
for b in /usr/bin/promtool /usr/bin/prometheus; do
	[ -x "$b" ] || { not_ok "$b is not installed (apt-get install prometheus)"; exit 1; }
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { local t=$1; shift; for ((i = 0; i < t * 5; i++)); do "$@" && return 0; sleep 0.2; done; return 1; }

# query PROMQL: the first sample's value from Prometheus' HTTP API, empty if none
query() {
	curl -sf --max-time 3 -G "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
query_is() { [ "$(query "$1")" = "$2" ]; }

mport=$(free_port)
pport=$(free_port)
LIMIT=$((128 << 20))
cat > "$TEST_TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: oomcast
    static_configs:
      - targets: ["127.0.0.1:$mport"]
YML
mkdir -p "$TEST_TMP/tsdb"
/usr/bin/prometheus --config.file="$TEST_TMP/prometheus.yml" --storage.tsdb.path="$TEST_TMP/tsdb" \
	--web.listen-address="127.0.0.1:$pport" > "$TEST_TMP/prometheus.log" 2>&1 &
_pids+=($!)

cg=$(make_cgroup metrics $LIMIT) || { not_ok "mkdir cgroup"; exit 1; }
_cgroups+=("$cg")   # make_cgroup ran in a $(...) subshell: remember it here for cleanup
out=$TEST_TMP/daemon.json
if ! start_daemon "$out" --cgroup "$cg" --horizon 5 --metrics ":$mport"; then
	not_ok "daemon ready" "$(tail -3 "$out.err")"; exit 1
fi
check "--metrics :$mport listens on 127.0.0.1 only" \
	eval "ss -Hltn 'sport = :$mport' | awk '{print \$4}' | grep -qx '127.0.0.1:$mport'"
run_in_cgroup "$cg" "$LEAK" --rate 8 --timeout 40

# a real scrape while the leak runs, once the forecast is out
wait_event "$out" forecast 30
sleep 1
curl -sf --max-time 3 -D "$TEST_TMP/headers" -o "$TEST_TMP/scrape.txt" "http://127.0.0.1:$mport/metrics"
check "GET /metrics answers 200" grep -q "^HTTP/1.1 200" "$TEST_TMP/headers"
check "Content-Type is the text format 0.0.4" grep -qi "^Content-Type: text/plain; version=0.0.4" "$TEST_TMP/headers"
if /usr/bin/promtool check metrics < "$TEST_TMP/scrape.txt" > "$TEST_TMP/promtool.out" 2>&1; then
	ok "promtool check metrics: no problem in a real scrape"
else
	not_ok "promtool check metrics" "$(head -5 "$TEST_TMP/promtool.out")"
fi
sel="{cgroup=\"$cg\"}"
check "the scrape has oomcast_cgroup_limit_bytes$sel $LIMIT" grep -qxF "oomcast_cgroup_limit_bytes$sel $LIMIT" "$TEST_TMP/scrape.txt"
check "the scrape shows the forecast as active" grep -qxF "oomcast_cgroup_forecast_active$sel 1" "$TEST_TMP/scrape.txt"
check "the scrape counts the forecast" grep -qxF "oomcast_forecasts_total$sel 1" "$TEST_TMP/scrape.txt"
check "the scrape has a finite ETA" grep -qE "^oomcast_cgroup_eta_seconds\{cgroup=\"$cg\"\} [0-9.e+-]+$" "$TEST_TMP/scrape.txt"
for m in oomcast_watched_cgroups oomcast_ringbuf_drops_total oomcast_last_event_age_seconds \
	oomcast_signals_sent_total oomcast_cgroup_growth_bytes_per_second; do
	check "the scrape has $m" grep -q "^${m}[{ ]" "$TEST_TMP/scrape.txt"
done
# counted only while kernel.bpf_stats_enabled is 1 (or a bench holds it on): absent, or
# with runs counted, never a page of zeros that reads as "costs nothing"
check "BPF run counters absent, or counting (not all 0)" python3 -c "
import re, sys
v = [float(l.split()[-1]) for l in open('$TEST_TMP/scrape.txt')
     if l.startswith('oomcast_bpf_prog_run_count_total{')]
sys.exit(0 if not v or max(v) > 0 else 1)"

# the same series through a real Prometheus server
if wait_for 30 curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$pport/-/ready"; then
	ok "prometheus 2.42 ready on 127.0.0.1:$pport"
	check "Prometheus scrapes the daemon (up == 1)" wait_for 20 query_is 'up{job="oomcast"}' 1
	check "Prometheus' query API returns oomcast_cgroup_limit_bytes$sel = $LIMIT" \
		wait_for 20 query_is "oomcast_cgroup_limit_bytes$sel" "$LIMIT"
	wait "$WORK_PID" 2>/dev/null
	wait_event "$out" oom_kill 5
	check "... and then oomcast_oom_kills_total$sel = 1" wait_for 20 query_is "oomcast_oom_kills_total$sel" 1
else
	not_ok "prometheus ready" "$(tail -3 "$TEST_TMP/prometheus.log")"
fi
check "GET / answers with an index" eval "curl -sf --max-time 3 http://127.0.0.1:$mport/ | grep -q /metrics"
stop_daemon
check "daemon exit 0" test "$DAEMON_RC" -eq 0
finish
