#!/usr/bin/env python3
"""Steady-rate load: signed, distinct Flinks webhooks at a fixed rate (loopback only, bounded).

    paced.py URL RATE SECONDS   (secret from WEBHOOK_SECRET)

Prints the count of 2xx answers. Each of 8 threads keeps one connection and sends on a fixed
schedule, so the rate does not depend on how fast the server answers (no coordinated omission
while the server keeps up)."""
import base64, hashlib, hmac, http.client, json, os, sys, threading, time, urllib.parse

url, rate, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
u = urllib.parse.urlparse(url)
assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
secret = os.environ.get("WEBHOOK_SECRET", "bench-secret").encode()
threads, ok, lock = 8, [0], threading.Lock()
start = time.monotonic() + 0.2

def worker(k):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    period = threads / rate
    n = int(seconds * rate / threads)
    for i in range(n):
        due = start + k * period / threads + i * period
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"RequestId": f"paced-{os.getpid()}-{k}-{i}", "ResponseType": "KYC",
                           "Tag": "userId=1,session=x", "Memo": "x" * 800}).encode()
        sig = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
        conn.request("POST", u.path, body, {"X-Flinks-Signature": sig, "Content-Type": "application/json"})
        r = conn.getresponse(); r.read()
        if 200 <= r.status < 300:
            with lock:
                ok[0] += 1

ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(ok[0])
