#!/usr/bin/env bash
# The verification benchmark beside OpenSSL on the same machine, in one run.
#   scripts/bench-verify.sh            # criterion (flinks_verify) then openssl speed
# Prints criterion's estimates and OpenSSL's HMAC-SHA256 throughput at 1 KiB and 16 KiB; run it on
# an otherwise idle machine (nothing else building) and compare the MB/s columns.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p hookgate-verify --bench verify -- --warm-up-time 2 --measurement-time 8 2>&1 \
  | grep -E "^flinks_verify|time:|thrpt:"
echo "--- openssl speed -hmac sha256 (bytes: 1024, 16384)"
openssl speed -hmac sha256 -bytes 1024 -seconds 5 2>/dev/null | tail -1
openssl speed -hmac sha256 -bytes 16384 -seconds 5 2>/dev/null | tail -1
