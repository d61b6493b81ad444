#!/usr/bin/env python3
"""Per-round ratios of Hookgate to the reference receiver that ran just before it in the same
round of an interleaved anchors.sh session (the issue's targets are ratios in one run).

  bench/ratios.py SESSION.jsonl [--server hookgate-sqlite] [--reference express-flinks-1proc]
"""
import argparse
import json
import statistics

p = argparse.ArgumentParser()
p.add_argument("jsonl")
p.add_argument("--server", default="hookgate-sqlite")
p.add_argument("--reference", default="express-flinks-1proc")
a = p.parse_args()

runs = [json.loads(line) for line in open(a.jsonl) if line.strip()]
runs = [r for r in runs if r.get("phase") == "run"]
cells = {}
for r in runs:
    cells.setdefault((r["size"], r["connections"]), []).append(r)

print("| cell | per-round req/s ratio | median | per-round CPU/req ratio | median | server p99 ms (median) | server peak RSS MiB (max) |")
print("|---|---|---|---|---|---|---|")
for (size, conns), rs in sorted(cells.items()):
    rps, cpu, p99, rss = [], [], [], []
    last_ref = None
    for r in rs:  # file order = run order
        if r["name"] == a.reference:
            last_ref = r
        elif r["name"] == a.server and last_ref is not None:
            rps.append(r["rps"] / last_ref["rps"])
            cpu.append(r["server_cpu_us_per_req"] / last_ref["server_cpu_us_per_req"])
            p99.append(r["lat_ms"]["p99"])
            rss.append(r["rss_peak_mib"])
            last_ref = None
    if not rps:
        continue
    fmt = lambda xs, d: " / ".join(f"{x:.{d}f}" for x in xs)
    print(
        f"| {size // 1024} KiB, {conns} conns | {fmt(rps, 2)} | **{statistics.median(rps):.2f}×** "
        f"| {fmt(cpu, 3)} | **{statistics.median(cpu):.3f}** | {statistics.median(p99):.2f} | {max(rss):.1f} |"
    )
