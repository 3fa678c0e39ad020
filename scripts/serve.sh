#!/usr/bin/env bash
# Builds the broker and runs it in dev mode (SQLite file ./grantline.db, offline sandbox
# provider), then clicks through the whole Connect Link flow against it and keeps serving.
# Extra arguments go to `grantline serve`, e.g. scripts/serve.sh --bind 127.0.0.1:9911
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "serve.sh: cargo is required (https://rustup.rs)"; exit 1; }
cargo build --release --locked -p grantline-server
exec target/release/grantline serve --dev --demo "$@"
