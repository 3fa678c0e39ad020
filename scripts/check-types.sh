#!/usr/bin/env bash
# `tsc --noEmit` with `strict` over one JS package's declarations: `node` (bindings-node/*.d.ts)
# or `web` (bindings-wasm/*.d.ts and the pkg/ declarations it re-exports; build pkg/ first).
# TypeScript and @types/node are pinned here and installed once into target/ts-check.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in node | web) ;; *) echo "usage: scripts/check-types.sh node|web" >&2; exit 2 ;; esac

dir=target/ts-check
pins='{ "private": true, "devDependencies": { "typescript": "7.0.2", "@types/node": "20.19.39" } }'
if [ "$(cat "$dir/package.json" 2>/dev/null)" != "$pins" ] || [ ! -x "$dir/node_modules/.bin/tsc" ]; then
  mkdir -p "$dir" && echo "$pins" > "$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
"$dir/node_modules/.bin/tsc" -p "tests/types/$1.tsconfig.json"
echo "check-types: the $1 package's declarations pass tsc --strict"
