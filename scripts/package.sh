#!/usr/bin/env bash
# Builds every installable artifact of this platform into dist/, each from one release build:
#   grantline-*.whl + grantline-*.tar.gz   the Python SDK (maturin --zig: abi3, manylinux, checked
#                                          with `auditwheel show`) and its sdist
#   grantline_server-*.whl                 the broker binary as a wheel (packaging/pypi-server)
#   grantline-*.tgz, grantline-<platform>-*.tgz
#                                          the Node SDK in napi-rs's layout: the main package names
#                                          one package per platform carrying the prebuilt .node
#   grantline-server-*.tgz, grantline-server-<os>-<cpu>-*.tgz
#                                          @grantline/server: a JS launcher and the platform's package
#                                          carrying the binary (the same binary as the wheel's)
# and prints each one's size. scripts/test-packages.sh installs them without a Rust toolchain.
# Installs what is missing (maturin, ziglang and auditwheel into a venv, the napi CLI into a scratch
# npm project, both under the cargo target directory).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=$ROOT/dist

command -v cargo >/dev/null || { echo "package.sh: cargo is required (https://rustup.rs)"; exit 1; }
apt_install() {
  echo "package.sh: installing $* from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

case "$(uname -s) $(uname -m)" in
  "Linux x86_64") TRIPLE=x86_64-unknown-linux-gnu NAPI_PLATFORM=linux-x64-gnu OS=linux CPU=x64 ;;
  "Linux aarch64") TRIPLE=aarch64-unknown-linux-gnu NAPI_PLATFORM=linux-arm64-gnu OS=linux CPU=arm64 ;;
  *) echo "package.sh: builds Linux packages; the release workflow builds the others"; exit 1 ;;
esac

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
export CARGO_TARGET_DIR=$TARGET_DIR
STAGE=$TARGET_DIR/package-stage
step_start=0
step() { step_start=$(date +%s); echo "== package: $*"; }
step_done() { echo "   ($(( $(date +%s) - step_start )) s)"; }

# Tools: maturin (>= 1.9.4, the version pyproject.toml asks for), zig (a manylinux-compatible
# linker, from PyPI) and auditwheel in a venv; the napi CLI at bindings-node's pinned version.
TOOLS_VENV=$TARGET_DIR/package-venv
if [ ! -x "$TOOLS_VENV/bin/python" ]; then
  python3 -m venv "$TOOLS_VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$TOOLS_VENV"; }
fi
"$TOOLS_VENV/bin/pip" install -q --disable-pip-version-check "maturin>=1.9.4,<2" "ziglang>=0.13" "auditwheel>=6"
export PATH=$TOOLS_VENV/bin:$PATH
NAPI_CLI=$(node -p "require('./bindings-node/package.json').devDependencies['@napi-rs/cli']")
NODE_TOOLS=$TARGET_DIR/package-tools
if [ "$(node -p "try { require('$NODE_TOOLS/node_modules/@napi-rs/cli/package.json').version } catch { '' }")" != "$NAPI_CLI" ]; then
  mkdir -p "$NODE_TOOLS"
  (cd "$NODE_TOOLS" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && npm install --no-audit --no-fund --loglevel=error "@napi-rs/cli@$NAPI_CLI")
fi
napi() { "$NODE_TOOLS/node_modules/.bin/napi" "$@"; }
# cargo-zigbuild, for `napi build -x`: the addon linked by zig against glibc 2.17, as the wheels are
# (napi's own --use-napi-cross toolchain is not on the registry at the version its CLI asks for).
if [ ! -x "$NODE_TOOLS/cargo/bin/cargo-zigbuild" ]; then
  echo "package.sh: installing cargo-zigbuild (once)"
  CARGO_TARGET_DIR=$TARGET_DIR/cargo-install cargo install -q --locked --root "$NODE_TOOLS/cargo" cargo-zigbuild
fi
ZIG_DIR=$("$TOOLS_VENV/bin/python" -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))')

