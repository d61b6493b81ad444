#!/usr/bin/env python3
"""The stalled-upload attack of issue #12, item 11, against `hookgate serve` on loopback.

Opens CONNS connections that each declare a 1 MiB body, send all of it but the last byte, and
stall; samples the server's resident memory (VmRSS, VmHWM) idle, while they stall, and after
they close. Bounded: one round of CONNS connections, a few seconds. Prints one JSON line.

    bench/stalled-uploads.py --bin target/release/hookgate [--conns 200] [--label NAME]
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def sample(pid):
    return {"rss_mib": round(status_kib(pid, "VmRSS") / 1024, 1), "hwm_mib": round(status_kib(pid, "VmHWM") / 1024, 1)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True)
    p.add_argument("--conns", type=int, default=200)
    p.add_argument("--size", type=int, default=1024 * 1024)
    p.add_argument("--label", default="hookgate")
    p.add_argument("--extra-server", default="", help="TOML lines added to [server]")
    a = p.parse_args()

    d = tempfile.mkdtemp(prefix="hookgate-stalled-")
    with open(os.path.join(d, "s.secret"), "w") as f:
        f.write("stalled-secret")
    cfg = os.path.join(d, "hookgate.toml")
    with open(cfg, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:0"\nstore = "sqlite://{d}/hookgate.db"\n{a.extra_server}\n\n'
            '[[source]]\nname = "flinks"\npath = "/webhooks/flinks"\nscheme = "flinks"\n'
            f'secrets = [{{ file = "s.secret" }}]\nbody_limit = {a.size}\n'
        )
    proc = subprocess.Popen([a.bin, "serve", "--config", cfg], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    addr = None
    for line in proc.stderr:
        if "addr=" in line:
            addr = line.split("addr=")[1].split()[0]
            break
    if addr is None:
        sys.exit("hookgate serve did not start")
    host, port = addr.rsplit(":", 1)
    time.sleep(0.5)
    idle = sample(proc.pid)

    body = b"{" + b" " * (a.size - 2)  # all but the last byte
    socks, answered = [], 0
    for _ in range(a.conns):
        s = socket.create_connection((host, int(port)))
        s.sendall(f"POST /webhooks/flinks HTTP/1.1\r\nHost: x\r\nContent-Length: {a.size}\r\n\r\n".encode())
        s.setblocking(False)
        try:
            s.sendall(body)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading (503 sent, or a full socket buffer)
        socks.append(s)
    time.sleep(2.0)
    for s in socks:
        try:
            if s.recv(64).startswith(b"HTTP/1.1 503"):
                answered += 1
        except (BlockingIOError, ConnectionResetError):
            pass
    during = sample(proc.pid)
    for s in socks:
        s.close()
    time.sleep(2.0)
    after = sample(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    print(json.dumps({"label": a.label, "conns": a.conns, "size": a.size, "answered_503": answered,
                      "idle": idle, "stalled": during, "after_close": after}))


if __name__ == "__main__":
    main()
