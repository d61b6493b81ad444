#!/usr/bin/env bash
# The verification benchmark beside OpenSSL on the same machine, in one run.
#   scripts/bench-verify.sh            # criterion (flinks_verify, public_key) then openssl speed
# Prints criterion's estimates, OpenSSL's HMAC-SHA256 throughput at 1 KiB and 16 KiB, and
# OpenSSL's Ed25519 and ECDSA P-256 verifications per second; run it on an otherwise idle machine
# (nothing else building) and compare: MB/s for HMAC, 1 / (time per verify) against verify/s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p hookgate-verify --bench verify -- --warm-up-time 2 --measurement-time 8 2>&1 \
  | grep -E "^flinks_verify|^public_key|time:|thrpt:"
echo "--- openssl speed -hmac sha256 (bytes: 1024, 16384)"
openssl speed -hmac sha256 -bytes 1024 -seconds 5 2>/dev/null | tail -1
openssl speed -hmac sha256 -bytes 16384 -seconds 5 2>/dev/null | tail -1
echo "--- openssl speed ed25519 ecdsap256 rsa2048 (verify/s)"
openssl speed -seconds 5 ed25519 ecdsap256 rsa2048 2>/dev/null | grep -E "verify|Ed25519|256 bits ecdsa|rsa 2048"
