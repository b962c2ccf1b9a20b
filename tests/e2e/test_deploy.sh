#!/usr/bin/env bash
# deploy/ checked without a cluster: the DaemonSet lints clean (yamllint) and has the shape
# oomcast needs (privileged, hostPID, the host mounts, bpffs Bidirectional, the args, the
# scrape annotation on the port it listens on); the Dockerfile installs a bookworm package
# for every library build/oomcast links; systemd-analyze verify accepts the unit.
# Touches nothing on the host: no cgroup, no daemon.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEPLOY=$ROOT/deploy
TMP=$(mktemp -d /tmp/oomcast-deploy.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fails=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+: $2}"; fails=$((fails + 1)); }

# ---- the DaemonSet
if out=$(yamllint -s -d '{extends: default, rules: {line-length: {max: 100}}}' \
	"$DEPLOY/oomcast-daemonset.yaml" 2>&1); then
	ok "yamllint: the DaemonSet manifest is clean"
else
	not_ok "yamllint" "$out"
fi

# Debian's python3-yaml is installed for /usr/bin/python3, not for other pythons on PATH.
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	res=$(/usr/bin/python3 - "$DEPLOY/oomcast-daemonset.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def check(name, cond):
    print(("ok - " if cond else "not ok - ") + "DaemonSet: " + name)
check("one document, apps/v1 DaemonSet", len(docs) == 1 and docs[0].get("apiVersion") == "apps/v1"
      and docs[0].get("kind") == "DaemonSet")
ds = docs[0]
tpl = ds["spec"]["template"]
pod = tpl["spec"]
check("the selector matches the pod labels", all(tpl["metadata"]["labels"].get(k) == v
      for k, v in ds["spec"]["selector"]["matchLabels"].items()))
check("hostPID", pod.get("hostPID") is True)
c = pod["containers"][0]
check("privileged", c.get("securityContext", {}).get("privileged") is True)
check("args run --json --metrics 0.0.0.0:9464", c.get("args") == ["run", "--json", "--metrics", "0.0.0.0:9464"])
res = c.get("resources", {})
check("resources: requests and a memory limit", "requests" in res and "memory" in res.get("limits", {}))
ann = tpl["metadata"].get("annotations", {})
ports = [p["containerPort"] for p in c.get("ports", [])]
check("prometheus.io/scrape annotation", ann.get("prometheus.io/scrape") == "true")
check("the scrape port is the port --metrics listens on",
      ann.get("prometheus.io/port") == "9464" and 9464 in ports)
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
vols = {v["name"]: v for v in pod.get("volumes", [])}
check("BTF from the privileged container's own /sys, not a hostPath (a node without it would "
      "not start the pod; oomcast says what is missing)",
      not any(v.get("hostPath", {}).get("path", "").startswith("/sys/kernel/btf")
              for v in pod.get("volumes", [])))
for path in ("/sys/fs/cgroup", "/sys/fs/bpf", "/sys/kernel/tracing",
             "/var/log/pods", "/var/log/containers"):
    m = mounts.get(path)
    check("host mount " + path, m is not None and vols.get(m["name"], {}).get("hostPath", {}).get("path") == path)
check("host /proc mounted", any(vols.get(m["name"], {}).get("hostPath", {}).get("path") == "/proc"
      for m in mounts.values()))
check("the kubelet's logs (pod and container names) read-only",
      all(mounts.get(p, {}).get("readOnly") for p in ("/var/log/pods", "/var/log/containers")))
check("/sys/fs/bpf is Bidirectional", mounts.get("/sys/fs/bpf", {}).get("mountPropagation") == "Bidirectional")
check("every mount has a volume", all(m["name"] in vols for m in mounts.values()))
env = {e["name"]: e for e in c.get("env", [])}
check("NODE_NAME from spec.nodeName",
      env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName")
check("tolerates every taint (one pod per node)", {"operator": "Exists"} in pod.get("tolerations", []))
PY
)
	echo "$res"
	fails=$((fails + $(grep -c '^not ok' <<<"$res")))
else
	echo "# skip the DaemonSet's structure: /usr/bin/python3 has no yaml module (apt-get install python3-yaml)"
fi

# ---- the Dockerfile
df=$DEPLOY/Dockerfile
grep -q '^FROM debian:bookworm-slim$' "$df" && ok "Dockerfile: FROM debian:bookworm-slim" || not_ok "Dockerfile: FROM debian:bookworm-slim"
grep -q '^COPY build/oomcast ' "$df" && ok "Dockerfile: copies build/oomcast" || not_ok "Dockerfile: copies build/oomcast"
pkgs=$(sed -n '/apt-get install/,/rm -rf/p' "$df" | tr -s ' \\\n' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
	grep -vE '^(apt-get|install|rm|rf|&&|y)$')
for p in libbpf1 libcurl4 libjson-c5 libmicrohttpd12 libssl3 libelf1 zlib1g; do
	grep -qx "$p" <<<"$pkgs" && ok "Dockerfile installs $p" || not_ok "Dockerfile installs $p"
done
for p in $pkgs; do
	apt-cache show --no-all-versions "$p" > /dev/null 2>&1 || not_ok "Dockerfile: package $p exists in bookworm"
done
if [ -x "$ROOT/build/oomcast" ]; then
	# every library the binary links must come from a package the image installs
	missing=""
	for so in $(readelf -d "$ROOT/build/oomcast" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
		path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
		# by multiarch directory and file name: with merged /usr, dpkg knows /lib/..., not /usr/lib/...
		owners=$(dpkg -S "$(uname -m)-linux-gnu/$(basename "$(readlink -f "$path")")" 2>/dev/null |
			cut -d: -f1 | tr ', ' '\n\n' | sort -u)
		grep -qx libc6 <<<"$owners" && continue    # in the base image
		grep -qxF -f <(echo "$owners") <<<"$pkgs" || missing="$missing $so($(echo $owners))"
	done
	[ -z "$missing" ] && ok "Dockerfile: a package for every library build/oomcast links" ||
		not_ok "Dockerfile: libraries without a package" "$missing"
else
	echo "# skip the library check: build/oomcast is not built"
fi

# ---- the systemd unit
unit=$DEPLOY/oomcast.service
if command -v systemd-analyze > /dev/null && [ -x "$ROOT/build/oomcast" ]; then
	# verify the unit as written, with the binary where this checkout has it
	sed "s|/usr/local/bin/oomcast|$ROOT/build/oomcast|" "$unit" > "$TMP/oomcast.service"
	if out=$(systemd-analyze verify "$TMP/oomcast.service" 2>&1) && [ -z "$out" ]; then
		ok "systemd-analyze verify: the unit is clean"
	else
		not_ok "systemd-analyze verify" "$out"
	fi
else
	echo "# skip systemd-analyze verify: needs systemd-analyze and build/oomcast"
fi
grep -q '^ExecStart=/usr/local/bin/oomcast run ' "$unit" && ok "unit: ExecStart runs oomcast run" ||
	not_ok "unit: ExecStart runs oomcast run"
grep -q '^WantedBy=multi-user.target$' "$unit" && ok "unit: WantedBy=multi-user.target" ||
	not_ok "unit: WantedBy=multi-user.target"
[ "$fails" -eq 0 ]
