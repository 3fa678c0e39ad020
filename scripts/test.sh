#!/usr/bin/env bash
# Runs every test: Rust unit and HTTP tests (real SQLite files and a real PostgreSQL server: the
# store conformance suite on both, three brokers on one database), the broker against its OpenAPI
# document (schemathesis), the end-to-end test against
# npm's oidc-provider, the Python SDK's pytest suite, the Node SDK's node --test suite, and the
# browser SDK (@grantline/web, wasm) with the onboarding-widget example in Chromium, and Composio's
# official Python and Node SDKs unchanged against the broker, and every package (wheels, npm
# tarballs) installed and run with no Rust toolchain on the PATH. Installs whatever is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  echo "test.sh: installing $* from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v cargo >/dev/null || { echo "test.sh: cargo is required (https://rustup.rs)"; exit 1; }

# PostgreSQL, for the scale-out store: everything below runs inside a private cluster that
# pg_virtualenv (postgresql-common) starts on a free port and removes when the tests end.
if [ -z "${GRANTLINE_TEST_POSTGRES_URL:-}" ]; then
  { command -v pg_virtualenv && command -v psql; } >/dev/null || apt_install postgresql postgresql-client postgresql-common
  # A cluster left behind by a run that was killed would make pg_virtualenv refuse to start.
  if pg_lsclusters -h 2>/dev/null | awk '$2 == "regress" && $4 == "down" {found=1} END {exit !found}'; then
    pg_lsclusters -h | awk '$2 == "regress" {print $1}' | while read -r v; do pg_dropcluster "$v" regress; done
  fi
  exec pg_virtualenv -- bash -c 'export GRANTLINE_TEST_POSTGRES_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE"
    export GRANTLINE_REQUIRE_POSTGRES=1; exec bash "$0"' "$0"
fi
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

# The OAuth provider the end-to-end test talks to: npm's oidc-provider, pinned by the lock file.
if [ ! -d tests/oidc-provider/node_modules/oidc-provider ]; then
  (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== oidc-provider harness self-test"
(cd tests/oidc-provider && node selftest.mjs 2>/dev/null)

echo "== generated error classes (Python, Node, browser) match core/src/error/kinds.rs"
cargo run -q -p xtask --locked -- check-errors

echo "== one version for every crate and package (Cargo.toml's, copied by scripts/set-version.sh)"
bash scripts/set-version.sh --check

echo "== cargo test (workspace)"
cargo test --workspace --locked
bash scripts/test-openapi.sh

echo "== Python SDK: pip install ./bindings-py, then pytest against a real broker"
bash scripts/test-python.sh

echo "== Node SDK: npm install ./bindings-node, then node --test against a real broker"
bash scripts/test-node.sh

echo "== Browser SDK: build @grantline/web (wasm), then the onboarding widget in Chromium"
bash scripts/test-browser.sh

echo "== Python and Node SDK suites again (the packages installed above), against brokers on PostgreSQL"
export GRANTLINE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline"
GRANTLINE_TEST_DATABASE=postgres target/py-venv/bin/python -m pytest -q bindings-py/tests
GRANTLINE_TEST_DATABASE=postgres node --test bindings-node/test/

echo "== Composio's official SDKs (composio, @composio/core), unchanged, against the broker"
bash scripts/test-composio.sh

echo "== MCP clients that log in: the official TypeScript MCP SDK, given only a session's MCP URL"
bash scripts/test-mcp-clients.sh

# Release builds of every package: from cold they take longer than the rest of this script on a
# 2-core machine, so they run on demand (GRANTLINE_PACKAGES=1, or scripts/test-packages.sh).
if [ -n "${GRANTLINE_PACKAGES:-}" ]; then
  echo "== Packages: scripts/package.sh into dist/, installed with no cargo on the PATH, the quickstarts against the installed broker"
  bash scripts/test-packages.sh
fi
