#!/usr/bin/env bash
# The test command (README "Set up"): doctests, then every unit, integration, property, CLI and
# crash test under nextest.
# Installs cargo-nextest if this machine lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
# Doctests first: nextest does not run them, and its summary should be the run's closing line.
cargo test --workspace --all-features --doc
cargo nextest run --workspace --all-features --no-fail-fast
