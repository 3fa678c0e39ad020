#!/usr/bin/env bash
# Scale-out benchmark, in one run: authorize req/s and p50/p99 on SQLite (1 broker), PostgreSQL
# (1 broker) and PostgreSQL (3 brokers, round-robin client), and /wait wake latency on 3 brokers
# with the waiter on the callback's broker or another. Release brokers on loopback, inside a
# private PostgreSQL cluster (pg_virtualenv). Run on demand, not in CI.
# Flags go to the client: --seconds N --concurrency N --flows N.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! { command -v pg_virtualenv && command -v psql; } >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client postgresql-common >/dev/null
fi
cargo build -q --release --locked -p grantline-server --bin grantline --example bench_scale_out
exec pg_virtualenv -- bash -c 'GRANTLINE_BENCH_POSTGRES_URL="postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$PGDATABASE" \
  target/release/examples/bench_scale_out --grantline target/release/grantline "$@"' bash "$@"
