#!/usr/bin/env bash
# Starts N hookgate nodes on one address (SO_REUSEPORT) sharing a fresh PostgreSQL schema, for the
# load harness; SIGTERM stops them all gracefully.
#   bench/pg-nodes.sh N 127.0.0.1:PORT
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
N="$1" LISTEN="$2"
BASE="${HOOKGATE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
STORE="$BASE?schema=hg_bench_$(date +%s)_$$"
BIN="$ROOT/target/release/hookgate"
# Migrate once, so the nodes start on a ready schema.
"$BIN" migrate --store "$STORE" >/dev/null
pids=()
for _ in $(seq "$N"); do
  "$BIN" serve --config "$ROOT/bench/hookgate-pg.toml" --listen "$LISTEN" --store "$STORE" &
  pids+=("$!")
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait' TERM INT
wait
