#!/usr/bin/env bash
# Run the header-parser fuzz target. Usage: fuzz/run.sh [SECONDS] (default 600).
# Stable Rust: no sanitizer (the verify crate forbids unsafe code, so panics and assertion
# failures are what there is to find). Needs `cargo install cargo-fuzz`.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
mkdir -p corpus/header_parsers
exec cargo fuzz run -s none header_parsers corpus/header_parsers seeds/header_parsers -- \
  -max_total_time="$secs" -max_len=8192 -timeout=5 -print_final_stats=1
