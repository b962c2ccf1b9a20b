#!/usr/bin/env python3
"""receiver.py: a loopback webhook receiver for the latency bench. Logs, per POST, the
CLOCK_MONOTONIC arrival time (ns; time.monotonic_ns() is CLOCK_MONOTONIC on Linux, the clock
of bpf_ktime_get_ns()) with the event's kind and cgroup id, one JSON line each.
Usage: receiver.py PORT_FILE LOG_FILE (binds 127.0.0.1 on a free port, writes it to PORT_FILE)."""
import http.server
import json
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        t = time.monotonic_ns()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()
        try:
            ev = json.loads(body)
        except ValueError:
            ev = {}
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"arrived_ns": t, "event": ev.get("event"),
                                "cgroup_id": ev.get("cgroup_id")}) + "\n")

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
