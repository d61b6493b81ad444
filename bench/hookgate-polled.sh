#!/usr/bin/env bash
# A hookgate server for ../shared/bench/anchors.sh with its operator API on 127.0.0.1:18481 and,
# with POLL=1, a client that asks it for the newest page of events every 100 ms for as long as the
# server runs (the "ingest while an operator watches" benchmark). Usage, as anchors.sh passes it:
#   POLL=0|1 bench/hookgate-polled.sh --listen 127.0.0.1:PORT --store sqlite://DB
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR=$(mktemp -d)
listen=$2 store=$4
cat > "$DIR/c.toml" <<TOML
[server]
listen = "$listen"
store = "$store"

[admin]
listen = "127.0.0.1:18481"
tokens_file = "t.toml"

[[source]]
name = "flinks"
path = "/webhooks/flinks"
scheme = "flinks"
secrets = [{ env = "WEBHOOK_SECRET" }]
TOML
token=$("$ROOT/target/release/hookgate" admin token create --tokens-file "$DIR/t.toml" --name bench --role viewer)
if [ "${POLL:-0}" = 1 ]; then
  # Outside the server's process tree (its CPU is the client's, not the server's); it stops
  # once the operator API has been gone for a second, and after 15 minutes at most.
  setsid python3 - "$token" >/dev/null 2>&1 <<'PY' &
import sys, time, urllib.request
token, misses, end = sys.argv[1], 0, time.time() + 900
while time.time() < end and misses < 10:
    try:
        req = urllib.request.Request("http://127.0.0.1:18481/api/v1/events?source=flinks&limit=50",
                                     headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(req, timeout=5).read()
        misses = 0
    except Exception:
        misses += 1
    time.sleep(0.1)
PY
fi
exec "$ROOT/target/release/hookgate" serve --config "$DIR/c.toml"
