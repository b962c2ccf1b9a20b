#!/usr/bin/env bash
# --webhook-format alertmanager end to end: a real Alertmanager (prometheus-alertmanager on
# loopback, no clustering) receives the forecast as an active OomcastForecast alert with our
# cgroup label; after the OOM kill it holds an OomcastOOMKill alert and the forecast alert
# is resolved (the kill fulfilled it).
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[ -n "${OOMCAST_BIN:-}" ] && OOMCAST=$OOMCAST_BIN   # test another build of the daemon
need_root
AM=/usr/bin/prometheus-alertmanager
[ -x "$AM" ] || { not_ok "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# alerts FILTER: the active alerts matching a label filter, as JSON
alerts() { curl -sf --max-time 3 -G "http://127.0.0.1:$amport/api/v2/alerts" --data-urlencode "filter=$1"; }

# count_alerts NAME CGROUP: how many active alerts NAME Alertmanager holds for CGROUP
count_alerts() { alerts "alertname=\"$1\"" | python3 -c '
import json, sys
print(sum(a["labels"].get("cgroup") == sys.argv[1] for a in json.load(sys.stdin)))' "$2"; }
has_alert() { [ "$(count_alerts "$1" "${2:-$cg}")" = 1 ]; }
lacks_alert() { [ "$(count_alerts "$1" "${2:-$cg}")" = 0 ]; }   # empty (no answer) fails

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() { local t=$1; shift; for ((i = 0; i < t * 5; i++)); do "$@" && return 0; sleep 0.2; done; return 1; }

amport=$(free_port)
mkdir -p "$TEST_TMP/am"
cat > "$TEST_TMP/am.yml" <<'YML'
route:
  receiver: "null"
receivers:
  - name: "null"
YML
"$AM" --config.file="$TEST_TMP/am.yml" --storage.path="$TEST_TMP/am" \
	--web.listen-address="127.0.0.1:$amport" --cluster.listen-address= \
	> "$TEST_TMP/am.log" 2>&1 &
_pids+=($!)
if ! wait_for 20 curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$amport/-/ready"; then
	not_ok "alertmanager ready" "$(tail -3 "$TEST_TMP/am.log")"; exit 1
fi
ok "alertmanager 0.25 listening on 127.0.0.1:$amport"

cg=$(make_cgroup am $((128 << 20))) || { not_ok "mkdir cgroup"; exit 1; }
_cgroups+=("$cg")   # make_cgroup ran in a $(...) subshell: remember it here for cleanup
out=$TEST_TMP/daemon.json
if ! start_daemon "$out" --cgroup "$cg" --horizon 5 --webhook-format alertmanager \
	--webhook "http://127.0.0.1:$amport/api/v2/alerts"; then
	not_ok "daemon ready" "$(tail -3 "$out.err")"; exit 1
fi
run_in_cgroup "$cg" "$LEAK" --rate 8 --timeout 40
if wait_event "$out" forecast 30 && wait_for 5 has_alert OomcastForecast; then
	ok "Alertmanager holds an active OomcastForecast alert for $cg"
	alerts "alertname=\"OomcastForecast\"" > "$TEST_TMP/forecast_alert.json"
	check "the alert carries severity and summary" python3 -c '
import json, sys
a = [a for a in json.load(open(sys.argv[1])) if a["labels"].get("cgroup") == sys.argv[2]][0]
sys.exit(0 if a["labels"].get("severity") == "warning" and "summary" in a["annotations"]
         and "eta_seconds" in a["annotations"] else 1)' "$TEST_TMP/forecast_alert.json" "$cg"
else
	not_ok "Alertmanager holds an active OomcastForecast alert for $cg"
fi
wait "$WORK_PID" 2>/dev/null
rc=$?
check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
wait_event "$out" oom_kill 5
check "Alertmanager holds an OomcastOOMKill alert for $cg" wait_for 5 has_alert OomcastOOMKill
check "the kill resolved the OomcastForecast alert" wait_for 5 lacks_alert OomcastForecast
stop_daemon
check "daemon exit 0" test "$DAEMON_RC" -eq 0
check "no webhook failure reported" eval "! grep -q 'oomcast: webhook' '$out.err'"

# A clear resolves the forecast: a Go service that sheds its cache on SIGUSR1 gets a
# forecast, the signal, and a clear once its memory has stopped growing.
DEGRADE=$ROOT/build/workloads/degrade
if [ ! -x "$DEGRADE" ] || [ "$ROOT/tests/workloads/degrade.go" -nt "$DEGRADE" ]; then
	mkdir -p "$ROOT/build/workloads"
	GOCACHE=$ROOT/build/go-cache GOFLAGS='' go build -o "$DEGRADE" "$ROOT/tests/workloads/degrade.go" ||
		{ not_ok "go build degrade.go"; finish; }
fi
cg2=$(make_cgroup amclear $((128 << 20))) || { not_ok "mkdir cgroup 2"; finish; }
_cgroups+=("$cg2")   # make_cgroup ran in a $(...) subshell: remember it here for cleanup
out2=$TEST_TMP/daemon2.json
if ! start_daemon "$out2" --cgroup "$cg2" --horizon 5 --webhook-format alertmanager \
	--webhook "http://127.0.0.1:$amport/api/v2/alerts" --signal SIGUSR1 --signal-to all; then
	not_ok "daemon 2 ready" "$(tail -3 "$out2.err")"; finish
fi
run_in_cgroup "$cg2" "$DEGRADE" --rate 8 --timeout 30
check "forecast for the Go service" wait_event "$out2" forecast 25
check "its OomcastForecast alert is active" wait_for 5 has_alert OomcastForecast "$cg2"
check "the clear event came" wait_event "$out2" clear 20
check "the clear resolved the OomcastForecast alert" wait_for 5 lacks_alert OomcastForecast "$cg2"
kill "$WORK_PID" 2>/dev/null
stop_daemon
finish
