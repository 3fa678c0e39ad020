#!/usr/bin/env bash
# Builds the Node SDK's addon as `npm install ./bindings-node` does, checks that a separate
# project can install it and load it from CommonJS and ESM, and runs its `node --test` suite
# against real `grantline serve` processes. Its declarations must pass `tsc --strict`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build -q -p grantline-server --locked
[ -d tests/oidc-provider/node_modules/oidc-provider ] || (cd tests/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)

# The addon from these sources (its install script skips the build when one is already there,
# which in a working copy may be older than the code).
(cd bindings-node && node build.js --force)
# A user's project: `npm install <path>` runs the package's install script (cargo build).
project=$(mktemp -d)
trap 'rm -rf "$project"' EXIT
(cd "$project" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$OLDPWD/bindings-node" \
  && node -e "const g = require('grantline'); if (typeof g.Grantline !== 'function') process.exit(1)" \
  && node --input-type=module -e "import { Grantline, NotFoundError } from 'grantline'; if (!Grantline || !NotFoundError) process.exit(1)")
echo "test-node: npm install ./bindings-node works from another project (CommonJS and ESM)"
bash scripts/check-types.sh node

GRANTLINE_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline" node --test bindings-node/test/
