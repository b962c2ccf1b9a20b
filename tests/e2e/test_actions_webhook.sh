#!/usr/bin/env bash
# --webhook end to end: a real HTTP receiver (Python's http.server on loopback) gets the
# forecast and the oom_kill, signed with a valid HMAC and equal to what --json printed,
# while a second URL that accepts connections and never answers, and a third that refuses
# them, do not delay it; the daemon still stops promptly.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[ -n "${OOMCAST_BIN:-}" ] && OOMCAST=$OOMCAST_BIN   # test another build of the daemon
need_root

SECRET=$TEST_TMP/secret
printf 'e2e-s3cret\n' > "$SECRET"      # the newline is not part of the key

cat > "$TEST_TMP/receiver.py" <<'PY'
import hashlib, hmac, http.server, json, sys, time
secret = open(sys.argv[1], "rb").read().rstrip(b"\r\n")
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        sig = self.headers.get("X-Oomcast-Signature", "")
        log.write(json.dumps({"recv": time.time(), "path": self.path,
                              "valid": hmac.compare_digest(sig, want),
                              "ctype": self.headers.get("Content-Type"),
                              "body": json.loads(body)}) + "\n")
        log.flush()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[3], "w").write(str(srv.server_address[1]))
srv.timeout = 0.5
deadline = time.time() + float(sys.argv[4])
while time.time() < deadline:
    srv.handle_request()
PY

cat > "$TEST_TMP/hang.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(256)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(0.5)
held, deadline = [], time.time() + float(sys.argv[2])
while time.time() < deadline:      # accept, then never read nor answer
    try:
        held.append(s.accept()[0])
    except socket.timeout:
        pass
PY

# wait_file FILE: until a server wrote its port
wait_file() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

python3 "$TEST_TMP/receiver.py" "$SECRET" "$TEST_TMP/got.jsonl" "$TEST_TMP/good.port" 120 &
_pids+=($!)
python3 "$TEST_TMP/hang.py" "$TEST_TMP/hang.port" 120 &
_pids+=($!)
if ! wait_file "$TEST_TMP/good.port" || ! wait_file "$TEST_TMP/hang.port"; then
	not_ok "receivers started"; exit 1
fi
good=http://127.0.0.1:$(cat "$TEST_TMP/good.port")/hook
hang=http://127.0.0.1:$(cat "$TEST_TMP/hang.port")/hang

cg=$(make_cgroup webhook $((128 << 20))) || { not_ok "mkdir cgroup"; exit 1; }
_cgroups+=("$cg")   # make_cgroup ran in a $(...) subshell: remember it here for cleanup
out=$TEST_TMP/daemon.json
# the hanging and the refusing URLs come first: they must not hold up the good one
if ! start_daemon "$out" --cgroup "$cg" --horizon 5 --webhook "$hang" \
	--webhook http://127.0.0.1:1/refused --webhook "$good" --webhook-secret-file "$SECRET"; then
	not_ok "daemon ready" "$(tail -3 "$out.err")"; exit 1
fi
run_in_cgroup "$cg" "$LEAK" --rate 8 --timeout 40
wait "$WORK_PID" 2>/dev/null
rc=$?
wait_event "$out" oom_kill 5
for _ in $(seq 30); do grep -q '"oom_kill"' "$TEST_TMP/got.jsonl" 2>/dev/null && break; sleep 0.1; done
t0=$(date +%s.%N)
stop_daemon
stop_s=$(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 2))")

check "the leak was OOM-killed (exit $rc)" test "$rc" -eq 137
touch "$TEST_TMP/got.jsonl"
res=$(python3 - "$out" "$TEST_TMP/got.jsonl" <<'PY'
import json, sys
printed = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
got = [json.loads(l) for l in open(sys.argv[2])]
def check(name, cond, why=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond or not why else ": " + why))
kinds = [g["body"].get("event") for g in got]
check("the receiver got the forecast", "forecast" in kinds, str(kinds))
check("the receiver got the oom_kill", "oom_kill" in kinds, str(kinds))
check("only alert events are posted (no ready/watch)",
      set(kinds) <= {"forecast", "clear", "oom_kill", "stall", "stall_end"}, str(kinds))
check("every post has a valid X-Oomcast-Signature HMAC", got and all(g["valid"] for g in got))
check("Content-Type is application/json", got and all(g["ctype"] == "application/json" for g in got))
for kind in ("forecast", "oom_kill"):
    p = [e for e in printed if e["event"] == kind]
    g = [x for x in got if x["body"].get("event") == kind]
    check(kind + " body is the object --json printed", p and g and p[0] == g[0]["body"])
    if g:
        delay = g[0]["recv"] - g[0]["body"]["time"]
        check("%s arrived %.2f s after the event despite a hanging receiver (< 1.5 s)"
              % (kind, delay), delay < 1.5)
PY
)
echo "$res"
_fails=$((_fails + $(grep -c '^not ok' <<<"$res")))
check "the daemon stopped in ${stop_s} s with a hung receiver (< 4 s)" in_range "$stop_s" 0 4
check "daemon exit 0" test "$DAEMON_RC" -eq 0
check "the failing receivers are reported once each on stderr" \
	test "$(grep -c 'oomcast: webhook http://127.0.0.1:1/refused' "$out.err")" -le 1
finish
