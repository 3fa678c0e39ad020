#!/usr/bin/env bash
# Fuzzes the parsers and builders that take outside input (the `fuzz/` crate: callback URLs and
# their allow-list, CORS origins, cursors, tool arguments and path segments, SDK options) with
# cargo-fuzz and libFuzzer, each for FUZZ_SECONDS (default 60), and prints executions and crashes
# per target. On demand, not in CI. Debian's or rustup's stable compiler works: RUSTC_BOOTSTRAP=1
# lets it take the nightly flags cargo-fuzz passes. FUZZ_SANITIZER=address for ASan (slower).
# Usage: scripts/fuzz.sh [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH" RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || { echo "fuzz: installing cargo-fuzz (a few minutes, once)"; cargo install -q cargo-fuzz --locked; }
seconds=${FUZZ_SECONDS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)

crashed=0
printf '%-16s %14s %10s %8s\n' target executions exec/s crashes
for t in "${targets[@]}"; do
  log=$(mktemp)
  status=0
  cargo fuzz run --fuzz-dir fuzz --sanitizer "$sanitizer" "$t" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
  printf '%-16s %14s %10s %8s\n' "$t" "${runs:-?}" "${rate:-?}" "$crashes"
  if [ "$status" -ne 0 ]; then
    crashed=1
    echo "fuzz: $t stopped with status $status; its log:" && tail -30 "$log"
  fi
  rm -f "$log"
done
exit "$crashed"
