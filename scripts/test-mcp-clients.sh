#!/usr/bin/env bash
# MCP clients that log in: the official TypeScript MCP SDK (@modelcontextprotocol/sdk, pinned in
# tests/mcp-clients/node/package.json and its lock file), given only a session's MCP URL, logs in
# through the broker's MCP authorization and runs a tool against real `grantline serve`
# processes and npm's oidc-provider. (The official Python client's story is
# bindings-py/tests/test_mcp_oauth.py, run by scripts/test-python.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_DIR=tests/mcp-clients/node
wanted=$(node -p "require('./$NODE_DIR/package.json').dependencies['@modelcontextprotocol/sdk']")
installed=$(node -p "try { require('./$NODE_DIR/node_modules/@modelcontextprotocol/sdk/package.json').version } catch { '' }")
if [ "$installed" != "$wanted" ]; then
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi

cargo build -q -p grantline-server --locked
[ -d tests/oidc-provider/node_modules/oidc-provider ] || (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)

GRANTLINE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline" node --test "$NODE_DIR/"
