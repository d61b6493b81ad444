#!/usr/bin/env bash
# Operator API query latency with a large store: seeds N events (default 1,000,000) into a fresh
# SQLite file and, when PostgreSQL is reachable, a fresh schema, then times the API's queries.
#   bench/run-admin-bench.sh [N] [--reps 30]
# Loopback only; the seeding and every query are bounded.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N=${1:-1000000}
shift || true
cargo build --release -p hookgate --manifest-path "$ROOT/Cargo.toml"
cargo build --release -p hookgate-store --example seed --manifest-path "$ROOT/Cargo.toml"
BIN="$ROOT/target/release"
OUT="$ROOT/bench/results/admin-queries-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
DIR=$(mktemp -d)
echo "seeding $N events into sqlite://$DIR/h.db" >&2
time "$BIN/examples/seed" "sqlite://$DIR/h.db" "$N"
python3 "$ROOT/bench/admin-queries.py" --hookgate "$BIN/hookgate" --store "sqlite://$DIR/h.db" --label sqlite --out "$OUT" "$@"
PG=${HOOKGATE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/5432" 2>/dev/null; then
  SCHEMA="hg_admin_bench_$$"
  echo "seeding $N events into $PG schema $SCHEMA" >&2
  time "$BIN/examples/seed" "$PG?schema=$SCHEMA" "$N"
  # What autovacuum does to a table that grew by a million rows within its first minute: the
  # planner's statistics (the metadata index's plan choice depends on them).
  psql "$PG" -qc "ANALYZE $SCHEMA.events"
  python3 "$ROOT/bench/admin-queries.py" --hookgate "$BIN/hookgate" --store "$PG?schema=$SCHEMA" --label postgres --out "$OUT" "$@"
  psql "$PG" -qc "DROP SCHEMA $SCHEMA CASCADE" >/dev/null
fi
rm -rf "$DIR"
echo "results: $OUT" >&2
