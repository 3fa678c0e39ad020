#!/usr/bin/env bash
# Browser benchmark: @grantline/web's download size beside @nangohq/frontend's, and click →
# popup → Connect Link timing in Chromium. Same set-up as the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_TESTS=1 bash scripts/test-browser.sh
node tests/browser/bench.mjs