rm -rf "$DIST" "$STAGE"
mkdir -p "$DIST" "$STAGE"

step "Python SDK wheel (maturin --zig, abi3) and sdist"
maturin build --release --zig --strip --locked -m bindings-py/Cargo.toml --out "$DIST"
maturin sdist -m bindings-py/Cargo.toml --out "$DIST"
step_done

step "grantline-server wheel (the broker binary, packaging/pypi-server)"
(cd packaging/pypi-server && maturin build --release --zig --strip --locked --out "$DIST")
step_done

# Each wheel must carry the manylinux tag auditwheel finds its binaries consistent with.
for whl in "$DIST"/*.whl; do
  tag=$(auditwheel show "$whl" | tr -d '\n' | sed -n 's/.*consistent with the following platform tag: *"\([^"]*\)".*/\1/p')
  case "$(basename "$whl")" in
    *"$tag"*) echo "auditwheel: $(basename "$whl") is $tag" ;;
    *) echo "package.sh: auditwheel finds $(basename "$whl") consistent with '${tag:-nothing}', not its own tag"; exit 1 ;;
  esac
done

# The broker binary, taken out of the wheel: the npm package carries the very same file.
BIN_DIR=$STAGE/bin
python3 - "$DIST"/grantline_server-*.whl "$BIN_DIR" <<'EOF'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    [name] = [n for n in z.namelist() if n.split("/")[-2:-1] == ["scripts"] and n.split("/")[-1] in ("grantline", "grantline.exe")]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, os.path.basename(name))
    with open(path, "wb") as f:
        f.write(z.read(name))
    os.chmod(path, 0o755)
EOF

step "Node SDK: grantline + grantline-$NAPI_PLATFORM (napi build -x: cargo-zigbuild, glibc 2.17)"
SDK=$STAGE/node-sdk
mkdir -p "$SDK"
cp bindings-node/package.json "$SDK/"
napi create-npm-dirs --cwd "$SDK" --npm-dir npm >/dev/null
node packaging/npm/stage.js sdk "$SDK"
# Its own target directory: cargo-zigbuild's zig wrapper differs from maturin's, and sharing one
# directory would make each rebuild the other's dependencies on every run.
PATH="$NODE_TOOLS/cargo/bin:$ZIG_DIR:$PATH" napi build --manifest-path "$ROOT/bindings-node/Cargo.toml" \
  --target-dir "$TARGET_DIR/napi" --package-json-path "$SDK/package.json" --target "$TRIPLE.2.17" -x \
  --platform --release --strip \
  --output-dir "$SDK" --js native.js --dts native.d.ts
mv "$SDK/grantline.$NAPI_PLATFORM.node" "$SDK/npm/$NAPI_PLATFORM/"
for dir in "$SDK" "$SDK/npm/$NAPI_PLATFORM"; do
  [ -f "$ROOT/LICENSE" ] && cp "$ROOT/LICENSE" "$dir/"
  (cd "$dir" && npm pack --silent --pack-destination "$DIST" >/dev/null)
done
step_done

step "@grantline/server + @grantline/server-$OS-$CPU (the wheel's binary)"
node packaging/npm/stage.js server "$STAGE/server"
node packaging/npm/stage.js server-platform "$STAGE/server-$OS-$CPU" "$OS" "$CPU" "$BIN_DIR/grantline"
for dir in "$STAGE/server" "$STAGE/server-$OS-$CPU"; do
  (cd "$dir" && npm pack --silent --pack-destination "$DIST" >/dev/null)
done
step_done

echo "== package: dist/"
python3 - "$DIST" "$BIN_DIR/grantline" <<'EOF'
import os, sys
dist, binary = sys.argv[1], sys.argv[2]
mb = lambda n: f"{n / 1e6:6.2f} MB"
for name in sorted(os.listdir(dist)):
    print(f"  {mb(os.path.getsize(os.path.join(dist, name)))}  {name}")
print(f"  (the broker binary itself: {mb(os.path.getsize(binary)).strip()} unpacked)")
EOF
