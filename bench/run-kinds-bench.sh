#!/usr/bin/env bash
# The gateway's ingest with an Ed25519 (Discord) source against an HMAC (Flinks) source: one
# gateway, the same 1 KiB bodies signed both ways, loaded in turn (flinks, discord, flinks, …) at
# 32 and 128 connections, so the ratio is measured side by side on the same process and disk.
#   bench/run-kinds-bench.sh [--reps 3] [-d 5]
# Every run sends bodies never sent before (a fresh generator seed, more records than a run sends,
# no warm-up, `--resign never` since Ed25519 cannot be re-signed in the harness's Lua), so each
# request is verified and stored, not answered as a duplicate.
# Needs ../shared/bench/setup.sh once (wrk) and Python's `cryptography`. Loopback only.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="$ROOT/../shared/bench"
REPS=3 DUR=5 COUNT=300000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    -d) DUR="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cargo build --release -p hookgate --manifest-path "$ROOT/Cargo.toml"
WORK="$(mktemp -d)"
trap 'kill "${PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export WEBHOOK_SECRET=bench-secret
export DISCORD_PUBLIC_KEY=d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a
OUT="$ROOT/bench/results/$(date -u +%Y-%m-%d)-kinds.jsonl"
"$ROOT/target/release/hookgate" serve --config "$ROOT/bench/hookgate-discord.toml" \
  --listen 127.0.0.1:8200 --store "sqlite://$WORK/hookgate.db" >"$WORK/gateway.log" 2>&1 &
PID=$!
for _ in $(seq 100); do grep -q "Listening" "$WORK/gateway.log" && break; sleep 0.2; done
grep -q "Listening" "$WORK/gateway.log" || { cat "$WORK/gateway.log" >&2; exit 1; }
cd "$BENCH"
seed=0
for rep in $(seq "$REPS"); do
  for conns in 32 128; do
    for kind in flinks discord; do
      seed=$((seed + 1))
      python3 "$BENCH/gen_requests.py" --scheme flinks --count "$COUNT" --size 1k --seed "$seed" \
        --out "$WORK/flinks.dat" >/dev/null
      file="$WORK/flinks.dat"
      if [[ $kind == discord ]]; then
        # Signed now: Discord's timestamps are held to a 5-minute window.
        python3 "$ROOT/bench/discord-requests.py" "$WORK/flinks.dat" "$WORK/discord.dat"
        file="$WORK/discord.dat"
      fi
      ./run.sh --name "hookgate-$kind" --url "http://127.0.0.1:8200/webhooks/$kind" --requests "$file" \
        --resign never -c "$conns" -d "$DUR" --warmup 0 --pid "$PID" --out "$OUT"
    done
  done
done
echo "records: $OUT"
