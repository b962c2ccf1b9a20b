#!/usr/bin/env python3
"""report.py: the overhead bench's table, PASS/FAIL line and JSON, from the files run.sh
left in its scratch directory. Usage: report.py TMPDIR OUT.json"""
import json
import os
import statistics
import sys

tmp, out = sys.argv[1], sys.argv[2]
TARGET_RATIO, MAX_RATIO, TARGET_LATENCY_MS = 1.3, 2.0, 10.0


def lines(name):
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip().startswith("{")]


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def cost(runs):
    """Median per program over the runs: ns per run, runs per page allocation."""
    progs = {}
    for r in runs:
        for p in r["progs"]:
            d = progs.setdefault(p["name"], {"ns": [], "per_alloc": []})
            if p["run_cnt"]:
                d["ns"].append(p["ns_per_run"])
            d["per_alloc"].append(p["run_cnt"] / max(r["page_allocs"], 1))
    return {
        "empty_ns": med([r["empty"]["ns_per_run"] for r in runs]),
        "daemon_ns_per_alloc": med([r["daemon_ns_per_alloc"] for r in runs]),
        "ratio": med([r["ratio_to_empty"] for r in runs]),
        "ratio_max": max([r["ratio_to_empty"] for r in runs], default=float("nan")),
        "page_allocs": med([r["page_allocs"] for r in runs]),
        "progs": {n: {"ns_per_run": med(d["ns"]), "runs_per_alloc": med(d["per_alloc"])}
                  for n, d in progs.items()},
        "runs": len(runs),
    }


default, fast, every = cost(lines("stat-default")), cost(lines("stat-1048576")), cost(lines("stat-4"))
off = [r["seconds"] for r in lines("plain-off")]
on = [r["seconds"] for r in lines("plain-on")]
npages = lines("plain-off")[0]["pages"] if off else 0

ids = set(int(l) for l in open(os.path.join(tmp, "lat-ids")) if l.strip())
lat = [e for e in lines("latency") if e["cgroup_id"] in ids and e["kernel_ns"]]
hooks = {}
for h in lines("webhook"):
    hooks.setdefault((h["event"], h["cgroup_id"]), []).append(h["arrived_ns"])
printed, webhook, by_source = [], [], {}
for e in lat:
    ms = (e["printed_ns"] - e["kernel_ns"]) / 1e6
    printed.append(ms)
    by_source.setdefault(e["source"], []).append(ms)
    arr = hooks.get((e["event"], e["cgroup_id"]))
    if arr:
        webhook.append((arr.pop(0) - e["kernel_ns"]) / 1e6)


def dist(xs):
    return {"n": len(xs), "p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99),
            "max": max(xs, default=float("nan"))}


latency = {"printed_ms": dist(printed), "webhook_ms": dist(webhook),
           "by_source_printed_ms": {k: dist(v) for k, v in by_source.items()},
           "episodes": len(ids)}
uname = os.uname()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
machine = f"{uname.sysname} {uname.release} {uname.machine}, {os.cpu_count()} CPUs ({cpu})"

ok_ratio = default["ratio"] <= TARGET_RATIO and default["ratio_max"] <= MAX_RATIO
ok_lat = bool(webhook) and latency["webhook_ms"]["p99"] < TARGET_LATENCY_MS \
    and latency["printed_ms"]["p99"] < TARGET_LATENCY_MS
res = {"machine": machine, "default": default, "fast_path_only": fast, "attribution_every_page": every,
       "workload": {"pages": npages, "seconds_without": med(off), "seconds_with": med(on),
                    "runs_without": off, "runs_with": on},
       "latency": latency, "targets": {"ratio": TARGET_RATIO, "ratio_never_above": MAX_RATIO,
                                       "latency_ms": TARGET_LATENCY_MS},
       "pass": ok_ratio and ok_lat}
json.dump(res, open(out, "w"), indent=1)

print(f"oomcast overhead on {machine}")
print(f"\nBPF cost (median of {default['runs']} runs, {default['page_allocs']:.0f} page allocations each; "
      f"bpf_stats on)")
print(f"{'program':<22}{'runs/page alloc':>16}{'ns/run':>9}{'fast path':>11}{'every page':>12}")
print(f"{'empty (yardstick)':<22}{1.0:>16.3f}{default['empty_ns']:>9.1f}{fast['empty_ns']:>11.1f}{every['empty_ns']:>12.1f}")
for n, p in sorted(default["progs"].items(), key=lambda kv: -kv[1]["runs_per_alloc"]):
    if p["runs_per_alloc"] == 0:
        continue
    f = fast["progs"].get(n, {}).get("ns_per_run", float("nan"))
    e = every["progs"].get(n, {}).get("ns_per_run", float("nan"))
    print(f"{n:<22}{p['runs_per_alloc']:>16.4f}{p['ns_per_run']:>9.1f}{f:>11.1f}{e:>12.1f}")
print(f"{'all daemon programs':<22}{'per page alloc':>16}{default['daemon_ns_per_alloc']:>9.1f}"
      f"{fast['daemon_ns_per_alloc']:>11.1f}{every['daemon_ns_per_alloc']:>12.1f}")
print(f"{'ratio to empty':<38}{default['ratio']:>9.2f}x{fast['ratio']:>10.2f}x{every['ratio']:>11.2f}x"
      f"   (worst run {default['ratio_max']:.2f}x)")
print("  (fast path: --sample-kib 1048576, the per-page add and compare alone; every page:"
      " --sample-kib 4, attribution on each page)")
print(f"\nworkload: faulter, {npages} pages per run: {med(off):.3f} s without the daemon, "
      f"{med(on):.3f} s with ({(med(on) / med(off) - 1) * 100:+.1f} %)")
print(f"\nalert latency over {len(ids)} leak episodes (ms, kernel record -> ...)")
print(f"{'':<28}{'n':>5}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
for name, d in [("printed (stdout)", latency["printed_ms"]), ("webhook received", latency["webhook_ms"])] + \
        [(f"  printed, from {k}", v) for k, v in sorted(latency["by_source_printed_ms"].items())]:
    print(f"{name:<28}{d['n']:>5}{d['p50']:>8.2f}{d['p90']:>8.2f}{d['p99']:>8.2f}{d['max']:>8.2f}")
print(f"\n{'PASS' if res['pass'] else 'FAIL'}: BPF {default['ratio']:.2f}x empty (target <= {TARGET_RATIO}x, "
      f"never > {MAX_RATIO}x); alert p99 {latency['printed_ms']['p99']:.2f} ms printed, "
      f"{latency['webhook_ms']['p99']:.2f} ms webhook (target < {TARGET_LATENCY_MS:.0f} ms)")
sys.exit(0 if res["pass"] else 1)
