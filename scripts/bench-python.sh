#!/usr/bin/env bash
# Python SDK benchmark: import time and RSS of `grantline` beside the public `composio` package
# (installed into a throwaway venv), and wait_for_connection latency after the callback.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=target/py-venv
BENCH_VENV=target/bench-composio-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "pytest>=8"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-py
[ -x "$BENCH_VENV/bin/python" ] || python3 -m venv "$BENCH_VENV"
"$BENCH_VENV/bin/pip" install -q --disable-pip-version-check composio
cargo build -q --release -p grantline-server --locked

GRANTLINE_BIN="$PWD/target/release/grantline" "$VENV/bin/python" bindings-py/bench/bench.py \
  --composio-python "$BENCH_VENV/bin/python" "$@"
