#!/usr/bin/env bash
# The test command (README "Set up"): every unit, integration, property and CLI test, then doctests.
# Installs cargo-nextest if this machine lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --all-features --no-fail-fast
cargo test --workspace --all-features --doc
