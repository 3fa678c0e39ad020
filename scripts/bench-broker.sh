#!/usr/bin/env bash
# Broker benchmark, in one run: authorize req/s and p50/p99 beside /healthz (wrk), the broker's
# RSS with 10,000 open /wait long-polls (per waiter), and /wait wake latency after a callback.
# Against a release `grantline serve --dev` on loopback; run on demand, not in CI.
# Flags go to the client: --waiters N --flows N --seconds N --connections N --threads N.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y wrk >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; }
fi

# One file descriptor per open wait, in the broker and in the client (both inherit this limit).
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] && hard=65536
ulimit -n "$hard"

cargo build -q --release --locked -p grantline-server --bin grantline --example bench_broker
exec target/release/examples/bench_broker --grantline target/release/grantline "$@"
