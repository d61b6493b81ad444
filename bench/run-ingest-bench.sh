#!/usr/bin/env bash
# Ingest benchmark: hookgate (durable SQLite store) against the vendor guides' Express and Flask
# receivers, interleaved in one session by ../shared/bench/anchors.sh. Also the library alone
# (bench/verify-only.sh: HTTP + verification, nothing stored), to size the part that is not storage.
#   bench/run-ingest-bench.sh [--reps 3] [-d 10]   (extra args go to anchors.sh)
# Needs ../shared/bench/setup.sh once (wrk, flask/gunicorn, express). Loopback only, bounded runs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/../shared/bench"
cargo build --release -p hookgate --manifest-path "$ROOT/Cargo.toml"
cargo build --release -p hookgate-axum --example flinks_receiver --manifest-path "$ROOT/Cargo.toml"
DB="$(mktemp -d)/hookgate-bench.db"
OUT="$BENCH/out/ingest-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
cd "$BENCH"
exec ./anchors.sh --sizes "1k 16k" --conns "32 128" --out "$OUT" \
  --only 'express-flinks-1proc|flask-gunicorn-sync-w2|hookgate|verify-only' \
  --server "verify-only-axum|/webhook|flinks|$ROOT/bench/verify-only.sh" \
  --server "hookgate-sqlite|/webhooks/flinks|flinks|$ROOT/target/release/hookgate serve --config $ROOT/bench/hookgate.toml --listen 127.0.0.1:PORT --store sqlite://$DB" \
  "$@"
