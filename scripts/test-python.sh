#!/usr/bin/env bash
# Builds the Python SDK from source exactly as a user installs it (`pip install ./bindings-py`)
# into a throwaway venv, and runs its pytest suite against real `grantline serve` processes.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/py-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" 2>/dev/null || {
    echo "test-python: installing python3-venv from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
fi
# The official MCP client (pinned: its OAuth support changes between releases), to check the
# session endpoint as agent frameworks reach it, logging in included; mypy
# (pinned: each release adds checks) for stubtest.
"$VENV/bin/pip" install -q --disable-pip-version-check "pytest>=8" "pytest-asyncio>=0.24" "mcp==2.3.0" "mypy==2.4.1"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-py

# The hand-written stub against the built extension: every class, method, signature and default.
"$VENV/bin/python" -m mypy.stubtest grantline._native

# The broker binary the fixtures start, and the OAuth provider they talk to.
cargo build -q -p grantline-server --locked
[ -d tests/oidc-provider/node_modules/oidc-provider ] || (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)

GRANTLINE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline" "$VENV/bin/python" -m pytest -q bindings-py/tests
