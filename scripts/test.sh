#!/usr/bin/env bash
# The test command (README "Set up"): doctests, then every unit, integration, property, CLI,
# crash, fault and multi-node test under nextest.
#
# Tests that need something this machine may lack never pass without running. Under CI=true they
# all run (and fail when what they need is missing). Otherwise this script looks first and
# excludes what cannot run, saying which tests and why, on a line of its own:
#   - PostgreSQL at HOOKGATE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test):
#     the conformance suite's `postgres::` half, the `postgres`, `postgres_tls` (private servers
#     of its own, from /usr/lib/postgresql) and `multinode` binaries;
#   - NATS at HOOKGATE_TEST_NATS_URL (default nats://127.0.0.1:4222): tests named `nats`;
#   - root (mounting a tmpfs, files another user cannot write): tests named `as_root_`.
# Installs what the tests use when missing: cargo-nextest, openssl (a self-signed certificate),
# promtool (Debian's prometheus package: the alert rules in deploy/ are checked with it),
# schemathesis (PyPI, in target/schemathesis: the operator API is checked against its OpenAPI),
# and for the console's browser test Debian's chromium, node, and playwright-core (npm, pinned by
# crates/cli/tests/console/package-lock.json, in target/console-node).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "test.sh: installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# schemathesis, in a virtual environment of its own (never the system's Python packages).
st_venv=target/schemathesis
if [ ! -x "$st_venv/bin/schemathesis" ]; then
  echo "test.sh: installing schemathesis into $st_venv" >&2
  python3 -m venv "$st_venv" && "$st_venv/bin/pip" install -q 'schemathesis>=4.3,<5' >&2 || echo "test.sh: cannot install schemathesis" >&2
fi
if [ -x "$st_venv/bin/schemathesis" ]; then
  export HOOKGATE_SCHEMATHESIS="$PWD/$st_venv/bin/schemathesis"
fi

# playwright-core, from the lock file, in a folder of its own.
pw_dir=target/console-node
if [ ! -f "$pw_dir/node_modules/playwright-core/package.json" ] && command -v npm >/dev/null 2>&1; then
  echo "test.sh: installing playwright-core into $pw_dir" >&2
  mkdir -p "$pw_dir" && cp crates/cli/tests/console/package.json crates/cli/tests/console/package-lock.json "$pw_dir/" \
    && npm ci --prefix "$pw_dir" --no-audit --no-fund --loglevel=error >&2 || echo "test.sh: cannot install playwright-core" >&2
fi
if [ -f "$pw_dir/node_modules/playwright-core/package.json" ] && [ -x /usr/bin/chromium ]; then
  export HOOKGATE_PLAYWRIGHT="$PWD/$pw_dir/node_modules/playwright-core"
fi

# host:port of a URL like scheme://[user@]host:port/...
host_port() { sed -E 's#^[a-z]+://([^@/]*@)?([^/?]+).*#\2#' <<<"$1"; }
reachable() {
  local hp host port
  hp=$(host_port "$1"); host=${hp%:*}; port=${hp##*:}
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

excluded=()
if [ "${CI:-}" != "true" ]; then
  pg=${HOOKGATE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  nats=${HOOKGATE_TEST_NATS_URL:-nats://127.0.0.1:4222}
  if ! reachable "$pg"; then
    echo "test.sh: PostgreSQL is unreachable at $pg: excluding its tests (test(/^postgres::/), binary(=postgres), binary(=postgres_tls), binary(=multinode)); set HOOKGATE_TEST_POSTGRES_URL" >&2
    excluded+=("test(/^postgres::/) | binary(=postgres) | binary(=postgres_tls) | binary(=multinode)")
  fi
  if ! reachable "$nats"; then
    echo "test.sh: NATS is unreachable at $nats: excluding its tests (test(/nats/)); set HOOKGATE_TEST_NATS_URL" >&2
    excluded+=("test(/nats/)")
  fi
  if ! command -v promtool >/dev/null 2>&1; then
    echo "test.sh: promtool is missing (apt-get install prometheus): excluding test(/promtool/)" >&2
    excluded+=("test(/promtool/)")
  fi
  if [ -z "${HOOKGATE_SCHEMATHESIS:-}" ]; then
    echo "test.sh: schemathesis is missing (pip install schemathesis): excluding test(/schemathesis/)" >&2
    excluded+=("test(/schemathesis/)")
  fi
  if [ -z "${HOOKGATE_PLAYWRIGHT:-}" ]; then
    echo "test.sh: chromium or playwright-core is missing: excluding test(/real_browser/)" >&2
    excluded+=("test(/real_browser/)")
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "test.sh: not root: excluding the tests that need it (test(/as_root_/): a tmpfs, files another user cannot write)" >&2
    excluded+=("test(/as_root_/)")
  fi
fi
filter=()
if [ ${#excluded[@]} -gt 0 ]; then
  joined=$(printf ' | %s' "${excluded[@]}")
  filter=(-E "not (${joined:3})")
fi

# The console's pure helpers (format.js: JSON shown as received, times, a link's filters), under
# Node's own test runner (no packages). The files are named, not their folder: Node 21+ takes a
# folder argument for a test file. Under CI=true node must be here (installed above with npm).
console_unit=(crates/server/src/console/assets/*.test.mjs)
if command -v node >/dev/null 2>&1; then
  node --test "${console_unit[@]}" || { echo "test.sh: the console's unit tests failed (node --test ${console_unit[*]})" >&2; exit 1; }
elif [ "${CI:-}" = "true" ]; then
  echo "test.sh: node is missing: cannot run the console's unit tests (${console_unit[*]})" >&2
  exit 1
else
  echo "test.sh: node is missing (apt-get install nodejs): skipping the console's unit tests (${console_unit[*]})" >&2
fi

# Doctests first: nextest does not run them, and its summary should be the run's closing line.
cargo test --workspace --all-features --doc
cargo nextest run --workspace --all-features --no-fail-fast "${filter[@]}"
