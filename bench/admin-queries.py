#!/usr/bin/env python3
"""Operator API query latency over a seeded store (bench/run-admin-bench.sh seeds it).

Starts `hookgate serve` on the store with [admin], makes a token, runs each query REPS times
(after one warm-up), and prints p50 / p95 / max of the wall time per request, as seen by a
client on loopback, plus how many events each page looked at; with HOOKGATE_PLAYWRIGHT set, also
the console's first page of events in Chromium (bench/console-render.mjs). JSON lines to --out.
Usage: admin-queries.py --hookgate BIN --store URL [--reps 30] [--out FILE] [--label NAME]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.parse, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--hookgate", required=True)
p.add_argument("--store", required=True)
p.add_argument("--reps", type=int, default=30)
p.add_argument("--out")
p.add_argument("--label", default="store")
a = p.parse_args()

work = tempfile.mkdtemp(prefix="hg-admin-bench-")
open(os.path.join(work, "s.secret"), "w").write("bench-secret")
cfg = f"""
[server]
listen = "127.0.0.1:0"
store = "{a.store}"

[admin]
listen = "127.0.0.1:18381"
tokens_file = "t.toml"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{{ file = "s.secret" }}]

[[source]]
name = "fin"
path = "/webhooks/fin"
scheme = "flinks"
secrets = [{{ file = "s.secret" }}]

[[source]]
name = "partner"
path = "/webhooks/partner"
scheme = "flinks"
secrets = [{{ file = "s.secret" }}]
"""
# No [[target]]: the seeded deliveries stay pending and no worker runs during the measurement.
open(os.path.join(work, "c.toml"), "w").write(cfg)
token = subprocess.run([a.hookgate, "admin", "token", "create", "--tokens-file", os.path.join(work, "t.toml"),
                        "--name", "bench", "--role", "viewer"], check=True, capture_output=True, text=True).stdout.strip()
server = subprocess.Popen([a.hookgate, "serve", "--config", os.path.join(work, "c.toml"), "--no-migrate"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = "http://127.0.0.1:18381"

def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return time.perf_counter() - t, json.loads(body)

for _ in range(200):
    try:
        get("/api/v1/events?limit=1")
        break
    except Exception:
        time.sleep(0.1)

week_ago = int(time.time()) - 7 * 86400
q = urllib.parse.quote
queries = [
    ("source + time, first page", f"/api/v1/events?source=flinks&since={week_ago}&limit=50"),
    ("match on a metadata field (common)", "/api/v1/events?limit=50&match=" + q(json.dumps({"ResponseType": "KYC"}))),
    ("match on a metadata field (one user)", "/api/v1/events?limit=50&match=" + q(json.dumps({"Tag": {"userId": "12345"}}))),
    ("payload match over the newest 100,000", "/api/v1/events?limit=50&match=" + q(json.dumps({"Accounts": {"Balance": {"Current": 99999}}}))),
]
out = open(a.out, "a") if a.out else None
try:
    for name, path in queries:
        get(path)  # warm-up
        times, scanned, items = [], 0, 0
        for _ in range(a.reps):
            dt, page = get(path)
            times.append(dt * 1000)
            scanned, items = page.get("scanned", 0), len(page["items"])
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        rec = {"label": a.label, "query": name, "reps": a.reps, "p50_ms": round(statistics.median(times), 1),
               "p95_ms": round(p95, 1), "max_ms": round(times[-1], 1), "items": items, "scanned": scanned}
        print(f"{a.label:10} {name:42} p50 {rec['p50_ms']:8.1f} ms  p95 {rec['p95_ms']:8.1f} ms  max {rec['max_ms']:8.1f} ms  items {items:3}  scanned {scanned}")
        if out:
            out.write(json.dumps(rec) + "\n")
    # The console's first page of events in a real browser (scripts/test.sh installs what it needs).
    if os.environ.get("HOOKGATE_PLAYWRIGHT"):
        here = os.path.dirname(os.path.abspath(__file__))
        r = subprocess.run(["node", os.path.join(here, "console-render.mjs"), base + "/", token, str(a.reps)],
                           check=True, capture_output=True, text=True)
        rec = {"label": a.label, **json.loads(r.stdout.strip().splitlines()[-1])}
        print(f"{a.label:10} {rec['query']:42} server p50 {rec['server_p50_ms']:6.1f} ms  p95 {rec['server_p95_ms']:6.1f} ms;"
              f"  on screen p50 {rec['shown_p50_ms']} ms  p95 {rec['shown_p95_ms']} ms")
        if out:
            out.write(json.dumps(rec) + "\n")
finally:
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
