#!/usr/bin/env bash
# Ingest under a garbage flood, with rejection diagnosis on and off (issue #17's benchmark).
#
# Half the requests carry a wrong signature (right length and encoding: ../shared/bench
# `--bad-fraction 0.5`), so every one of them fails the full comparison and, with diagnosis on,
# is a candidate for the worst-case diagnosis (no cause found: every variant tried). The source
# keeps rejected bodies in both, so the only difference is [diagnosis] enabled = true | false.
# Rounds interleave the two servers; each run starts a fresh server on a fresh SQLite file.
#
#   bench/diagnosis-flood.sh [--reps 3] [--sizes "1k 16k"] [--conns "32"] [-d 10] [--out FILE]
#   python3 bench/ratios.py FILE --server diag-on --reference diag-off
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/../shared/bench"
REPS=3 SIZES="1k 16k" CONNS="32" DURATION=10 OUT="$ROOT/bench/results/diagnosis-flood.jsonl"
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --conns) CONNS="$2"; shift 2 ;;
    -d) DURATION="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
OUT="$(realpath -m "$OUT")"
BIN="$ROOT/target/release/hookgate"
[ -x "$BIN" ] || { echo "build it first: cargo build --release -p hookgate" >&2; exit 2; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
for mode in on off; do
  enabled=$([ "$mode" = on ] && echo true || echo false)
  cat > "$DIR/$mode.toml" <<TOML
[server]
listen = "127.0.0.1:8200"
store = "sqlite://$DIR/unused.db"

[diagnosis]
enabled = $enabled

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{ env = "WEBHOOK_SECRET" }]
keep_rejected_bodies = true
TOML
done
port=8230
for rep in $(seq 1 "$REPS"); do
  for size in $SIZES; do
    for conns in $CONNS; do
      for mode in on off; do
        port=$((port + 1))
        db="$DIR/$mode-$rep-$size-$conns.db"
        (cd "$BENCH" && ./run.sh --name "diag-$mode" --url "http://127.0.0.1:$port/webhooks/flinks" --scheme flinks \
          --size "$size" --bad-fraction 0.5 -c "$conns" -d "$DURATION" --wait-idle 20 --out "$OUT" \
          -- "$BIN" serve --config "$DIR/$mode.toml" --listen "127.0.0.1:$port" --store "sqlite://$db")
        rm -f "$db" "$db"-*
      done
    done
  done
done
echo "records in $OUT; ratios: python3 bench/ratios.py $OUT --server diag-on --reference diag-off" >&2
