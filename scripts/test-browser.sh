#!/usr/bin/env bash
# The browser tests: builds @grantline/web (wasm) and checks its declarations with tsc, builds the
# broker and the Node SDK the example's backend uses, installs the example, playwright-core and
# Debian's Chromium if missing, then runs tests/browser against real brokers and npm oidc-provider,
# the last suite on the package as npm packs it, bundled by esbuild (bundle.test.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "test-browser: installing chromium from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
bash scripts/build-wasm.sh
bash scripts/check-types.sh web
cargo build -q -p grantline-server
(cd bindings-node && node build.js)
npm_quiet() { npm "$@" --no-audit --no-fund --loglevel=error 2>&1 | grep -v 'nodedir' || true; }
(cd tests/oidc-provider && [ -d node_modules/oidc-provider ] || npm_quiet ci)
(cd tests/browser && [ -d node_modules/playwright-core ] && [ -d node_modules/esbuild ] || npm_quiet ci)
(cd examples/onboarding-widget && npm_quiet install)
[ -n "${SKIP_TESTS:-}" ] || GRANTLINE_BIN="${GRANTLINE_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/grantline}" node --test --test-concurrency=1 tests/browser/widget.test.mjs tests/browser/connect-form.test.mjs \
  tests/browser/dashboard.test.mjs tests/browser/bundle.test.mjs
