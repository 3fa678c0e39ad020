#!/usr/bin/env bash
# Builds the Rust client (grantline-core without the engine) for wasm32-unknown-unknown with
# Debian's toolchain: rustup cannot fetch the wasm32 target here, Debian's rustc-web can.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/rustc ] && /usr/bin/rustc --version 2>/dev/null | grep -q . || need_apt+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src ] || need_apt+=(rust-web-src)
command -v wasm-ld >/dev/null || need_apt+=(lld)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "check-wasm: installing ${need_apt[*]} from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld
# A target dir of its own: Debian's rustc and rustup's must not share build artifacts.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR_WASM:-target/wasm}"
/usr/bin/cargo build --release -p grantline-core --no-default-features \
  --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
echo "check-wasm: grantline-core's client builds for wasm32-unknown-unknown"
