#!/usr/bin/env bash
# Delivery benchmark (issue #4): ingest with and without delivery, interleaved, through the
# ../shared/bench harness; end-to-end events/s and delivery latency read from the store.
#   bench/run-delivery-bench.sh [REPS]      (default 3; needs ../shared/bench/setup.sh once)
# Loopback only; every load is bounded (wrk -d 10, paced 10 s).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/../shared/bench"
REPS="${1:-3}"
cargo build --release -q -p hookgate --manifest-path "$ROOT/Cargo.toml"
HG="$ROOT/target/release/hookgate"
export WEBHOOK_SECRET=bench-secret BENCH_TARGET_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
OUT="$BENCH/out/delivery-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
WORK="$(mktemp -d)"
PORT=8300 node "$BENCH/reference/floor_http.js" > "$WORK/target.log" 2>&1 &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true; kill $HG_PID 2>/dev/null || true' EXIT
sleep 1

sql() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute(sys.argv[2]).fetchone()[0])" "$@"; }

start_hg() {  # config db
  "$HG" serve --config "$1" --listen 127.0.0.1:8200 --store "sqlite://$2" > "$WORK/hg.log" 2>&1 &
  HG_PID=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:8200/readyz >/dev/null && return; sleep 0.1; done
  echo "hookgate did not start" >&2; exit 1
}

report() {  # label db
  python3 - "$1" "$2" <<'PY'
import sqlite3, statistics, sys
label, db = sys.argv[1], sys.argv[2]
c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
lat = sorted(r[0] for r in c.execute("SELECT delivered_at - created_at FROM deliveries WHERE status = 'delivered'"))
n_ev = c.execute("SELECT COUNT(*) FROM events").fetchone()[0]
first, last = c.execute("SELECT MIN(created_at), MAX(delivered_at) FROM deliveries").fetchone()
pending = c.execute("SELECT COUNT(*) FROM deliveries WHERE status != 'delivered'").fetchone()[0]
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
e2e = len(lat) / ((last - first) / 1000) if lat and last > first else float("nan")
print(f"{label}: events {n_ev}, delivered {len(lat)}, not delivered {pending}, "
      f"end-to-end {e2e:.0f} events/s, delivery latency p50 {q(0.5)} ms p99 {q(0.99)} ms max {lat[-1] if lat else 'nan'} ms")
PY
}

for rep in $(seq "$REPS"); do
  for mode in ingest-only with-delivery; do
    DB="$WORK/$mode-$rep.db"
    cfg="$ROOT/bench/hookgate.toml"; [[ $mode == with-delivery ]] && cfg="$ROOT/bench/hookgate-deliver.toml"
    start_hg "$cfg" "$DB"
    (cd "$BENCH" && ./run.sh --name "hookgate-$mode" --url http://127.0.0.1:8200/webhooks/flinks --scheme flinks \
        --size 1k -c 32 -d 10 --warmup 0 --runs 1 --pid "$HG_PID" --out "$OUT" 2>&1 | grep -E '\] run ' || true)
    if [[ $mode == with-delivery ]]; then
      # Let the outbox drain (bounded), then read latencies from the store.
      for _ in $(seq 600); do [[ $(sql "$DB" "SELECT COUNT(*) FROM deliveries WHERE status != 'delivered'") == 0 ]] && break; sleep 0.1; done
      report "rep $rep saturation (wrk, 32 conns)" "$DB"
    fi
    kill -TERM "$HG_PID"; wait "$HG_PID" || true
  done
  # Steady rate: 1,000 events/s for 10 s, delivery on.
  DB="$WORK/paced-$rep.db"
  start_hg "$ROOT/bench/hookgate-deliver.toml" "$DB"
  ok=$(python3 "$ROOT/bench/paced.py" http://127.0.0.1:8200/webhooks/flinks 1000 10)
  for _ in $(seq 600); do [[ $(sql "$DB" "SELECT COUNT(*) FROM deliveries WHERE status != 'delivered'") == 0 ]] && break; sleep 0.1; done
  report "rep $rep steady 1000/s ($ok accepted)" "$DB"
  kill -TERM "$HG_PID"; wait "$HG_PID" || true
done
python3 "$BENCH/lib/report.py" summary "$OUT"
rm -rf "$WORK"
