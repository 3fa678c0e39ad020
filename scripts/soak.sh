#!/usr/bin/env bash
# A bounded soak (server/examples/soak.rs): 10 minutes of mixed traffic (connect and call a tool,
# denied, abandoned until expiry, reconnect, reads) at a fixed rate against a release
# `grantline serve --dev` on loopback, printing the broker's memory and the error count every
# minute. On demand, not in CI. Flags go to the client: --minutes N --rate N --link-ttl-secs N.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --locked -p grantline-server --bin grantline --example soak
exec target/release/examples/soak --grantline target/release/grantline "$@"
