#!/usr/bin/env bash
# Store benchmark (issue #5): ingest with the SQLite store, the PostgreSQL store on one node, and
# on two nodes sharing one port (SO_REUSEPORT), interleaved in one session by
# ../shared/bench/anchors.sh, every event committed before the 200 in each case.
#   bench/run-store-bench.sh [--reps 3] [-d 10]   (extra args go to anchors.sh)
# Needs ../shared/bench/setup.sh once and PostgreSQL at $HOOKGATE_BENCH_POSTGRES_URL
# (postgres://postgres@127.0.0.1:5432/test). Loopback only, bounded runs; the bench schemas
# (hg_bench_*) are dropped at the start and the end.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/../shared/bench"
BASE="${HOOKGATE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
drop_bench_schemas() {
  psql "$BASE" -Atc "SELECT 'DROP SCHEMA ' || nspname || ' CASCADE;' FROM pg_namespace WHERE nspname LIKE 'hg_bench_%'" \
    | psql "$BASE" -q >/dev/null
}
cargo build --release -p hookgate --manifest-path "$ROOT/Cargo.toml"
drop_bench_schemas
trap drop_bench_schemas EXIT
DB="$(mktemp -d)/hookgate-bench.db"
OUT="$BENCH/out/store-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
cd "$BENCH"
./anchors.sh --sizes "1k 16k" --conns "32 128" --out "$OUT" --only 'hookgate' \
  --server "hookgate-sqlite|/webhooks/flinks|flinks|$ROOT/target/release/hookgate serve --config $ROOT/bench/hookgate.toml --listen 127.0.0.1:PORT --store sqlite://$DB" \
  --server "hookgate-pg-1node|/webhooks/flinks|flinks|$ROOT/bench/pg-nodes.sh 1 127.0.0.1:PORT" \
  --server "hookgate-pg-2nodes|/webhooks/flinks|flinks|$ROOT/bench/pg-nodes.sh 2 127.0.0.1:PORT" \
  "$@"
python3 lib/report.py summary "$OUT"
