#!/bin/sh
# The library alone under the harness: crates/axum/examples/flinks_receiver (axum + hookgate-verify,
# the vendor guide's endpoint: verify, parse ResponseType, log a line; nothing stored). It sizes
# what HTTP and verification cost on this host, apart from the durable store.
# The harness passes HOST, PORT and WEBHOOK_SECRET; the example reads LISTEN and FLINKS_HMAC_SECRET.
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LISTEN="$HOST:$PORT" FLINKS_HMAC_SECRET="$WEBHOOK_SECRET" exec "$ROOT/target/release/examples/flinks_receiver" 2>/dev/null
