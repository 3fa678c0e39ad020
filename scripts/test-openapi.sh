#!/usr/bin/env bash
# The broker against its own contract: schemathesis fuzzes the served /openapi.json (`--checks
# all`: status codes, content types, response schemas, refused bad input, unsupported methods,
# missing auth) against a real `grantline serve --dev` on a temp SQLite file. The long-poll is cut
# to 1 s (`--max-wait-secs 1`) so `/wait` cannot stall the run. schemathesis lives in a throwaway
# venv under target/. Any failure fails the script.
#
# The browser pages (`/link/{token}`, `/oauth/callback`, `/verify/{flow_id}/return`) are documented
# but not fuzzed: any token, `state` or flow id a fuzzer makes up is rightly a 400 or 404 page,
# which schemathesis would count as a schema-valid request rejected.
#
# Callback URLs are pointed at the test project's allow-list (scripts/openapi_hooks.py says why).
#
# One worker: hypothesis reads lambda sources with `ast.parse`, which CPython before 3.11.8 can
# break when two threads do it at once ("AST constructor recursion depth mismatch"); one worker
# costs no time on a 2-core machine that also runs the broker (about 40 s in all).
#
# GRANTLINE_OPENAPI_EXAMPLES (default 25) bounds the examples per operation.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS=4.32.5
VENV=target/schemathesis-venv
EXAMPLES=${GRANTLINE_OPENAPI_EXAMPLES:-25}

if [ ! -x "$VENV/bin/schemathesis" ] || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))')" != "$SCHEMATHESIS" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS"
fi

if [ -n "${GRANTLINE_BIN:-}" ]; then
  bin=$GRANTLINE_BIN
else
  cargo build -q -p grantline-server --locked
  bin=${CARGO_TARGET_DIR:-target}/debug/grantline
fi

scratch=$(mktemp -d)
broker=
cleanup() {
  if [ -n "$broker" ]; then kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
# A test broker (temporary database, one JSON line with its API key); it stops when its stdin
# closes, and this script holds the other end of that pipe until it exits.
mkfifo "$scratch/stdin"
exec 3<>"$scratch/stdin"
"$bin" serve --test --bind "127.0.0.1:$port" --public-url "$url" --max-wait-secs 1 \
  <"$scratch/stdin" >"$scratch/out" 2>"$scratch/err" &
broker=$!

key=
for _ in $(seq 1 100); do
  [ -s "$scratch/out" ] && key=$(head -n 1 "$scratch/out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')
  [ -n "$key" ] && curl -fsS "$url/healthz" >/dev/null 2>&1 && break
  kill -0 "$broker" 2>/dev/null || { cat "$scratch/err" >&2; echo "test-openapi: the broker did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$key" ] || { echo "test-openapi: no line from grantline serve --test" >&2; exit 1; }

# Not fuzzed: the pages a browser walks through (Connect Links, the OAuth callback, user
# verification) and MCP authorization's OAuth endpoints (/mcp/oauth/…), which answer a
# well-formed request carrying an unknown code, token or client with RFC 6749's 400 (so
# "schema-valid means accepted" cannot hold for them); server/tests/mcp_oauth.rs and
# tests/scenarios/bad_input.json cover them. Their metadata documents (/.well-known/…) are fuzzed.
# From the scratch directory, where schemathesis leaves its `.schemathesis/` cache.
venv=$PWD/$VENV
hooks=$PWD/scripts
cd "$scratch"
PYTHONPATH=$hooks SCHEMATHESIS_HOOKS=openapi_hooks "$venv/bin/schemathesis" run "$url/openapi.json" \
  --checks all \
  --exclude-path-regex '^/(link/|oauth/|verify/|mcp/oauth/)' \
  --header "x-api-key: $key" \
  --max-examples "$EXAMPLES" \
  --seed 1 \
  --no-color \
  --suppress-health-check all \
  --request-timeout 10 \
  --workers 1
