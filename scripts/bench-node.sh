#!/usr/bin/env bash
# Node SDK benchmark: require('grantline') time and RSS beside require('@composio/core')
# (installed into a throwaway folder), and waitForConnection latency after the callback.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSIO=target/bench-composio-node
mkdir -p "$COMPOSIO"
[ -d "$COMPOSIO/node_modules/@composio/core" ] || (cd "$COMPOSIO" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error @composio/core)
cargo build -q --release -p grantline-server --locked
(cd bindings-node && node build.js)
GRANTLINE_BIN="$PWD/target/release/grantline" node bindings-node/bench/bench.js --composio-dir "$PWD/$COMPOSIO" "$@"
