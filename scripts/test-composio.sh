#!/usr/bin/env bash
# Composio compatibility: apps written with Composio's official SDKs (`composio` on PyPI,
# `@composio/core` on npm) must work unchanged against a Grantline broker, given only its base
# URL and an API key. Installs both SDKs at pinned versions into throwaway places under target/,
# builds the broker, and runs tests/composio/python (pytest) and tests/composio/node (node --test)
# against real `grantline serve` processes, npm's oidc-provider and the dev sandbox.
# Nothing leaves the machine: tracking is off in every client, the SDKs' telemetry and version
# checks are disabled, and the suites fail any test that tries to reach a non-loopback host.
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSIO_PY=0.30.0           # the official Python SDK
COMPOSIO_CLIENT_PY=2.0.0rc19 # the API client it requires
STANDARDWEBHOOKS_PY=1.3.0    # a Standard Webhooks receiver's verifier (tests/composio/python/test_webhooks.py)
COMPOSIO_NODE=0.21.0         # the official Node SDK (newest stable on the registry)
# @composio/core 0.21.0 depends on @composio/client 2.0.0-rc.8, which the npm registry reachable
# here does not serve; rc.6 is the nearest published one, pinned through `overrides`.
COMPOSIO_CLIENT_NODE=2.0.0-rc.6

VENV=target/composio-venv
NODE_DIR=target/composio-node

# --- the Python SDK ------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" 2>/dev/null || {
    echo "test-composio: installing python3-venv from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  }
fi
"$VENV/bin/pip" install -q --disable-pip-version-check \
  "composio==$COMPOSIO_PY" "composio_client==$COMPOSIO_CLIENT_PY" "pytest>=8" "standardwebhooks==$STANDARDWEBHOOKS_PY"

# --- the Node SDK --------------------------------------------------------------------------
mkdir -p "$NODE_DIR"
cat > "$NODE_DIR/package.json" <<EOF
{
  "name": "composio-compat-sdk",
  "private": true,
  "type": "module",
  "dependencies": { "@composio/core": "$COMPOSIO_NODE" },
  "overrides": { "@composio/client": "$COMPOSIO_CLIENT_NODE" }
}
EOF
installed=$(node -p "try { require('./$NODE_DIR/node_modules/@composio/core/package.json').version } catch { '' }")
if [ "$installed" != "$COMPOSIO_NODE" ]; then
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error)
fi

# --- the broker and the OAuth provider -----------------------------------------------------
cargo build -q -p grantline-server --locked
[ -d tests/oidc-provider/node_modules/oidc-provider ] || (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)

# --- no telemetry, no caches outside a temp dir --------------------------------------------
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export GRANTLINE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline"
export HOME="$scratch/home" COMPOSIO_CACHE_DIR="$scratch/composio-cache"   # ~/.composio of both SDKs
export TELEMETRY_DISABLED=true NODE_ENV=test                                # Node SDK telemetry
export COMPOSIO_LOGGING_LEVEL=warning COMPOSIO_LOG_LEVEL=warn
unset COMPOSIO_API_KEY COMPOSIO_BASE_URL COMPOSIO_USER_API_KEY COMPOSIO_ORG_API_KEY
mkdir -p "$HOME" "$COMPOSIO_CACHE_DIR"

status=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/composio/python "$@" || status=$?
COMPOSIO_NODE_DIR="$PWD/$NODE_DIR" node --test tests/composio/node/ || status=$?
exit $status
